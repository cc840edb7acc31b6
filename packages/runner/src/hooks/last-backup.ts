import type { Store } from '../api/store.js';
// A public helper of @backupctl/runner (exported from src/index.ts).
import { readLastBackups, type BackupRecord } from '../engine/backup-records.js';
import type { BackupNaming } from '../engine/backup-name-matcher.js';
import { pickBackup } from '../engine/backup-selection.js';
import { listJobBackups } from './job-backups.js';

/** When a job last backed up, and how that is known. */
export interface LastBackup {
  key: string;
  /** When the backup finished (from last_backup.json), else the time in its name (when it started). */
  time: Date;
  from: 'last_backup.json' | 'object name';
}

/**
 * The job's most recent successful backup: its entry in
 * `metadata/last_backup.json` when there is one for this store's prefix
 * (written only after a commit), else the newest object named by the job's
 * name template (backups made before the record existed, or by the
 * reference service). Undefined when the job has none.
 */
export async function findLastBackup(store: Store, naming: BackupNaming, signal?: AbortSignal): Promise<LastBackup | undefined> {
  const job = naming.name;
  // Read from JSON another version (or a hand) may have written: trust no field.
  const record: Partial<BackupRecord> | undefined = (await readLastBackups(store, signal))[job];
  if (record && typeof record.key === 'string' && record.key.startsWith(store.prefix)) {
    const time = new Date(record.finishedAt ?? record.startedAt ?? Number.NaN);
    if (!Number.isNaN(time.getTime())) return { key: record.key, time, from: 'last_backup.json' };
  }
  const { backups } = await listJobBackups(store, naming, signal);
  // The same newest as `ls` and `restore` pick, ties of one second included.
  const newest = pickBackup(backups, undefined);
  return newest && { key: newest.key, time: newest.time, from: 'object name' };
}
