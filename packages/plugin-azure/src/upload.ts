import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BackupctlError, ErrorCodes, formatSize, type Logger } from '@backupctl/plugin-api';
import { MAX_BLOCKS } from './block-plan.js';
import { BlockWriter, type BlockTarget } from './block-writer.js';
import { isNotFound, toAzureError, type AzureErrorContext } from './errors.js';

/** Where and how to upload one stream. */
export interface UploadTarget {
  /** Also deletes a blob whose commit went out although the upload failed. */
  blob: BlockTarget & { deleteIfExists(): Promise<unknown> };
  container: string;
  key: string;
  contentType: string;
  accessTier?: 'Hot' | 'Cool' | 'Cold' | 'Archive';
  blockSize: number;
  concurrency: number;
  /** Most blocks the blob may have (Azure: 50,000); tests lower it. */
  maxBlocks?: number;
  /** The source's estimate of the stream's size, for the message when the stream outgrows its blocks. */
  expectedSize?: number;
  logger: Logger;
  /** The endpoint as messages show it. */
  endpoint: string;
}

function tooManyBlocksError(target: UploadTarget, maxBlocks: number): BackupctlError {
  const blockMiB = target.blockSize / (1024 * 1024);
  const estimate = target.expectedSize === undefined ? 'the source gave no size estimate' : `the source estimated ${formatSize(target.expectedSize)}`;
  return new BackupctlError(
    ErrorCodes.SINK_FAILED,
    `upload of ${target.container}/${target.key} stopped: the backup outgrew ${formatSize(target.blockSize * maxBlocks)}, ` +
      `all that ${maxBlocks} blocks of ${blockMiB} MiB hold (${estimate}); nothing was stored`,
    { plugin: 'azure', hook: 'write', hint: `raise blockSizeMiB (each block of N MiB lets a backup reach N × ${maxBlocks} MiB)` },
  );
}

function prematureCloseError(): Error {
  return Object.assign(new Error('the backup stream closed before it ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * Streams `input` to `container/key` as a block blob and resolves with the
 * number of bytes stored.
 *
 * The blob becomes visible only if `input` ends cleanly: the block list is
 * committed (or the single Put Blob sent) only after the input ended. If
 * `input` errors or closes early, or `signal` aborts, the upload stops
 * reading, cancels the requests on the wire and rejects with the stream's
 * error (ABORTED for the signal). The blocks already staged stay uncommitted
 * and invisible; Azure discards them after seven days (there is no call to
 * drop them sooner). Memory: at most blockSize × (concurrency + 1).
 */
export async function uploadStream(input: Readable, target: UploadTarget, signal: AbortSignal): Promise<number> {
  const errorContext: AzureErrorContext = { operation: 'write', container: target.container, key: target.key, endpoint: target.endpoint };
  const abortedError = (): BackupctlError =>
    new BackupctlError(ErrorCodes.ABORTED, `upload of ${target.container}/${target.key} aborted; nothing was stored`, {
      plugin: 'azure',
      hook: 'write',
      cause: signal.reason,
    });
  if (signal.aborted) {
    input.destroy();
    throw abortedError();
  }

  const requests = new AbortController();
  const maxBlocks = target.maxBlocks ?? MAX_BLOCKS;
  const writer = new BlockWriter({
    blob: target.blob,
    contentType: target.contentType,
    ...(target.accessTier === undefined ? {} : { accessTier: target.accessTier }),
    blockSize: target.blockSize,
    concurrency: target.concurrency,
    maxBlocks,
    tooManyBlocks: () => tooManyBlocksError(target, maxBlocks),
    requestSignal: requests.signal,
  });

  // Piped (not `pipeline`d), so nothing but the input itself closes the input:
  // any error or early close seen on it is its own.
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
      if (writer.blocksStarted > 0) {
        target.logger.debug(
          `azure: ${writer.blocksStarted} staged block(s) of ${target.container}/${target.key} stay uncommitted; Azure discards them after 7 days`,
        );
      }
      if (failure === undefined) throw toAzureError(error, errorContext);
      if (error !== failure) target.logger.debug(`azure: upload of ${target.container}/${target.key} also reported: ${toAzureError(error, errorContext).message}`);
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
    if (!stored && !input.destroyed) input.destroy();
  }
}

/**
 * The blob may exist although the upload failed (its commit went out and
 * was accepted, or its answer was lost): a failed write must leave nothing
 * behind, so it goes again; only if that fails is the operator told to look.
 */
async function removeLateCommit(target: UploadTarget): Promise<void> {
  try {
    await target.blob.deleteIfExists();
  } catch (error) {
    if (isNotFound(error)) return;
    target.logger.warn(`azure: ${target.container}/${target.key} may exist although the upload failed, and removing it failed; delete it by hand if it is there`, {
      error: toAzureError(error, { operation: 'delete', container: target.container, key: target.key, endpoint: target.endpoint }).message,
    });
  }
}
