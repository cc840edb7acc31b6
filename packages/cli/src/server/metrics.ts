import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { HealthState, JobHealth } from './health-state.js';

/**
 * A Prometheus registry (its own, never prom-client's global one) whose
 * backup metrics are read from the health state at scrape time, so the two
 * can never disagree:
 *
 * - `backupctl_last_success_timestamp_seconds{job}` end of the last successful backup
 * - `backupctl_last_failure_timestamp_seconds{job}` end of the last failed one
 * - `backupctl_last_duration_seconds{job}` duration of the last run that was not skipped
 * - `backupctl_last_size_bytes{job}` stored size of the last successful backup
 * - `backupctl_runs_total{job,result}` runs by result (succeeded, failed, skipped)
 * - `backupctl_running` 1 while a backup runs
 * - `backupctl_last_verify_success_timestamp_seconds{job}` end of the last verification that passed
 * - `backupctl_last_verify_duration_seconds{job}` restore time of the last verification (its whole time when it did not restore)
 * - `backupctl_verify_runs_total{job,result}` verifications by result (passed, failed)
 * - `backupctl_anomalies_total{job}` runs whose backup the anomaly guard flagged
 * - `backupctl_stale{job}` 1 while the job's newest backup in the store is older than its `staleAfterHours`, else 0 (checked jobs only)
 * - `backupctl_store_last_backup_timestamp_seconds{job}` when that newest backup ended, as the store says (any process's)
 *
 * plus the Node.js process metrics (`process_*`, `nodejs_*`).
 */
export function createMetricsRegistry(state: HealthState): Registry {
  const registry = new Registry();
  const perJob = (name: string, help: string, value: (job: JobHealth) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['job'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [job, health] of state.jobs) {
          const current = value(health);
          if (current !== undefined) this.set({ job }, current);
        }
      },
    });
  // Counters whose counts live in the state: each scrape sets them from there. With `result`, one series per result.
  const perJobCounter = (name: string, help: string, count: ((job: JobHealth) => number) | { byResult: (job: JobHealth) => Record<string, number> }) =>
    new Counter({
      name,
      help,
      labelNames: typeof count === 'function' ? ['job'] : ['job', 'result'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [job, health] of state.jobs) {
          if (typeof count === 'function') this.inc({ job }, count(health));
          else for (const [result, runs] of Object.entries(count.byResult(health))) this.inc({ job, result }, runs);
        }
      },
    });

  perJob('backupctl_last_success_timestamp_seconds', 'Unix time the last successful backup of the job ended.', (job) =>
    job.lastSuccess && seconds(job.lastSuccess.at));
  perJob('backupctl_last_failure_timestamp_seconds', 'Unix time the last failed backup of the job ended.', (job) =>
    job.lastFailure && seconds(job.lastFailure.at));
  perJob('backupctl_last_duration_seconds', 'Duration of the last backup of the job that ran (succeeded or failed).', (job) =>
    lastAttempt(job)?.durationSeconds);
  perJob('backupctl_last_size_bytes', 'Stored size of the last successful backup of the job.', (job) => job.lastSuccess?.sizeBytes);
  perJobCounter('backupctl_runs_total', 'Backup runs of the job since the process started, by result.', { byResult: (job) => job.runs });

  new Gauge({
    name: 'backupctl_running',
    help: '1 while a backup runs, else 0.',
    registers: [registry],
    collect() {
      this.set(state.running ? 1 : 0);
    },
  });

  perJob('backupctl_last_verify_success_timestamp_seconds', 'Unix time the last verification of the job that passed ended.', (job) =>
    job.lastVerifiedAt && seconds(job.lastVerifiedAt));
  perJob(
    'backupctl_last_verify_duration_seconds',
    'Restore time of the last verification of the job (what a recovery takes); its whole time when it failed before the restore ended.',
    (job) => job.lastVerification && (job.lastVerification.restoreSeconds ?? job.lastVerification.durationSeconds),
  );
  perJobCounter('backupctl_verify_runs_total', 'Verifications of the job since the process started (schedule and verify hook), by result.', {
    byResult: (job) => job.verifications,
  });
  perJobCounter('backupctl_anomalies_total', 'Runs of the job since the process started whose backup the anomaly guard flagged.', (job) => job.anomalies);

  perJob('backupctl_stale', "1 while the job's newest backup in the store is older than its staleAfterHours, else 0.", (job) =>
    job.freshness && (job.freshness.stale ? 1 : 0));
  perJob('backupctl_store_last_backup_timestamp_seconds', "Unix time the job's newest backup in the store ended (the copy furthest behind), whoever wrote it.", (job) =>
    job.freshness?.lastBackupAt && seconds(job.freshness.lastBackupAt));

  collectDefaultMetrics({ register: registry });
  return registry;
}

function seconds(date: Date): number {
  return date.getTime() / 1000;
}

function lastAttempt(job: JobHealth): { at: Date; durationSeconds: number } | undefined {
  const { lastSuccess, lastFailure } = job;
  if (!lastSuccess || !lastFailure) return lastSuccess ?? lastFailure;
  return lastSuccess.at >= lastFailure.at ? lastSuccess : lastFailure;
}
