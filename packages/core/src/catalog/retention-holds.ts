import type { Store } from '@backupctl/plugin-api';
import { readOpenAnomalies } from './anomaly-records.js';
import type { DatedBackup } from './job-backups.js';
import { readJobVerifications } from './verification-records.js';

/** Backups retention keeps whatever its rules say, and why (one line each, for the log). */
export interface RetentionHolds {
  keys: Set<string>;
  reasons: string[];
}

/**
 * What retention must not delete beyond its rules: the newest backup that
 * passed verification (so a job always keeps one proven copy, even when
 * newer ones failed), and, while an anomaly flag stands, the flagged backup
 * and every older one (the good copies from before a table was emptied).
 * Rejects when the records cannot be read: retention then deletes nothing,
 * rather than guess.
 */
export async function findRetentionHolds(store: Store, job: string, backups: readonly DatedBackup[], signal?: AbortSignal): Promise<RetentionHolds> {
  const holds: RetentionHolds = { keys: new Set(), reasons: [] };
  const present = new Set(backups.map((backup) => backup.key));
  const verified = (await readJobVerifications(store, job, signal)).find((entry) => entry.result === 'passed' && present.has(entry.key));
  if (verified) {
    holds.keys.add(verified.key);
    holds.reasons.push(`${verified.key} is the newest backup that passed verification (${verified.verifiedAt})`);
  }
  for (const flag of await readOpenAnomalies(store, job, signal)) {
    const until = Date.parse(flag.takenAt);
    const held = backups.filter((backup) => backup.time.getTime() <= until || backup.key === flag.key);
    for (const backup of held) holds.keys.add(backup.key);
    holds.reasons.push(
      `the anomaly of ${flag.key} (${flag.reasons.join('; ')}) is not accepted: holding it and ${held.length - (present.has(flag.key) ? 1 : 0)} older backups; accept it with backupctl accept ${job} ${flag.key}`,
    );
  }
  return holds;
}
