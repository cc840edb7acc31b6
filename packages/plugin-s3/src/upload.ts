import { Transform, type Readable } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BackupctlError, ErrorCodes, formatSize, type Logger } from '@backupctl/runner';
import { toS3Error, type S3ErrorContext } from './errors.js';
import { MAX_PARTS } from './part-plan.js';

/** Where and how to upload one stream. */
export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  storageClass?: string;
  /** Bytes per part (at least 5 MiB). */
  partSize: number;
  /** Parts in flight at once. */
  queueSize: number;
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
 * The object becomes visible only if `input` ends cleanly: lib-storage sends
 * CompleteMultipartUpload (or the single PUT) only after it has read the
 * stream to its end. If `input` errors, or closes before ending, the upload
 * stops reading, aborts the multipart upload, and this rejects with the
 * stream's own error. If `signal` aborts, the same happens and this rejects
 * with ABORTED. Memory held is about partSize × (queueSize + 2): the parts
 * in flight, the one being filled and lib-storage's copy of it (part-plan.ts).
 * A stream longer than partSize × 10,000 fails with SINK_FAILED when it
 * gets there, before S3 would refuse a part.
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

  // The input is piped (not `pipeline`d) into a counting pass-through that
  // lib-storage reads, so nothing but the input itself can close the input
  // while the upload runs: any error or early close seen on it is its own.
  let bytes = 0;
  let failure: Error | undefined;
  const byteLimit = target.partSize * (target.maxParts ?? MAX_PARTS);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      // lib-storage notices only at part 10,002, after S3 refused 10,001:
      // stop at the first byte that needs a part too many, and say what to change.
      if (bytes > byteLimit) {
        failure ??= tooManyPartsError(target, byteLimit);
        callback(failure);
        return;
      }
      callback(null, chunk);
    },
  });
  const fail = (error: Error): void => {
    failure ??= error;
    counter.destroy(failure);
  };
  const onInputError = (error: Error): void => fail(error);
  const onInputClose = (): void => {
    if (!input.readableEnded) fail(prematureCloseError());
  };
  input.on('error', onInputError);
  input.on('close', onInputClose);
  input.pipe(counter);

  const upload = new Upload({
    client: target.client,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: counter,
      ContentType: target.contentType,
      ...(target.storageClass === undefined ? {} : { StorageClass: target.storageClass as StorageClass }),
    },
    partSize: target.partSize,
    queueSize: target.queueSize,
    // Failed uploads are aborted by abortMultipartUpload, which keeps the real error.
    leavePartsOnError: true,
  });

  const onAbort = (): void => {
    const error = abortedError();
    if (!counter.readableEnded) {
      // Stops the upload from its input side: lib-storage finishes the parts
      // in flight and rejects; the catch below aborts the multipart upload,
      // so the cleanup has happened before close() destroys the client.
      fail(error);
      return;
    }
    // Everything was read already; only lib-storage's own abort can still
    // stop the commit (it rejects at once; the catch below aborts the multipart upload).
    failure ??= error;
    void upload.abort();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  let stored = false;
  try {
    try {
      await upload.done();
    } catch (error) {
      await abortMultipartUpload(upload, target, errorContext);
      if (failure === undefined) throw toS3Error(error, errorContext);
      if (error !== failure) reportOtherError(error, failure, target, errorContext);
      throw failure;
    }
    if (failure !== undefined) {
      await removeLateCommit(target);
      throw failure;
    }
    stored = true;
    return bytes;
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.off('error', onInputError);
    input.off('close', onInputClose);
    input.unpipe(counter);
    // Nobody reads the input any more: let its producer see that.
    if (!stored && !input.destroyed) input.destroy();
  }
}

/**
 * Aborts the failed upload's multipart upload, if one was started, so its
 * parts do not linger. Done here rather than by lib-storage
 * (leavePartsOnError: true) because lib-storage throws the abort's own error
 * when the abort fails, which hides the real one: on a dropped network the
 * user would read about AbortMultipartUpload instead of the connection.
 */
async function abortMultipartUpload(upload: Upload, target: UploadTarget, errorContext: S3ErrorContext): Promise<void> {
  if (upload.uploadId === undefined) return;
  try {
    await target.client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: upload.uploadId }));
  } catch (error) {
    target.logger.warn(
      `s3: could not abort the multipart upload of s3://${target.bucket}/${target.key}; its parts stay invisible but may use storage until a lifecycle rule (AbortIncompleteMultipartUpload) removes them`,
      { error: toS3Error(error, errorContext).message },
    );
  }
}

/**
 * The upload failed because of its input or an abort, and lib-storage
 * reported another error on the way (its own "Upload aborted." after
 * upload.abort(), or a part that failed as the input went). The input's
 * error is what the user must see; the other is worth a debug line at most.
 */
function reportOtherError(error: unknown, failure: Error, target: UploadTarget, errorContext: S3ErrorContext): void {
  const isLibAbort = error instanceof Error && error.name === 'AbortError';
  if (isLibAbort && failure instanceof BackupctlError && failure.code === ErrorCodes.ABORTED) return;
  target.logger.debug(`s3: upload of s3://${target.bucket}/${target.key} also reported: ${toS3Error(error, errorContext).message}`);
}

/**
 * The upload committed although its input failed or the run was aborted
 * (the failure came while the last request was already on the wire). A
 * failed write must leave nothing behind, so the object goes again.
 */
async function removeLateCommit(target: UploadTarget): Promise<void> {
  try {
    await target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }));
  } catch (error) {
    target.logger.warn(`s3: could not remove s3://${target.bucket}/${target.key}, committed after the run failed; delete it by hand`, {
      error: toS3Error(error, { operation: 'delete', bucket: target.bucket, key: target.key, endpoint: target.endpoint }).message,
    });
  }
}
