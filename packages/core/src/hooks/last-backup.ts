import type { Logger, Store } from '@backupctl/plugin-api';
// Public helpers of @backupctl/core (exported from src/index.ts).
import { jobRecordDocument, readJobRecord } from '../catalog/backup-records.js';
import type { BackupNaming } from '../naming/backup-name-matcher.js';
import { pickBackup } from '../catalog/backup-selection.js';
import { listJobBackups } from '../catalog/job-backups.js';

/** When a job last backed up, and how that is known. */
export interface LastBackup {
  key: string;
  /** When the backup finished (from the job's record), else the time in its name (when it started). */
  time: Date;
  from: 'job record' | 'object name';
}

/**
 * The job's most recent successful backup: its record
 * (`metadata/jobs/<prefix><job>.json`, written only after a commit) when
 * there is one for this store's prefix, else the newest of the job's
 * backups by name (backups made before the record existed, or by the
 * reference service), also when the recorded backup is gone (deleted by
 * hand to get a fresh one). A record that cannot be read is a warning,
 * never a failure: the names still tell. Undefined when the job has none.
 */
export async function findLastBackup(store: Store, naming: BackupNaming, logger: Logger, signal?: AbortSignal): Promise<LastBackup | undefined> {
  try {
    const record = await readJobRecord(store, naming.name, signal);
    const time = new Date(record?.finishedAt ?? Number.NaN);
    if (record?.key.startsWith(store.prefix) && !Number.isNaN(time.getTime()) && (await stillStored(store, record.key, signal))) {
      return { key: record.key, time, from: 'job record' };
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    logger.warn(
      `metadata/${jobRecordDocument(store.prefix, naming.name)} could not be read (${(error as Error).message}): ` +
        `dating ${naming.name}'s last backup by the object names; its next backup rewrites the record`,
    );
  }
  const { backups } = await listJobBackups(store, naming, signal);
  // The same newest as `ls` and `restore` pick, ties of one second included.
  const newest = pickBackup(backups, undefined);
  return newest && { key: newest.key, time: newest.time, from: 'object name' };
}

/** Whether the store still lists exactly `key`. */
async function stillStored(store: Store, key: string, signal?: AbortSignal): Promise<boolean> {
  for await (const object of store.list(key, signal)) if (object.key === key) return true;
  return false;
}
