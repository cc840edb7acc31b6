import { BackupctlError, callPlugin, ErrorCodes, type Logger, type Store } from '@backupctl/plugin-api';
import type { LoadedCopy } from '../plugins/loaded-job.js';
import type { BackupNaming } from '../naming/backup-name-matcher.js';
import { chooseBackup, findKey, listDatedBackups, pickAsked, readSelection, type BackupSelection, type ChosenBackup } from './backup-selection.js';

/** One copy of a job with its store open. */
export interface OpenCopy<S extends Store = Store> {
  copy: LoadedCopy;
  store: S;
}

/** The chosen backup as one copy holds it (its own key, under that copy's prefix). */
export interface HeldBackup<S extends Store = Store> extends OpenCopy<S> {
  backup: ChosenBackup;
}

/**
 * Finds the backup a restore or verify asked for across a job's copies, and
 * every copy that holds it, in the copies' order (the first is read first).
 * The same backup has the same name under each copy's prefix. `--key` may
 * be any copy's full key or a name under the prefixes; otherwise the newest
 * backup at or before `--at` among all copies, by the time in its name. A
 * copy that cannot be listed is left out with a warning; with one copy,
 * this is chooseBackup, its errors unchanged.
 *
 * @throws BackupctlError BACKUP_NOT_FOUND naming where it looked; STORE_FAILED when no copy could be listed; USAGE as chooseBackup.
 */
export async function chooseInCopies<S extends Store>(
  copies: readonly OpenCopy<S>[],
  job: BackupNaming,
  logger: Logger,
  selection: BackupSelection,
  signal?: AbortSignal,
): Promise<HeldBackup<S>[]> {
  const list = <T>(open: OpenCopy<S>, run: () => Promise<T>) => callPlugin({ code: ErrorCodes.STORE_FAILED, job: job.name, plugin: open.copy.sink.use, hook: 'list' }, run);
  if (copies.length === 1) {
    const [only] = copies as [OpenCopy<S>];
    return [{ ...only, backup: await list(only, () => chooseBackup(only.store, job, selection, signal)) }];
  }
  const until = readSelection(selection);
  const listed: { open: OpenCopy<S>; backups: ChosenBackup[] }[] = [];
  const failures: string[] = [];
  for (const open of copies) {
    try {
      const backups =
        selection.key === undefined
          ? await list(open, () => listDatedBackups(open.store, job, signal))
          : [await list(open, () => findKey(open.store, job, namesOf(selection.key!, copies), signal))].filter((found) => found !== undefined);
      listed.push({ open, backups });
    } catch (error) {
      if (signal?.aborted) throw error;
      const message = (error as Error).message;
      failures.push(`${open.copy.name} (${message})`);
      logger.warn(`copy ${open.copy.name}: its backups could not be listed (${message}); leaving it out`);
    }
  }
  if (listed.length === 0) {
    throw new BackupctlError(ErrorCodes.STORE_FAILED, `job ${job.name}: no copy could be listed: ${failures.join('; ')}`, { job: job.name });
  }
  const where = listed.map(({ open }) => `${open.store.location}${open.store.prefix ? ` under ${open.store.prefix}` : ''} (${open.copy.name})`).join(', ');
  // The same backup has the same name under each copy's prefix: the copies holding the one asked for.
  const named = listed.flatMap(({ open, backups }) => backups.map((backup) => ({ open, backup, key: backup.key.slice(open.store.prefix.length), time: backup.time })));
  const chosen = pickAsked(named, selection, until, job, where);
  const holding = selection.key !== undefined ? named : named.filter((entry) => entry.key === chosen.key);
  return holding.map(({ open, backup }) => ({ ...open, backup }));
}

/** `--key` as each copy may hold it: as written, and its name under whichever copy's prefix it starts with (the longest). */
function namesOf(key: string, copies: readonly OpenCopy[]): string[] {
  const prefix = copies
    .map(({ store }) => store.prefix)
    .filter((candidate) => candidate && key.startsWith(candidate))
    .reduce((a, b) => (b.length > a.length ? b : a), '');
  return prefix ? [key, key.slice(prefix.length)] : [key];
}
