import type { TransformCallback } from 'node:stream';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import { HashingPassThrough } from '../streams/hashing-pass-through.js';

/** What the bytes must be: the record written at backup time. */
export interface ExpectedChecksum {
  /** SHA-256 of the stored bytes, hex. */
  sha256: string;
  /** Bytes stored. */
  size: number;
}

/**
 * The first stage of a restore: passes the stored bytes on while hashing
 * them, and at their end compares size and SHA-256 with the backup's
 * record. On a mismatch its end becomes an error, so nothing downstream
 * ever sees a clean end of a truncated or altered object (the restore
 * commits only on a clean end). Without a record it only counts and hashes.
 */
export class ChecksumVerifier extends HashingPassThrough {
  constructor(
    private readonly key: string,
    private readonly expected: ExpectedChecksum | undefined,
  ) {
    super();
  }

  override _flush(callback: TransformCallback): void {
    this.finishHash();
    callback(this.mismatch());
  }

  /** SHA-256 (hex) of everything that passed; available once the stream ended. */
  sha256(): string | undefined {
    return this.digest;
  }

  private mismatch(): BackupctlError | null {
    const expected = this.expected;
    if (!expected) return null;
    const hint = 'the stored object was truncated or altered after the backup; restore an older backup (backupctl ls) and check the storage';
    if (this.bytes !== expected.size) {
      const what = this.bytes < expected.size ? 'truncated' : 'longer than recorded';
      return new BackupctlError(
        ErrorCodes.CHECKSUM_MISMATCH,
        `${this.key} is ${what}: ${this.bytes} bytes read, ${expected.size} recorded at backup time`,
        { hint },
      );
    }
    if (this.digest !== expected.sha256) {
      return new BackupctlError(
        ErrorCodes.CHECKSUM_MISMATCH,
        `${this.key} does not match its checksum: SHA-256 ${this.digest}, ${expected.sha256} recorded at backup time`,
        { hint },
      );
    }
    return null;
  }
}
