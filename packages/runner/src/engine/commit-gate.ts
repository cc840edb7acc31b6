import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * The last stage before the sink: a pass-through whose end waits for the
 * source's `done`. A sink sees the end of its stream — and so commits —
 * only after the source really finished (pg_dump exited 0). If the source
 * fails instead, the stream errors and the sink aborts. The bytes are
 * counted and hashed on the way, so the checksum costs no second pass.
 */
export class CommitGate extends Transform {
  /** Bytes that passed so far. */
  bytes = 0;
  private readonly hash = createHash('sha256');
  private digest: string | undefined;

  constructor(private readonly sourceDone: Promise<void>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.sourceDone.then(
      () => {
        this.digest = this.hash.digest('hex');
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
