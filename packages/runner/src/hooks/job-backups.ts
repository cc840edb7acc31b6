import type { Store } from '../api/store.js';
// Public helpers of @backupctl/runner (exported from src/index.ts), imported
// by path because this module is part of the runner itself.
import { parseObjectTimestamp } from '../engine/object-name.js';
import type { DatedBackup } from './retention-policy.js';

// What follows `<job>_` in a backup's name: the timestamp, then only extensions
// (.sql.gz). So `clara_x_20260201_030000.sql.gz` belongs to job clara_x, not clara.
const BACKUP_NAME = /^\d{8}_\d{6}(?:\.[^/]*)?$/;

/** A job's backups in a store, and the objects beside them that are not recognisably backups. */
export interface JobBackupScan {
  /** Objects named `<job>_YYYYMMDD_HHMMSS<ext>`, with the time from the name; in listing order. */
  backups: DatedBackup[];
  /** Objects directly under the prefix whose names carry no timestamp: never touched. */
  ignored: string[];
}

/**
 * Lists the objects directly under the store's prefix and sorts them out:
 * this job's backups (named `<job>_YYYYMMDD_HHMMSS<ext>`, as the default
 * name template writes them; dated by name), and names that are nobody's backup.
 * Another job's backups sharing the prefix, and anything in a sub-folder
 * (with an empty prefix: the `metadata/` documents), are left out silently.
 */
export async function listJobBackups(store: Store, job: string, signal?: AbortSignal): Promise<JobBackupScan> {
  const backups: DatedBackup[] = [];
  const ignored: string[] = [];
  for await (const object of store.list(store.prefix, signal)) {
    const name = object.key.slice(store.prefix.length);
    if (!object.key.startsWith(store.prefix) || name.includes('/')) continue;
    const time = BACKUP_NAME.test(name.slice(job.length + 1)) ? parseObjectTimestamp(name, job) : undefined;
    if (time) backups.push({ key: object.key, time });
    else if (!parseObjectTimestamp(object.key)) ignored.push(object.key);
  }
  return { backups, ignored };
}
