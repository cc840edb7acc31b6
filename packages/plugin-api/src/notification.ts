/**
 * What notifiers hear: the events of a job (a run, a verification, the
 * store's staleness) as one shape, whoever sends them (`backupctl run`,
 * `verify`, `serve`, `notify-test`).
 */

/** Every event a notifier can listen for (`on:`), in the order a job meets them. */
export const NOTIFICATION_EVENTS = [
  'start',
  'success',
  'failure',
  'skipped',
  'copy-failed',
  'anomaly',
  'verified',
  'verify-failed',
  'stale',
  'recovered',
] as const;

/**
 * - `start`: a run begins, before anything can fail or skip it (a
 *   dead-man monitor sees every run begin).
 * - `success` / `failure`: the run's result. A run that failed because its
 *   backup did not verify reaches a notifier listening for `verify-failed`
 *   as that event, not as a second `failure`.
 * - `skipped`: the run was skipped (respawn: a recent backup exists;
 *   another run holds the job's lock), after its `start`.
 * - `copy-failed`: one of several copies failed and the job still succeeded
 *   (it was not required); a failed required copy fails the run instead.
 * - `anomaly`: the anomaly guard flagged the new backup.
 * - `verified` / `verify-failed`: a verification outside a run (`backupctl
 *   verify`, `serve --verify-schedule`), and a run's failed one.
 * - `stale` / `recovered`: `serve` found the job's newest backup older than
 *   `staleAfterHours`, and later a newer one; once each, not per check.
 * - `test`: `backupctl notify-test`; every notifier sends it whatever `on:` says.
 */
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number] | 'test';

export interface Notification {
  event: NotificationEvent;
  job: string;
  /** The job's label (`title:`, default the job name). */
  title: string;
  /** When it happened (ISO 8601). */
  at: string;
  /** A run's events share one id (a `start` and its end pair up); absent outside a run. */
  runId?: string;
  /** One line saying what happened, secrets masked: the default text of most channels. */
  summary: string;
  /** The backup's object key. */
  key?: string;
  /** Bytes stored, and bytes the source produced before transforms. */
  size?: number;
  sourceSize?: number;
  sha256?: string;
  /** How long the run (or verification) took. */
  durationMs?: number;
  /** Why it failed, masked; `hint` says what to do about it. */
  error?: { code: string; message: string; hint?: string };
  /** Why the run was skipped. */
  reason?: string;
  /** The copy an event is about (`copy-failed`). */
  copy?: string;
  /** Every copy's outcome, when the job has several. */
  copies?: { name: string; status: 'stored' | 'failed'; required: boolean }[];
  /** A whole-server job: each database's outcome in this run (its start and end are told once, for the whole job). */
  parts?: { name: string; status: 'succeeded' | 'skipped' | 'failed'; key?: string; error?: string }[];
  /** The anomaly guard's reasons (`anomaly`). */
  reasons?: string[];
  /** Tables whose rows differ after the restore (`verify-failed`). */
  differences?: { table: string; expected?: number; restored?: number }[];
  /** How many tables the backup holds (from its manifest) or the verification compared. */
  tables?: number;
  /** `stale` / `recovered`: the newest backup's time (absent: none at all) and the limit. */
  lastBackupAt?: string;
  staleAfterHours?: number;
  /** `failure`: the run's last log lines, masked, oldest first (a dead-man monitor shows them). */
  logTail?: string[];
}

/** The word `{result}` becomes for each event. */
export function resultOf(event: NotificationEvent): string {
  switch (event) {
    case 'start':
      return 'started';
    case 'success':
    case 'verified':
      return 'succeeded';
    case 'failure':
    case 'copy-failed':
    case 'verify-failed':
      return 'failed';
    case 'skipped':
      return 'skipped';
    case 'anomaly':
      return 'flagged';
    case 'stale':
      return 'stale';
    case 'recovered':
      return 'recovered';
    case 'test':
      return 'test';
  }
}

/** True for the events that report a problem (channels colour them red, the ping monitor gets `fail`). */
export function isProblem(event: NotificationEvent): boolean {
  return event === 'failure' || event === 'copy-failed' || event === 'verify-failed' || event === 'anomaly' || event === 'stale';
}
