import { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';

/** How a dump is restored: plain SQL through psql, a custom archive through pg_restore. */
export type ArchiveFormat = 'plain' | 'custom';

const CUSTOM_MAGIC = Buffer.from('PGDMP');
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const HEAD_BYTES = CUSTOM_MAGIC.length;

/**
 * Reads the first bytes of a decoded backup to tell its format (pg_dump's
 * custom archives start with `PGDMP`; anything else is taken as SQL), and
 * returns a stream of the whole, those bytes included. A backup restores by
 * what it is, not by what the job's `format` option says today.
 *
 * @throws BackupctlError RESTORE_FAILED for an empty backup or one that is still gzip-compressed.
 */
export async function detectArchiveFormat(input: Readable): Promise<{ format: ArchiveFormat; stream: Readable }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length === 0) throw new BackupctlError(ErrorCodes.RESTORE_FAILED, 'the backup is empty: there is nothing to restore');
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) {
    throw new BackupctlError(ErrorCodes.RESTORE_FAILED, 'the backup is still gzip-compressed after decoding', {
      hint: "the job's transforms do not match the object: add the gzip transform to the job, or restore the object with the job that wrote it",
    });
  }
  const format: ArchiveFormat = head.subarray(0, HEAD_BYTES).equals(CUSTOM_MAGIC) ? 'custom' : 'plain';
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      yield head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      // Destroyed early (the restore failed): stop reading the input too.
      await iterator.return?.();
    }
  }
  return { format, stream: Readable.from(rest(), { objectMode: false }) };
}
