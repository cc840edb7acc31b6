import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BackupctlError, ErrorCodes, formatSize, type Logger } from '@backupctl/plugin-api';
import { isNoSuchKey, isRecord, toS3Error, type S3ErrorContext } from './errors.js';
import { MAX_PARTS } from './part-plan.js';
import { PartWriter, type PartedObject } from './part-writer.js';
import { s3Sdk } from './sdk.js';

/** Where and how to upload one stream. */
export interface UploadTarget extends PartedObject {
  /** Most parts the upload may have (S3: 10,000); tests lower it. */
  maxParts?: number;
  /** The source's estimate of the stream's size, for the message when the stream outgrows its parts. */
  expectedSize?: number;
  logger: Logger;
  /** The endpoint as messages show it. */
  endpoint: string;
}

function tooManyPartsError(target: UploadTarget, byteLimit: number): BackupctlError {
  const maxParts = target.maxParts ?? MAX_PARTS;
  const partMiB = target.partSize / (1024 * 1024);
  const estimate = target.expectedSize === undefined ? 'the source gave no size estimate' : `the source estimated ${formatSize(target.expectedSize)}`;
  return new BackupctlError(
    ErrorCodes.SINK_FAILED,
    `upload of s3://${target.bucket}/${target.key} stopped: the backup outgrew ${formatSize(byteLimit)}, ` +
      `all that ${maxParts} parts of ${partMiB} MiB hold (${estimate}); nothing was stored`,
    { plugin: 's3', hook: 'write', hint: `raise partSizeMiB (each part of N MiB lets a backup reach N × ${maxParts} MiB)` },
  );
}

function prematureCloseError(): Error {
  return Object.assign(new Error('the backup stream closed before it ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * Streams `input` to `bucket/key` with a multipart upload (a single PUT when
 * it fits in one part) and resolves with the number of bytes stored.
 *
 * The object becomes visible only if `input` ends cleanly: the writer sends
 * CompleteMultipartUpload (or the single PUT) only after the input ended.
 * If `input` errors, or closes before ending, the upload stops reading,
 * cancels the requests on the wire, aborts the multipart upload and rejects
 * with the stream's own error. If `signal` aborts, the same happens and this
 * rejects with ABORTED. Memory held is 2 × partSize while S3 keeps up, at
 * most partSize × (queueSize + 1) (part-writer.ts). A stream longer than
 * partSize × 10,000 fails with SINK_FAILED when it gets there, before S3
 * would refuse a part.
 */
export async function uploadStream(input: Readable, target: UploadTarget, signal: AbortSignal): Promise<number> {
  const errorContext: S3ErrorContext = { operation: 'write', bucket: target.bucket, key: target.key, endpoint: target.endpoint };
  const abortedError = (): BackupctlError =>
    new BackupctlError(ErrorCodes.ABORTED, `upload of s3://${target.bucket}/${target.key} aborted; nothing was stored`, {
      plugin: 's3',
      hook: 'write',
      cause: signal.reason,
    });
  if (signal.aborted) {
    input.destroy();
    throw abortedError();
  }

  // Cancels whatever request is on the wire the moment anything fails.
  const requests = new AbortController();
  const maxParts = target.maxParts ?? MAX_PARTS;
  const writer = new PartWriter({
    ...target,
    maxParts,
    // The writer notices at the first byte that needs a part too many, before S3 refuses part 10,001.
    tooManyParts: () => tooManyPartsError(target, target.partSize * maxParts),
    requestSignal: requests.signal,
  });

  // The input is piped (not `pipeline`d) into the writer, so nothing but the
  // input itself can close the input while the upload runs: any error or
  // early close seen on it is its own.
  let failure: Error | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
    requests.abort(failure);
    writer.destroy(failure);
  };
  const onInputError = (error: Error): void => fail(error);
  const onInputClose = (): void => {
    if (!input.readableEnded) fail(prematureCloseError());
  };
  const onAbort = (): void => fail(abortedError());
  input.on('error', onInputError);
  input.on('close', onInputClose);
  signal.addEventListener('abort', onAbort, { once: true });
  input.pipe(writer);

  let stored = false;
  try {
    try {
      await finished(writer);
    } catch (error) {
      requests.abort(failure ?? error);
      await writer.settled();
      if (writer.objectMayExist) await removeLateCommit(target);
      await abortMultipartUpload(writer.uploadId, target, errorContext);
      if (failure === undefined) throw toS3Error(error, errorContext);
      if (error !== failure) reportOtherError(error, target, errorContext);
      throw failure;
    }
    if (failure !== undefined) {
      // The commit was accepted, but the input failed or the run was aborted meanwhile.
      await removeLateCommit(target);
      throw failure;
    }
    stored = true;
    return writer.bytes;
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.off('error', onInputError);
    input.off('close', onInputClose);
    input.unpipe(writer);
    // Nobody reads the input any more: let its producer see that.
    if (!stored && !input.destroyed) input.destroy();
  }
}

/**
 * Aborts the failed upload's multipart upload, if one was started, so its
 * parts do not linger. A failed abort is a warning, never the error: on a
 * dropped network the user must read about the connection, not about
 * AbortMultipartUpload.
 */
async function abortMultipartUpload(uploadId: string | undefined, target: UploadTarget, errorContext: S3ErrorContext): Promise<void> {
  if (uploadId === undefined) return;
  try {
    await target.client.send(new (s3Sdk().AbortMultipartUploadCommand)({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }));
  } catch (error) {
    // A commit that went through after all leaves no upload to abort (its object was removed above).
    if (isRecord(error) && error.name === 'NoSuchUpload') return;
    target.logger.warn(
      `s3: could not abort the multipart upload of s3://${target.bucket}/${target.key}; its parts stay invisible but may use storage until a lifecycle rule (AbortIncompleteMultipartUpload) removes them`,
      { error: toS3Error(error, errorContext).message },
    );
  }
}

/**
 * The upload failed because of its input or an abort, and the writer
 * stopped with another error on the way (a part that failed as the input
 * went). The input's error is what the user must see; the other is worth a
 * debug line at most.
 */
function reportOtherError(error: unknown, target: UploadTarget, errorContext: S3ErrorContext): void {
  target.logger.debug(`s3: upload of s3://${target.bucket}/${target.key} also reported: ${toS3Error(error, errorContext).message}`);
}

/**
 * The object may exist although the upload failed: its commit was accepted
 * after the input failed or the run was aborted, or the commit's answer was
 * lost (writer.objectMayExist). A failed write must leave nothing behind, so
 * the object goes again; only if that fails is the operator told to look.
 */
async function removeLateCommit(target: UploadTarget): Promise<void> {
  try {
    await target.client.send(new (s3Sdk().DeleteObjectCommand)({ Bucket: target.bucket, Key: target.key }));
  } catch (error) {
    // Nothing there to remove (S3 answers a DELETE of a missing key with 204; some stores with NoSuchKey).
    if (isNoSuchKey(error) || (isRecord(error) && error.name === 'NoSuchBucket')) return;
    target.logger.warn(`s3: s3://${target.bucket}/${target.key} may exist although the upload failed, and removing it failed; delete it by hand if it is there`, {
      error: toS3Error(error, { operation: 'delete', bucket: target.bucket, key: target.key, endpoint: target.endpoint }).message,
    });
  }
}
