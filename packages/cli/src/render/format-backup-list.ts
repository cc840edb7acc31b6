import { formatSize } from '@backupctl/plugin-api';
import type { JobBackups } from '@backupctl/core';

/** What `ls` prints for a job that has no backups yet. */
export const NO_BACKUPS = '  (none)';

/**
 * The reference service's `--list` text:
 *
 * ```
 * Available backups in clara-backups:
 *
 * Clara DB backups:
 *   - backups/clara/clara_20260201_030000.sql.gz (2.5 MB)
 * ```
 *
 * A job with several copies shows, after the size, the copies holding each
 * backup: `(2.5 MB) [copies: s3, nas]`; the header names the first copy's
 * location. One "Available backups in" header per store location (jobs sharing a
 * bucket share it), in the order the jobs come; a blank line between jobs
 * and between locations. No trailing newline.
 */
export function formatBackupList(listing: readonly JobBackups[]): string {
  const byLocation = new Map<string, JobBackups[]>();
  for (const entry of listing) byLocation.set(entry.location, [...(byLocation.get(entry.location) ?? []), entry]);
  const sections = [...byLocation].map(([location, jobs]) =>
    [`Available backups in ${location}:`, ...jobs.flatMap((job) => ['', ...formatJob(job)])].join('\n'),
  );
  return sections.join('\n\n');
}

function formatJob(job: JobBackups): string[] {
  // A job with one copy lists as it always did; with several, each backup names the copies holding it.
  const held = (backup: JobBackups['backups'][number]) => (job.copies.length > 1 ? ` [copies: ${backup.copies.join(', ')}]` : '');
  const lines = job.backups.map((backup) => `  - ${backup.key} (${formatSize(backup.size)})${held(backup)}${marks(backup)}`);
  return [`${job.title} backups:`, ...(lines.length ? lines : [NO_BACKUPS])];
}

/** ` [verified]`, ` [verify FAILED]`, ` [anomaly: not accepted]`, after the size. */
function marks(backup: JobBackups['backups'][number]): string {
  const shown = [
    ...(backup.verified === 'passed' ? ['verified'] : backup.verified === 'failed' ? ['verify FAILED'] : []),
    ...(backup.anomaly ? ['anomaly: not accepted'] : []),
  ];
  return shown.map((mark) => ` [${mark}]`).join('');
}

/** One backup as `ls --json` prints it. */
export interface BackupListItem {
  job: string;
  location: string;
  key: string;
  size: number;
  /** ISO 8601 UTC, from the backup's name. */
  time: string;
  /** Its last verification's result, when it was verified. */
  verified?: 'passed' | 'failed';
  /** True while an anomaly flag on it is not accepted. */
  anomaly?: boolean;
  /** The job's copies holding it, by name (one, for a job with one sink). */
  copies: string[];
}

/** The listing flattened for `ls --json`: every backup, job by job, newest first. */
export function backupListItems(listing: readonly JobBackups[]): BackupListItem[] {
  return listing.flatMap((entry) =>
    entry.backups.map((backup) => ({
      job: entry.job,
      location: entry.location,
      key: backup.key,
      size: backup.size,
      time: backup.time.toISOString(),
      ...(backup.verified ? { verified: backup.verified } : {}),
      ...(backup.anomaly ? { anomaly: true } : {}),
      copies: backup.copies,
    })),
  );
}
