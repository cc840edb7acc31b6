import type { JobResult, JobStatus } from '@backupctl/core';

/** What is known about one job since the process started. Numbers only: never a URL, key or password. */
export interface JobHealth {
  /** Runs by result since the process started. */
  runs: Record<JobStatus, number>;
  lastRun?: { result: JobStatus; at: Date; durationSeconds: number };
  lastSuccess?: { at: Date; sizeBytes: number; sourceBytes: number; durationSeconds: number };
  /** The error's code only: messages may name hosts and databases. */
  lastFailure?: { at: Date; code: string; durationSeconds: number };
}

/** `/health`'s body. */
export interface HealthReport {
  /** `ok` unless a job's last run failed (`failing`), or before the pipeline is loaded (`starting`). */
  status: 'starting' | 'ok' | 'failing';
  ready: boolean;
  /** True while a backup runs. */
  running: boolean;
  uptimeSeconds: number;
  version: string;
  schedule?: { pattern: string; timezone: 'UTC'; nextRun: string | null };
  jobs: Record<string, JobHealthJson>;
}

interface JobHealthJson {
  runs: Record<JobStatus, number>;
  lastRun: { result: JobStatus; at: string; durationSeconds: number } | null;
  lastSuccess: { at: string; sizeBytes: number; sourceBytes: number; durationSeconds: number } | null;
  lastFailure: { at: string; code: string; durationSeconds: number } | null;
}

/**
 * The service's state as the health endpoints and metrics see it: whether
 * the pipeline is loaded (ready), whether a run is going, and each job's
 * last results. Fed from the engine's RunSummary; holds nothing secret.
 */
export class HealthState {
  ready = false;
  running = false;
  schedule?: { pattern: string; nextRun(): Date | null };
  readonly jobs = new Map<string, JobHealth>();
  private readonly startedAt: Date;

  constructor(
    readonly version: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.startedAt = now();
  }

  /** Marks the service ready and lists its jobs, so they show (with zero runs) before the first run. */
  markReady(jobNames: readonly string[]): void {
    for (const name of jobNames) this.job(name);
    this.ready = true;
  }

  recordJob(result: JobResult): void {
    const job = this.job(result.job);
    const at = this.now();
    const durationSeconds = result.durationMs / 1000;
    job.runs[result.status] += 1;
    job.lastRun = { result: result.status, at, durationSeconds };
    if (result.status === 'succeeded' && result.artifact) {
      job.lastSuccess = { at, sizeBytes: result.artifact.size, sourceBytes: result.artifact.sourceSize, durationSeconds };
    } else if (result.status === 'failed') {
      job.lastFailure = { at, code: result.error?.code ?? 'INTERNAL', durationSeconds };
    }
  }

  report(): HealthReport {
    const jobs: Record<string, JobHealthJson> = {};
    let failing = false;
    for (const [name, job] of this.jobs) {
      failing ||= job.lastRun?.result === 'failed';
      jobs[name] = {
        runs: { ...job.runs },
        lastRun: job.lastRun ? { ...job.lastRun, at: job.lastRun.at.toISOString() } : null,
        lastSuccess: job.lastSuccess ? { ...job.lastSuccess, at: job.lastSuccess.at.toISOString() } : null,
        lastFailure: job.lastFailure ? { ...job.lastFailure, at: job.lastFailure.at.toISOString() } : null,
      };
    }
    return {
      status: !this.ready ? 'starting' : failing ? 'failing' : 'ok',
      ready: this.ready,
      running: this.running,
      uptimeSeconds: Math.round((this.now().getTime() - this.startedAt.getTime()) / 1000),
      version: this.version,
      ...(this.schedule && {
        schedule: { pattern: this.schedule.pattern, timezone: 'UTC' as const, nextRun: this.schedule.nextRun()?.toISOString() ?? null },
      }),
      jobs,
    };
  }

  private job(name: string): JobHealth {
    let job = this.jobs.get(name);
    if (!job) {
      job = { runs: { succeeded: 0, skipped: 0, failed: 0 } };
      this.jobs.set(name, job);
    }
    return job;
  }
}
