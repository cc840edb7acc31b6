import type { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { formatSize, type ArtifactInfo, type Logger, type SinkInstance, type WrittenObject } from '@backupctl/plugin-api';
import { planBlocks } from './block-plan.js';
import { createContainerClient } from './client.js';
import { toAzureError } from './errors.js';
import { describeEndpoint, type ResolvedAzureOptions } from './options.js';
import { checkContainer, deleteBlobs, getBlob, listBlobs, readJson, writeJson, type AzureContainer } from './store.js';
import { uploadStream } from './upload.js';

/** Metadata documents live at the container root, beside the backups, as the s3 and file stores keep them. */
const METADATA_PREFIX = 'metadata/';

/** What the sink needs from its surroundings (a subset of the plugin context). */
export interface AzureSinkEnvironment {
  logger: Logger;
  /** Read at each write, so whatever the transforms set is what the blob is labelled with (and the source's size estimate). */
  artifact: Pick<ArtifactInfo, 'contentType' | 'expectedSize'>;
}

/** An azure sink: writes backups as block blobs under `prefix` and serves them back as a store. */
export function createAzureSink(options: ResolvedAzureOptions, environment: AzureSinkEnvironment): SinkInstance {
  const endpoint = describeEndpoint(options);
  // Made at the first request, and with it the SDK loaded (sdk.ts).
  let client: ContainerClient | undefined;
  const container = {
    get client(): ContainerClient {
      try {
        return (client ??= createContainerClient(options));
      } catch (error) {
        // A malformed connection string, @azure/identity missing: one line, no value echoed.
        throw toAzureError(error, { operation: 'check', container: options.container, endpoint });
      }
    },
    container: options.container,
    endpoint,
  } satisfies AzureContainer;
  environment.logger.debug(
    `azure: endpoint ${endpoint}, container ${options.container}, credential ${options.credentials.kind}, ` +
      `block size ${options.blockSize / (1024 * 1024)} MiB × ${options.concurrency}`,
  );

  return {
    location: options.container,
    prefix: options.prefix,

    async write(stream: Readable, name: string, signal: AbortSignal): Promise<WrittenObject> {
      const key = options.prefix + name;
      const { expectedSize } = environment.artifact;
      const plan = planBlocks({ partSize: options.blockSize, queueSize: options.concurrency, expectedSize });
      if (plan.raised) {
        const MiB = 1024 * 1024;
        environment.logger.info(
          `azure: the source expects about ${formatSize(expectedSize ?? 0)}: blocks of ${plan.partSize / MiB} MiB, ${plan.queueSize} at a time ` +
            `(~${Math.ceil(plan.memoryBytes / MiB)} MiB of upload buffers at most), so up to ${formatSize(plan.maxBytes)} fit in Azure's 50,000 blocks`,
        );
      }
      let blob;
      try {
        blob = container.client.getBlockBlobClient(key);
      } catch (error) {
        stream.destroy();
        throw toAzureError(error, { operation: 'write', container: options.container, key, endpoint });
      }
      const size = await uploadStream(
        stream,
        {
          blob,
          container: options.container,
          key,
          contentType: environment.artifact.contentType,
          ...(options.accessTier === undefined ? {} : { accessTier: options.accessTier }),
          blockSize: plan.partSize,
          concurrency: plan.queueSize,
          ...(expectedSize === undefined ? {} : { expectedSize }),
          logger: environment.logger,
          endpoint,
        },
        signal,
      );
      return { key, size };
    },

    list: (prefix, signal) => listBlobs(container, prefix, signal),
    get: (key, signal) => getBlob(container, key, signal),
    delete: (keys, signal) => deleteBlobs(container, keys, signal),
    readMetadata: (name, signal) => readJson(container, METADATA_PREFIX + name, signal),
    writeMetadata: (name, value, signal) => writeJson(container, METADATA_PREFIX + name, value, signal),
    deleteMetadata: (names, signal) => deleteBlobs(container, names.map((name) => METADATA_PREFIX + name), signal),

    check: (): Promise<void> => checkContainer(container),
    async close(): Promise<void> {
      client = undefined;
    },
  };
}
