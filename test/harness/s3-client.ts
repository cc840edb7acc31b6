import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

/** What a test needs to reach the harness's S3 server; plain data, so vitest can pass it to test files. */
export interface S3ConnectionInfo {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Handy operations on the S3 server, for tests and the demo. */
export interface S3Helpers {
  /** A new S3Client configured for the server (path-style, checksums only when required). The caller destroys it. */
  client(): S3Client;
  /** Creates a bucket; the server enforces DNS bucket-name rules (lowercase, digits, hyphens, 3-63 chars). */
  createBucket(name: string): Promise<void>;
  /** Every key in the bucket (under `prefix`, if given), sorted. */
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  getObject(bucket: string, key: string): Promise<Buffer>;
  putObject(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
}

/** An S3Client for `info`. Checksums only when required: s3rver does not know the newer checksum headers. */
export function createS3Client(info: S3ConnectionInfo): S3Client {
  return new S3Client({
    endpoint: info.endpoint,
    region: info.region,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Builds the helper operations from connection info; they share one lazily made client. */
export function s3Helpers(info: S3ConnectionInfo): S3Helpers & { destroy(): void } {
  let shared: S3Client | undefined;
  const s3 = (): S3Client => (shared ??= createS3Client(info));

  return {
    client: () => createS3Client(info),
    createBucket: async (name) => {
      await s3().send(new CreateBucketCommand({ Bucket: name }));
    },
    listKeys: async (bucket, prefix) => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    getObject: async (bucket, key) => {
      const response = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new Error(`GetObject ${bucket}/${key} returned no body`);
      return Buffer.from(await response.Body.transformToByteArray());
    },
    putObject: async (bucket, key, body) => {
      await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    destroy: () => {
      shared?.destroy();
      shared = undefined;
    },
  };
}
