import path from 'node:path';
import { BackupctlError, ErrorCodes, isBackupctlError, type Logger } from '@backupctl/plugin-api';
import { copiesOf, jobForCopy, type LoadedJob } from '../plugins/loaded-job.js';
import type { HeldBackup } from '../catalog/copy-selection.js';

/**
 * The job restore and verify read from: as it is, or with `--from NAME`
 * its one copy of that name.
 *
 * @throws BackupctlError USAGE for a name the job has no copy of, listing its copies.
 */
export function jobReadFrom(job: LoadedJob, from: string | undefined): LoadedJob {
  if (from === undefined) return job;
  const copies = copiesOf(job);
  const copy = copies.find((candidate) => candidate.name === from);
  if (copy) return jobForCopy(job, copy);
  throw new BackupctlError(ErrorCodes.USAGE, `job ${job.name} has no copy named "${from}"; its copies: ${copies.map((candidate) => candidate.name).join(', ') || '(none)'}`, {
    job: job.name,
    hint: `name one of them with --from, or leave --from out to read the first copy that holds the backup`,
  });
}

/** Errors that say one copy's object is bad or out of reach, so the next copy may still serve: anything else (the target's, a cancel) ends the read. */
const NEXT_COPY = new Map<string, string>([
  [ErrorCodes.CHECKSUM_MISMATCH, 'failed its checksum'],
  [ErrorCodes.STORE_FAILED, 'could not be read'],
]);

/**
 * Reads the chosen backup from the first copy holding it; when that copy's
 * object is missing, unreadable or fails its checksum, says so in one line
 * and goes on with the next copy holding it. `read` must leave nothing
 * behind when it fails (restoreBackup commits only on a clean end). With
 * one copy, its error as it is; with several that all fail, one error
 * naming each copy tried and why.
 */
export async function readFromCopies<T, H extends HeldBackup>(
  job: LoadedJob,
  held: readonly H[],
  logger: Logger,
  read: (held: H) => Promise<T>,
): Promise<T> {
  const several = copiesOf(job).length > 1;
  const [first] = held;
  if (several && first && first.copy.name !== copiesOf(job)[0]?.name) {
    const missing = copiesOf(job).filter((copy) => !held.some((entry) => entry.copy.name === copy.name)).map((copy) => copy.name);
    logger.info(`${job.title}: ${path.posix.basename(first.backup.key)} is not in ${missing.length === 1 ? 'copy' : 'copies'} ${missing.join(', ')}: reading copy ${first.copy.name}`);
  }
  const tried: { name: string; error: BackupctlError }[] = [];
  for (const [index, entry] of held.entries()) {
    try {
      return await read(entry);
    } catch (error) {
      const why = isBackupctlError(error) ? NEXT_COPY.get(error.code) : undefined;
      if (!several || why === undefined) throw error;
      tried.push({ name: entry.copy.name, error: error as BackupctlError });
      const next = held[index + 1];
      logger.warn(`copy ${entry.copy.name}: ${entry.backup.key} ${why} (${(error as Error).message})${next ? `; trying copy ${next.copy.name}` : ''}`);
    }
  }
  const codes = new Set(tried.map(({ error }) => error.code));
  const last = tried.at(-1)?.error;
  throw new BackupctlError(
    codes.size === 1 ? last!.code : ErrorCodes.STORE_FAILED,
    `job ${job.name}: ${path.posix.basename(held[0]?.backup.key ?? '')} could not be read from any copy: ` +
      tried.map(({ name, error }) => `${name} ${NEXT_COPY.get(error.code)} (${error.message})`).join('; '),
    { job: job.name, hint: `restore an older backup (backupctl ls --job ${job.name}, then --at or --key) and check the storage`, cause: last },
  );
}
