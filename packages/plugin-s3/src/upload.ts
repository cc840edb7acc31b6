import { Transform, type Readable } from 'node:stream';
import { DeleteObjectCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BackupctlError, ErrorCodes, type Logger } from '@backupctl/runner';
import { toS3Error, type S3ErrorContext } from './errors.js';

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
  logger: Logger;
  /** The endpoint as messages show it. */
  endpoint: string;
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
 * with ABORTED. Memory held is about partSize × queueSize.
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
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
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
    leavePartsOnError: false,
  });

  const onAbort = (): void => {
    const error = abortedError();
    if (!counter.readableEnded) {
      // Stops the upload from its input side: lib-storage finishes the parts
      // in flight, aborts the multipart upload and only then rejects, so the
      // cleanup has happened before close() destroys the client.
      fail(error);
      return;
    }
    // Everything was read already; only lib-storage's own abort can still
    // stop the commit (it rejects at once and cleans up in the background).
    failure ??= error;
    void upload.abort();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  let stored = false;
  try {
    await upload.done();
    if (failure !== undefined) {
      await removeLateCommit(target);
      throw failure;
    }
    stored = true;
    return bytes;
  } catch (error) {
    if (failure === undefined) throw toS3Error(error, errorContext);
    if (error !== failure) reportCleanupProblem(error, failure, upload, target, errorContext);
    throw failure;
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
 * The upload failed because of its input, and lib-storage reported another
 * error on the way: usually AbortMultipartUpload refused (s3rver does not
 * implement it). The input's error is what the user must see; this one is
 * only worth a line in the log.
 */
function reportCleanupProblem(
  error: unknown,
  failure: Error,
  upload: Upload,
  target: UploadTarget,
  errorContext: S3ErrorContext,
): void {
  const isLibAbort = error instanceof Error && error.name === 'AbortError';
  if (isLibAbort && failure instanceof BackupctlError && failure.code === ErrorCodes.ABORTED) {
    return; // lib-storage's own "Upload aborted." after upload.abort(): expected.
  }
  const detail = toS3Error(error, errorContext).message;
  if (upload.uploadId === undefined) {
    target.logger.debug(`s3: upload of s3://${target.bucket}/${target.key} also reported: ${detail}`);
    return;
  }
  target.logger.warn(
    `s3: could not abort the multipart upload of s3://${target.bucket}/${target.key}; its parts stay invisible but may use storage until a lifecycle rule removes them`,
    { error: detail },
  );
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
