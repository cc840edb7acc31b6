import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { formatSize, type ArtifactInfo, type Logger, type SinkInstance, type WrittenObject } from '@backupctl/plugin-api';
import { createS3Client } from './client.js';
import { describeEndpoint, type ResolvedS3Options } from './options.js';
import { planParts } from './part-plan.js';
import { checkBucket, deleteObjects, getObject, listObjects, readJson, writeJson, type S3Bucket } from './store.js';
import { uploadStream } from './upload.js';

/** Metadata documents live at the bucket root, beside the backups, as the reference service keeps them. */
const METADATA_PREFIX = 'metadata/';

/** What the sink needs from its surroundings (a subset of the plugin context). */
export interface S3SinkEnvironment {
  logger: Logger;
  /** Read at each write, so whatever the transforms set is what the object is labelled with (and the source's size estimate). */
  artifact: Pick<ArtifactInfo, 'contentType' | 'expectedSize'>;
}

/** An S3 sink: writes backups as objects under `prefix` and serves them back as a store. */
export function createS3Sink(options: ResolvedS3Options, environment: S3SinkEnvironment): SinkInstance {
  // The client (and with it the AWS SDK, sdk.ts) is made at the first request:
  // a backup's first is its upload, which starts once pg_dump is running.
  let client: S3Client | undefined;
  const endpoint = describeEndpoint(options);
  const bucket = {
    get client(): S3Client {
      return (client ??= createS3Client(options));
    },
    bucket: options.bucket,
    endpoint,
  } satisfies S3Bucket;
  // What a user comparing providers needs to see (--debug); the endpoint holds no credentials (options refuse user:pass@).
  environment.logger.debug(
    `s3: endpoint ${endpoint} (${options.forcePathStyle ? 'path-style' : 'virtual-hosted-style'}), region ${options.region}, ` +
      `bucket ${options.bucket}, checksums ${options.checksums.toLowerCase()}, part size ${options.partSize / (1024 * 1024)} MiB × ${options.queueSize}`,
  );

  return {
    location: options.bucket,
    prefix: options.prefix,

    async write(stream: Readable, name: string, signal: AbortSignal): Promise<WrittenObject> {
      const key = options.prefix + name;
      const { expectedSize } = environment.artifact;
      const plan = planParts({ partSize: options.partSize, queueSize: options.queueSize, expectedSize });
      if (plan.raised) {
        const MiB = 1024 * 1024;
        environment.logger.info(
          `s3: the source expects about ${formatSize(expectedSize ?? 0)}: parts of ${plan.partSize / MiB} MiB, ${plan.queueSize} at a time ` +
            `(~${Math.ceil(plan.memoryBytes / MiB)} MiB of upload buffers at most), so up to ${formatSize(plan.maxBytes)} fit in S3's 10,000 parts`,
        );
      }
      const size = await uploadStream(
        stream,
        {
          client: bucket.client,
          bucket: options.bucket,
          key,
          contentType: environment.artifact.contentType,
          ...(options.storageClass === undefined ? {} : { storageClass: options.storageClass }),
          partSize: plan.partSize,
          queueSize: plan.queueSize,
          ...(expectedSize === undefined ? {} : { expectedSize }),
          logger: environment.logger,
          endpoint,
        },
        signal,
      );
      return { key, size };
    },

    list: (prefix, signal) => listObjects(bucket, prefix, signal),
    get: (key, signal) => getObject(bucket, key, signal),
    delete: (keys, signal) => deleteObjects(bucket, keys, signal),
    readMetadata: (name, signal) => readJson(bucket, METADATA_PREFIX + name, signal),
    writeMetadata: (name, value, signal) => writeJson(bucket, METADATA_PREFIX + name, value, signal),
    deleteMetadata: (names, signal) => deleteObjects(bucket, names.map((name) => METADATA_PREFIX + name), signal),

    check: (): Promise<void> => checkBucket(bucket),
    async close(): Promise<void> {
      client?.destroy();
    },
  };
}
