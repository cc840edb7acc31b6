import type { Store } from '@backupctl/plugin-api';
import { storedJobs } from '../parts/expand-job.js';
import type { InstanceEnvironment } from '../plugins/create-instance.js';
import { copiesOf, type LoadedJob } from '../plugins/loaded-job.js';
import { readBackupRecord } from './backup-records.js';
import { listBackupsOf, type BackupEntry, type JobBackups } from './list-backups.js';
import { withStore } from './open-store.js';

/** A backup with what its checksum record adds: how long it took and what the source produced. */
export interface BackupHistoryEntry extends BackupEntry {
  /** From the record's startedAt to finishedAt; absent when the backup has no record (made by hand, or by the reference service). */
  durationMs?: number;
  /** Bytes the source produced, before transforms. */
  sourceSize?: number;
}

/** A job's backups in its store, newest first, each with its record's figures. */
export interface JobHistory extends JobBackups {
  /** The configured job this section belongs to: a whole-server job's part names its job here. */
  parent: string;
  backups: BackupHistoryEntry[];
}

/** What a backup's record gives the history; records never change once written, so callers may keep them between reads. */
export type RecordFigures = Pick<BackupHistoryEntry, 'durationMs' | 'sourceSize'>;

/** Reads at most this many records at once: a first read of 1,000 backups is 1,000 small GETs. */
const RECORD_READS = 8;

/**
 * Each job's backups as `ls` lists them (every copy, verified and anomaly
 * marks, whole servers per part), with the duration and source size from
 * each backup's checksum record, read through the store contract from the
 * job's first copy. `known` keeps the records already read (keyed by
 * location and key): they are written once, after the commit, so a later
 * read asks only for the new backups. A record that cannot be read leaves
 * the backup without figures; the listing still stands.
 */
export async function readBackupHistory(
  jobs: readonly LoadedJob[],
  environment: Omit<InstanceEnvironment, 'artifact'>,
  known: Map<string, RecordFigures> = new Map(),
): Promise<JobHistory[]> {
  const history: JobHistory[] = [];
  for (const job of jobs) {
    const parts = await storedJobs([job], environment);
    const listing = await listBackupsOf(parts, environment);
    for (const [index, section] of listing.entries()) {
      const part = parts.find((candidate) => candidate.name === section.job) ?? parts[index]!;
      const first = copiesOf(part)[0];
      const held = section.backups.filter((backup) => backup.copies[0] === first?.name);
      const backups: BackupHistoryEntry[] = section.backups.map((backup) => ({ ...backup }));
      if (held.length > 0) {
        await withStore(part, environment, (store) => readFigures(store, held, known, environment.signal));
        for (const backup of backups) Object.assign(backup, known.get(`${section.location}\n${backup.key}`));
      }
      history.push({ ...section, parent: job.name, backups });
    }
  }
  return history;
}

async function readFigures(store: Store, backups: readonly BackupEntry[], known: Map<string, RecordFigures>, signal?: AbortSignal): Promise<void> {
  const missing = backups.filter((backup) => !known.has(`${store.location}\n${backup.key}`));
  let next = 0;
  const worker = async () => {
    while (next < missing.length) {
      const backup = missing[next++]!;
      const record = await readBackupRecord(store, backup.key, signal).catch(() => undefined);
      // No record yet may mean not written yet (a run in flight): only records found are kept.
      if (!record) continue;
      const durationMs = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
      known.set(`${store.location}\n${backup.key}`, {
        ...(Number.isFinite(durationMs) && durationMs >= 0 ? { durationMs } : {}),
        ...(typeof record.sourceSize === 'number' ? { sourceSize: record.sourceSize } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(RECORD_READS, missing.length) }, worker));
}
