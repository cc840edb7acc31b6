import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through that counts and SHA-256-hashes what flows through it, so
 * a checksum costs no second pass. Subclasses decide what its end means.
 */
export abstract class HashingPassThrough extends Transform {
  /** Bytes that passed so far. */
  bytes = 0;
  /** SHA-256 (hex) of everything that passed, once finishHash() ran at the end. */
  protected digest: string | undefined;
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** Seals the digest; call once the input ended. */
  protected finishHash(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}
