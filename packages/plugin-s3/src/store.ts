import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { BackupctlError, ErrorCodes, type StoredObject } from '@backupctl/plugin-api';
import { isNoSuchKey, toS3Error, type S3Operation } from './errors.js';
import { s3Sdk } from './sdk.js';

/** DeleteObjects takes at most 1000 keys per request. */
export const DELETE_BATCH_SIZE = 1000;

/** The bucket the store operations work on. */
export interface S3Bucket {
  /** Only `send` is used, so tests may pass a recording stand-in. */
  client: Pick<S3Client, 'send'>;
  bucket: string;
  /** The endpoint as messages show it. */
  endpoint: string;
}

function options(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal === undefined ? {} : { abortSignal: signal };
}

function fail(error: unknown, target: S3Bucket, operation: S3Operation, key?: string): BackupctlError {
  return toS3Error(error, { operation, bucket: target.bucket, endpoint: target.endpoint, ...(key === undefined ? {} : { key }) });
}

/**
 * Every object under `prefix`, page by page (ListObjectsV2 with its
 * continuation token). MaxKeys is left to the server: s3rver fails on it.
 */
export async function* listObjects(target: S3Bucket, prefix: string, signal?: AbortSignal): AsyncGenerator<StoredObject> {
  let continuationToken: string | undefined;
  do {
    const command = new (s3Sdk().ListObjectsV2Command)({
      Bucket: target.bucket,
      Prefix: prefix,
      ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
    });
    let page;
    try {
      page = await target.client.send(command, options(signal));
    } catch (error) {
      throw fail(error, target, 'list', prefix);
    }
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
    }
    continuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (continuationToken !== undefined);
}

/** The object's bytes as a Node stream; STORE_FAILED naming key and bucket when it does not exist. */
export async function getObject(target: S3Bucket, key: string, signal?: AbortSignal): Promise<Readable> {
  let body: unknown;
  try {
    ({ Body: body } = await target.client.send(new (s3Sdk().GetObjectCommand)({ Bucket: target.bucket, Key: key }), options(signal)));
  } catch (error) {
    throw fail(error, target, 'get', key);
  }
  if (!(body instanceof Readable)) {
    throw new BackupctlError(ErrorCodes.STORE_FAILED, `S3 returned no readable body for ${key} in bucket ${target.bucket}`, {
      plugin: 's3',
      hook: 'get',
    });
  }
  return body;
}

/**
 * Deletes the keys in batches of 1000 (Quiet mode: only failures come back).
 * A key that does not exist is not an error; any reported failure is.
 */
export async function deleteObjects(target: S3Bucket, keys: readonly string[], signal?: AbortSignal): Promise<void> {
  for (let start = 0; start < keys.length; start += DELETE_BATCH_SIZE) {
    const batch = keys.slice(start, start + DELETE_BATCH_SIZE);
    const command = new (s3Sdk().DeleteObjectsCommand)({
      Bucket: target.bucket,
      Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true },
    });
    let errors;
    try {
      ({ Errors: errors } = await target.client.send(command, options(signal)));
    } catch (error) {
      throw fail(error, target, 'delete', batch[0]);
    }
    const first = errors?.[0];
    if (first !== undefined && errors !== undefined) {
      const more = errors.length > 1 ? ` and ${errors.length - 1} more` : '';
      throw new BackupctlError(
        ErrorCodes.STORE_FAILED,
        `could not delete ${first.Key ?? '?'}${more} from bucket ${target.bucket}: ${first.Code ?? 'error'}${first.Message ? ` (${first.Message})` : ''}`,
        { plugin: 's3', hook: 'delete', hint: 'Check that the credentials may delete objects in the bucket.' },
      );
    }
  }
}

/** Parses the JSON document at `key`; undefined when there is none. */
export async function readJson(target: S3Bucket, key: string, signal?: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    const { Body: body } = await target.client.send(new (s3Sdk().GetObjectCommand)({ Bucket: target.bucket, Key: key }), options(signal));
    text = body === undefined ? '' : await body.transformToString('utf8');
  } catch (error) {
    if (isNoSuchKey(error)) return undefined;
    throw fail(error, target, 'readMetadata', key);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BackupctlError(ErrorCodes.STORE_FAILED, `metadata s3://${target.bucket}/${key} is not valid JSON`, {
      plugin: 's3',
      hook: 'readMetadata',
      hint: 'Delete the object; the next successful backup writes it again.',
      cause: error,
    });
  }
}

/** Stores `value` as a JSON document at `key`, replacing what was there. */
export async function writeJson(target: S3Bucket, key: string, value: unknown, signal?: AbortSignal): Promise<void> {
  const command = new (s3Sdk().PutObjectCommand)({
    Bucket: target.bucket,
    Key: key,
    Body: `${JSON.stringify(value, null, 2)}\n`,
    ContentType: 'application/json',
  });
  try {
    await target.client.send(command, options(signal));
  } catch (error) {
    throw fail(error, target, 'writeMetadata', key);
  }
}

/** Reaches the bucket with the configured credentials (HeadBucket), for `validate --connect`. */
export async function checkBucket(target: S3Bucket, signal?: AbortSignal): Promise<void> {
  try {
    await target.client.send(new (s3Sdk().HeadBucketCommand)({ Bucket: target.bucket }), options(signal));
  } catch (error) {
    throw fail(error, target, 'check');
  }
}
