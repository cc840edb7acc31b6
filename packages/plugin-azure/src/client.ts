import type { ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';
import type { ResolvedAzureOptions } from './options.js';
import { blobSdk, defaultAzureCredential } from './sdk.js';

/**
 * Retries as the SDK does (exponential, 4 tries), but every try must answer
 * within 10 minutes: a block of up to 4000 MiB on a slow link needs time,
 * a silent connection must not hang a backup for the SDK's default of days.
 */
const PIPELINE_OPTIONS: StoragePipelineOptions = {
  retryOptions: { maxTries: 4, tryTimeoutInMs: 10 * 60 * 1000 },
  userAgentOptions: { userAgentPrefix: 'backupctl' },
};

/** The container client a sink uses for all its requests, authenticated as the options say. */
export function createContainerClient(options: ResolvedAzureOptions): ContainerClient {
  const sdk = blobSdk();
  const { credentials } = options;
  let service;
  if (credentials.kind === 'connectionString') {
    service = sdk.BlobServiceClient.fromConnectionString(credentials.connectionString, PIPELINE_OPTIONS);
  } else {
    const endpoint = options.endpoint as string;
    if (credentials.kind === 'sharedKey') {
      service = new sdk.BlobServiceClient(endpoint, new sdk.StorageSharedKeyCredential(credentials.account, credentials.accountKey), PIPELINE_OPTIONS);
    } else if (credentials.kind === 'sas') {
      service = new sdk.BlobServiceClient(`${endpoint}?${credentials.sasToken}`, undefined, PIPELINE_OPTIONS);
    } else {
      service = new sdk.BlobServiceClient(endpoint, defaultAzureCredential(), PIPELINE_OPTIONS);
    }
  }
  return service.getContainerClient(options.container);
}
