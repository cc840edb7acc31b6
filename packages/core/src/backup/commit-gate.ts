import type { TransformCallback } from 'node:stream';
import { HashingPassThrough } from '../streams/hashing-pass-through.js';

/**
 * The last stage before the sink: a pass-through whose end waits for the
 * source's `done`. A sink sees the end of its stream — and so commits —
 * only after the source really finished (pg_dump exited 0). If the source
 * fails instead, the stream errors and the sink aborts. The bytes are
 * counted and hashed on the way, so the checksum costs no second pass.
 */
export class CommitGate extends HashingPassThrough {
  constructor(private readonly sourceDone: Promise<void>) {
    super();
  }

  override _flush(callback: TransformCallback): void {
    this.sourceDone.then(
      () => {
        this.finishHash();
        callback();
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** SHA-256 (hex) of everything that passed; available once the stream ended. */
  sha256(): string {
    if (this.digest === undefined) throw new Error('sha256 read before the stream ended');
    return this.digest;
  }
}
