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

  perJob('backupctl_last_success_timestamp_seconds', 'Unix time the last successful backup of the job ended.', (job) =>
    job.lastSuccess && seconds(job.lastSuccess.at));
  perJob('backupctl_last_failure_timestamp_seconds', 'Unix time the last failed backup of the job ended.', (job) =>
    job.lastFailure && seconds(job.lastFailure.at));
  perJob('backupctl_last_duration_seconds', 'Duration of the last backup of the job that ran (succeeded or failed).', (job) =>
    lastAttempt(job)?.durationSeconds);
  perJob('backupctl_last_size_bytes', 'Stored size of the last successful backup of the job.', (job) => job.lastSuccess?.sizeBytes);

  new Counter({
    name: 'backupctl_runs_total',
    help: 'Backup runs of the job since the process started, by result.',
    labelNames: ['job', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [job, health] of state.jobs) {
        for (const [result, count] of Object.entries(health.runs)) this.inc({ job, result }, count);
      }
    },
  });

  new Gauge({
    name: 'backupctl_running',
    help: '1 while a backup runs, else 0.',
    registers: [registry],
    collect() {
      this.set(state.running ? 1 : 0);
    },
  });

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
