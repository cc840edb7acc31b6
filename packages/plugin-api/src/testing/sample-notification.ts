import { formatSize } from '../format-size.js';
import type { Notification, NotificationEvent } from '../notification.js';

// One realistic notification per event, as backupctl hands them to a
// notifier: the `clara` job, titled `Clara DB`, at a fixed time.

const KEY = 'backups/clara/clara_20260301_030007.sql.gz';

/** The stored backup, as the events about one carry it. */
const ARTIFACT: Partial<Notification> = {
  key: KEY,
  size: 4_404_019,
  sourceSize: 19_321_753,
  sha256: '64427adf0d6d019faf86ed2923b8be4dbcfde4fa6d3aa0e3541a571c30fc5657',
};

/** What each event carries besides event, job, title, at and summary. */
const FIELDS: Record<NotificationEvent, Partial<Notification>> = {
  start: {},
  success: { ...ARTIFACT, durationMs: 65_000 },
  failure: {
    durationMs: 1200,
    error: { code: 'SOURCE_FAILED', message: 'pg_dump: database "nope" does not exist', hint: 'check DATABASE_URL' },
    logTail: ['ERROR: Clara DB backup failed: pg_dump: database "nope" does not exist', 'INFO: Hint for Clara DB: check DATABASE_URL'],
  },
  skipped: { reason: 'last backup 2026-03-01 02:10:03 UTC (50 minutes ago); next allowed after 2026-03-02 01:10:03 UTC (respawn protection: 23 hours)' },
  'copy-failed': {
    ...ARTIFACT,
    copy: 'offsite',
    error: { code: 'SINK_FAILED', message: 'HTTP 503 after 3 attempts' },
    copies: [
      { name: 'primary', status: 'stored', required: true },
      { name: 'offsite', status: 'failed', required: false },
    ],
  },
  anomaly: { ...ARTIFACT, reasons: ['dump size shrank by 62% (11.1 MB -> 4.2 MB)', 'public.orders: 1250 rows -> empty'] },
  verified: { key: KEY, durationMs: 6500, tables: 12 },
  'verify-failed': { key: KEY, durationMs: 6500, tables: 12, differences: [{ table: 'public.orders', expected: 1250, restored: 1249 }] },
  stale: { lastBackupAt: '2026-02-27T03:00:07.000Z', staleAfterHours: 26 },
  recovered: { lastBackupAt: '2026-03-01T02:58:40.000Z', staleAfterHours: 26 },
  test: {},
};

const fileOf = (key: string | undefined) => key?.split('/').pop() ?? '';

/** Each event's summary, written from its values as backupctl writes it. */
const SUMMARIES: Record<NotificationEvent, (notification: Notification) => string> = {
  start: ({ title }) => `${title} backup started`,
  success: ({ title, key, size }) => `${title} backup complete: ${fileOf(key)} (${formatSize(size ?? 0)})`,
  failure: ({ title, error }) => `${title} backup failed: ${error?.message ?? 'unknown error'}`,
  skipped: ({ title, reason }) => `${title} backup skipped: ${reason ?? ''}`,
  'copy-failed': ({ title, copy, error }) => `${title} copy ${copy ?? ''} failed: ${error?.message ?? 'unknown error'} (not required: the job succeeded)`,
  anomaly: ({ title, key, reasons }) => `${title} backup anomaly in ${fileOf(key)}: ${(reasons ?? []).join('; ')}`,
  verified: ({ title, key, tables }) => `${title} verified: ${fileOf(key)} all ${tables ?? 0} tables match its manifest`,
  'verify-failed': ({ title, key, tables, differences = [] }) => {
    const shown = differences.map((row) => `${row.table} (expected ${row.expected ?? 'no table'}, restored ${row.restored ?? 'no table'})`);
    return `${title} verification FAILED for ${fileOf(key)}: ${differences.length} of ${tables ?? 0} tables differ: ${shown.join(', ')}`;
  },
  stale: ({ title, lastBackupAt, staleAfterHours }) =>
    `${title} backups are stale: ${lastBackupAt ? `the newest backup is from ${lastBackupAt}` : 'the store holds no backup'}, more than ${staleAfterHours ?? 0} h ago`,
  recovered: ({ title, lastBackupAt }) => `${title} backups are fresh again: ${lastBackupAt ? `the newest backup is from ${lastBackupAt}` : 'the store holds no backup'}`,
  test: ({ title }) => `${title}: a test message from backupctl notify-test`,
};

/**
 * A realistic notification of `event` for a notifier's tests: job `clara`,
 * title `Clara DB`, at 2026-03-01T03:00:07.000Z, with what backupctl gives
 * that event (a failure its error, hint, duration and log tail; a success
 * its key, sizes, checksum and duration; ...) and no `runId` (give one to
 * pair a run's events). `overrides` replace fields; the summary is written
 * from the result (`{ title: 'Base de données' }` retitles it too) unless
 * they give one.
 *
 *   await notify(sampleNotification('failure', { error: { code: 'SOURCE_FAILED', message: 'boom' } }));
 */
export function sampleNotification(event: NotificationEvent, overrides: Partial<Omit<Notification, 'event'>> = {}): Notification {
  const fields: Notification = { event, job: 'clara', title: 'Clara DB', at: '2026-03-01T03:00:07.000Z', summary: '', ...structuredClone(FIELDS[event]), ...overrides };
  return { ...fields, summary: overrides.summary ?? SUMMARIES[event](fields) };
}
