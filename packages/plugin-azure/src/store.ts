import { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { BackupctlError, ErrorCodes, type StoredObject } from '@backupctl/plugin-api';
import { isNotFound, toAzureError, type AzureOperation } from './errors.js';

/** Deletes sent at once: Azure has no batch delete that Azurite serves, so one request per blob, a few in parallel. */
export const DELETE_CONCURRENCY = 8;

/** The container the store operations work on. */
export interface AzureContainer {
  client: ContainerClient;
  container: string;
  /** The endpoint as messages show it. */
  endpoint: string;
}

function options(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function fail(error: unknown, target: AzureContainer, operation: AzureOperation, key?: string): BackupctlError {
  return toAzureError(error, { operation, container: target.container, endpoint: target.endpoint, ...(key === undefined ? {} : { key }) });
}

/** Every committed blob under `prefix` (a string prefix), page by page; uncommitted blocks are never listed. */
export async function* listBlobs(target: AzureContainer, prefix: string, signal?: AbortSignal): AsyncGenerator<StoredObject> {
  const pages = target.client.listBlobsFlat({ prefix, ...options(signal) }).byPage({ maxPageSize: 5000 });
  while (true) {
    let page;
    try {
      page = await pages.next();
    } catch (error) {
      throw fail(error, target, 'list', prefix);
    }
    if (page.done === true) return;
    for (const blob of page.value.segment.blobItems) {
      yield { key: blob.name, size: blob.properties.contentLength ?? 0, lastModified: blob.properties.lastModified };
    }
  }
}

/** The blob's bytes as a Node stream; STORE_FAILED naming blob and container when it does not exist. */
export async function getBlob(target: AzureContainer, key: string, signal?: AbortSignal): Promise<Readable> {
  let body: NodeJS.ReadableStream | undefined;
  try {
    ({ readableStreamBody: body } = await target.client.getBlobClient(key).download(0, undefined, options(signal)));
  } catch (error) {
    throw fail(error, target, 'get', key);
  }
  if (body === undefined) {
    throw new BackupctlError(ErrorCodes.STORE_FAILED, `Azure returned no readable body for ${key} in container ${target.container}`, {
      plugin: 'azure',
      hook: 'get',
    });
  }
  return body instanceof Readable ? body : Readable.from(body);
}

/** Deletes the blobs, DELETE_CONCURRENCY at a time; one that does not exist is not an error. */
export async function deleteBlobs(target: AzureContainer, keys: readonly string[], signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      try {
        await target.client.getBlobClient(key).deleteIfExists({ deleteSnapshots: 'include', ...options(signal) });
      } catch (error) {
        if (isNotFound(error)) continue;
        throw fail(error, target, 'delete', key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses the JSON document at `key`; undefined when there is none. */
export async function readJson(target: AzureContainer, key: string, signal?: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    const { readableStreamBody: body } = await target.client.getBlobClient(key).download(0, undefined, options(signal));
    text = body === undefined ? '' : await readAll(body);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw fail(error, target, 'readMetadata', key);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BackupctlError(ErrorCodes.STORE_FAILED, `metadata ${target.container}/${key} is not valid JSON`, {
      plugin: 'azure',
      hook: 'readMetadata',
      hint: 'Delete the blob; the next successful backup writes it again.',
      cause: error,
    });
  }
}

/** Stores `value` as a JSON document at `key`, replacing what was there (one Put Blob: readers see the old or the new whole). */
export async function writeJson(target: AzureContainer, key: string, value: unknown, signal?: AbortSignal): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  try {
    await target.client
      .getBlockBlobClient(key)
      .upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/json' }, ...options(signal) });
  } catch (error) {
    throw fail(error, target, 'writeMetadata', key);
  }
}

/** Reaches the container with the configured credential (Get Container Properties), for `validate --connect`. */
export async function checkContainer(target: AzureContainer, signal?: AbortSignal): Promise<void> {
  try {
    await target.client.getProperties(options(signal));
  } catch (error) {
    throw fail(error, target, 'check');
  }
}
