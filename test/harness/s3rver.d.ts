// s3rver 3.7 ships no types; this declares only what the harness uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    /** 0 picks a free port; `run()` reports it. */
    port?: number;
    /** Where buckets and objects are stored on disk. */
    directory?: string;
    /** No request log on the console. */
    silent?: boolean;
    /** Delete everything in `directory` on close. */
    resetOnClose?: boolean;
    /** Route `bucket.host` requests to the bucket (on by default). */
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    /** Starts the HTTP server; resolves with the address it listens on. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }

  export = S3rver;
}
