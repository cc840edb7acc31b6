import type { Readable } from 'node:stream';
import type { ArtifactInfo, Logger, SinkInstance, WrittenObject } from '@backupctl/runner';
import { createS3Client } from './client.js';
import { describeEndpoint, type ResolvedS3Options } from './options.js';
import { checkBucket, deleteObjects, getObject, listObjects, readJson, writeJson, type S3Bucket } from './store.js';
import { uploadStream } from './upload.js';

/** Metadata documents live at the bucket root, beside the backups, as the reference service keeps them. */
const METADATA_PREFIX = 'metadata/';

/** What the sink needs from its surroundings (a subset of the plugin context). */
export interface S3SinkEnvironment {
  logger: Logger;
  /** Read at each write, so whatever the transforms set is what the object is labelled with. */
  artifact: Pick<ArtifactInfo, 'contentType'>;
}

/** An S3 sink: writes backups as objects under `prefix` and serves them back as a store. */
export function createS3Sink(options: ResolvedS3Options, environment: S3SinkEnvironment): SinkInstance {
  const client = createS3Client(options);
  const endpoint = describeEndpoint(options);
  const bucket: S3Bucket = { client, bucket: options.bucket, endpoint };

  return {
    location: options.bucket,
    prefix: options.prefix,

    async write(stream: Readable, name: string, signal: AbortSignal): Promise<WrittenObject> {
      const key = options.prefix + name;
      const size = await uploadStream(
        stream,
        {
          client,
          bucket: options.bucket,
          key,
          contentType: environment.artifact.contentType,
          ...(options.storageClass === undefined ? {} : { storageClass: options.storageClass }),
          partSize: options.partSize,
          queueSize: options.queueSize,
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
      client.destroy();
    },
  };
}
