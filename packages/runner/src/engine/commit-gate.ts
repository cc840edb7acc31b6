import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** The last stage before the sink: measures what is stored and holds the end until the source is done. */
export interface CommitGate extends Transform {
  /** Bytes that passed so far. */
  readonly bytes: number;
  /** SHA-256 (hex) of everything that passed; valid once the stream ended. */
  sha256(): string;
}

/**
 * A pass-through whose end waits for `sourceDone`. A sink sees the end of its
 * stream — and so commits — only after the source really finished (pg_dump
 * exited 0). If the source fails instead, the stream errors and the sink
 * aborts. The bytes are counted and hashed on the way, so the checksum costs
 * no second pass.
 */
export function createCommitGate(sourceDone: Promise<void>): CommitGate {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      sourceDone.then(
        () => {
          digest = hash.digest('hex');
          callback();
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
  return Object.assign(gate, {
    get bytes() {
      return bytes;
    },
    sha256() {
      if (digest === undefined) throw new Error('sha256 read before the stream ended');
      return digest;
    },
  }) as CommitGate;
}
