import type { Store } from '@backupctl/plugin-api';
import { readOpenAnomalies } from './anomaly-records.js';
import type { DatedBackup } from './job-backups.js';
import { newestFirst } from './backup-selection.js';
import { readJobVerifications, readVerification } from './verification-records.js';

/** Backups retention keeps whatever its rules say, and why (one line per reason, with the keys it holds). */
export interface RetentionHolds {
  keys: Set<string>;
  reasons: { text: string; keys: string[] }[];
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
  const hold = (text: string, keys: string[]) => {
    for (const key of keys) holds.keys.add(key);
    holds.reasons.push({ text, keys });
  };
  const proven = await newestPassed(store, job, backups, signal);
  if (proven) hold(`${proven.key} is the newest backup that passed verification (${proven.verifiedAt})`, [proven.key]);
  const present = new Set(backups.map((backup) => backup.key));
  for (const flag of await readOpenAnomalies(store, job, signal)) {
    const until = Date.parse(flag.takenAt);
    const held = backups.filter((backup) => backup.time.getTime() <= until || backup.key === flag.key).map((backup) => backup.key);
    hold(
      `the anomaly of ${flag.key} (${flag.reasons.join('; ')}) is not accepted: holding it and ${held.length - (present.has(flag.key) ? 1 : 0)} older backups; accept it with backupctl accept ${job} ${flag.key}`,
      held,
    );
  }
  return holds;
}

/**
 * The newest of the backups (by the time in its name) whose last
 * verification passed. Each backup's own record decides (the job's index,
 * written by whoever verifies, may miss an entry); the index only says
 * whether the job was ever verified, so a job never verified costs one read.
 */
async function newestPassed(store: Store, job: string, backups: readonly DatedBackup[], signal?: AbortSignal): Promise<{ key: string; verifiedAt: string } | undefined> {
  if ((await readJobVerifications(store, job, signal)).length === 0) return undefined;
  for (const backup of [...backups].sort(newestFirst)) {
    const verification = await readVerification(store, backup.key, signal);
    if (verification?.result === 'passed') return verification;
  }
  return undefined;
}
