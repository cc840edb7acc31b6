import type { HookRun } from '../api/plugin.js';
import type { Store } from '../api/store.js';
// Public helpers of @backupctl/runner (exported from src/index.ts), imported
// by path because this module is part of the runner itself.
import { backupNameMatcher, type BackupNaming } from '../engine/backup-name-matcher.js';
import { parseObjectTimestamp } from '../engine/object-name.js';
import type { DatedBackup } from './retention-policy.js';

/** A job's backups in a store, and the objects beside them that are not recognisably backups. */
export interface JobBackupScan {
  /** Objects named by the job's name template, with the time from the name; in listing order. */
  backups: DatedBackup[];
  /** Objects directly under the prefix whose names carry no timestamp: never touched. */
  ignored: string[];
}

const DEFAULT_TEMPLATE = '{job}_{timestamp}{ext}';

/** The naming a hook call describes (the runner always passes the template; tests may not). */
export function namingOf(run: Pick<HookRun, 'job' | 'nameTemplate'>): BackupNaming {
  return { name: run.job, nameTemplate: run.nameTemplate ?? DEFAULT_TEMPLATE };
}

/**
 * Lists the objects directly under the store's prefix and sorts them out:
 * this job's backups (named by its template, dated by name; the same test
 * `ls` and `restore` use), and names that are nobody's backup. Another job's
 * backups sharing the prefix, and anything in a sub-folder (with an empty
 * prefix: the `metadata/` documents), are left out silently.
 */
export async function listJobBackups(store: Store, naming: BackupNaming, signal?: AbortSignal): Promise<JobBackupScan> {
  const timeOf = backupNameMatcher(naming, store.prefix);
  const backups: DatedBackup[] = [];
  const ignored: string[] = [];
  for await (const object of store.list(store.prefix, signal)) {
    if (!object.key.startsWith(store.prefix) || object.key.slice(store.prefix.length).includes('/')) continue;
    const time = timeOf(object.key);
    if (time) backups.push({ key: object.key, time });
    else if (!parseObjectTimestamp(object.key)) ignored.push(object.key);
  }
  return { backups, ignored };
}
