import { PassThrough, pipeline, Transform, type Duplex, type Readable } from 'node:stream';
import { BackupctlError, ErrorCodes, isBackupctlError, wrapError } from '@backupctl/plugin-api';
import type { LoadedStep } from '../plugins/loaded-job.js';
import { bufferReclaimer } from '../streams/buffer-reclaimer.js';
import { ChecksumVerifier, type ExpectedChecksum } from './checksum-verifier.js';

export interface DecodeOptions {
  key: string;
  job: string;
  /** The sink's `use`, for store errors. */
  sink?: string;
  /** The backup's record; without one the bytes are only hashed. */
  expected?: ExpectedChecksum;
}

/** A stored backup being read, checked and decoded. */
export interface DecodedBackup {
  /** The decoded bytes for the restore. Ends only when every check passed; errors otherwise. */
  stream: Readable;
  verifier: ChecksumVerifier;
  /** Bytes that came out of the decoders so far. */
  decodedBytes(): number;
  /**
   * Stops reading the store, e.g. because the restore failed. `force` also
   * stops the reading that goes on after a decoder failed (a cancel).
   */
  stop(force?: boolean): void;
  /** Settles once the store is read or reading stopped, with the first cause of failure, if any. */
  settled: Promise<BackupctlError | undefined>;
}

/**
 * store -> checksum verifier -> each decoder -> `stream`. The verifier has a
 * chain of its own: when a decoder fails mid-object (gzip: "invalid
 * distance") and a record exists, the rest of the object is still read and
 * hashed, so a damaged object is reported as what it is, a checksum
 * mismatch, rather than as the decoder's symptom. The restore learns of any
 * failure at once through `stream`'s error.
 */
export function decodeStored(body: Readable, decoders: { step: LoadedStep; stream: Duplex }[], options: DecodeOptions): DecodedBackup {
  const { key, job, expected } = options;
  let stopping = false;
  let draining = false;
  let checksumFailure: BackupctlError | undefined;
  let storeFailure: BackupctlError | undefined;
  let decodeFailure: BackupctlError | undefined;

  const verifier = new ChecksumVerifier(key, expected);
  const tap = new PassThrough();
  let decodedBytes = 0;
  // As a backup does (buffer-reclaimer.ts): on Node 24 a 737 MB restore ran
  // 36 full collections without it and peaked at 164-172 MiB; with it 1 and
  // 128 MiB, and a second less CPU (Node 20: 122-126 -> 105-109 MiB).
  const reclaim = bufferReclaimer();
  const output = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decodedBytes += chunk.length;
      reclaim(chunk.length);
      callback(null, chunk);
    },
  });

  const stop = (force = false): void => {
    if (stopping || (draining && !force)) return;
    stopping = true;
    body.destroy();
    verifier.destroy();
    output.destroy();
  };

  body.on('error', (error) => {
    if (!stopping) storeFailure ??= wrapError(error, { code: ErrorCodes.STORE_FAILED, job, plugin: options.sink, hook: 'get' });
  });
  verifier.on('error', (error) => {
    if (!stopping && isBackupctlError(error) && error.code === ErrorCodes.CHECKSUM_MISMATCH) checksumFailure ??= wrapError(error, { code: error.code, job });
    // The decoding chain must not wait for an end that will not come.
    tap.destroy(error);
  });
  for (const { step, stream } of decoders) {
    stream.on('error', (error: Error) => {
      if (stopping || draining || tap.errored) return;
      decodeFailure ??= decodeError(error, step, key, job);
      if (!expected) return stop();
      // Read the rest through the hash: its verdict names the real cause.
      draining = true;
      verifier.unpipe(tap);
      verifier.resume();
    });
  }

  const hashed = new Promise<void>((resolve) => pipeline([body, verifier], () => resolve()));
  verifier.pipe(tap);
  const flowed = new Promise<void>((resolve) => pipeline([tap, ...decoders.map(({ stream }) => stream), output], () => resolve()));

  return {
    stream: output,
    verifier,
    decodedBytes: () => decodedBytes,
    stop,
    settled: Promise.all([hashed, flowed]).then(() => checksumFailure ?? storeFailure ?? decodeFailure),
  };
}

function decodeError(error: Error, step: LoadedStep, key: string, job: string): BackupctlError {
  if (isBackupctlError(error)) return wrapError(error, { code: ErrorCodes.TRANSFORM_FAILED, job, plugin: step.use, hook: 'decode' });
  return new BackupctlError(ErrorCodes.TRANSFORM_FAILED, `${step.use} could not decode ${key}: ${error.message}`, {
    job,
    plugin: step.use,
    hook: 'decode',
    hint: "the object is damaged (truncated or altered), or was not written by this job's transforms",
    cause: error,
  });
}
