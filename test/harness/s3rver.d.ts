// s3rver 3.7 ships no types; this declares only what the harness uses.
declare module 's3rver' {
  import type { IncomingMessage } from 'node:http';
  import type { AddressInfo } from 'node:net';

  /** The few members of a Koa context the harness touches. */
  interface S3rverContext {
    req: IncomingMessage;
    status: number;
    type: string;
    body: unknown;
  }
  type S3rverMiddleware = (context: S3rverContext, next: () => Promise<void>) => Promise<void> | void;

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

  /** The part of s3rver's filesystem store the harness wraps (atomic-put.ts). */
  interface S3rverStore {
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    putObject(object: { bucket: string; key: string }): Promise<unknown>;
  }

  /** s3rver is a Koa application. */
  class S3rver {
    /** Where it keeps buckets and objects. */
    store: S3rverStore;
    constructor(options?: S3rverOptions);
    /** Koa's middleware list; composed when the server starts, so it can still be changed before `run()`. */
    middleware: S3rverMiddleware[];
    /** Starts the HTTP server; resolves with the address it listens on. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }

  export = S3rver;
}
