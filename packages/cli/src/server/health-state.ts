import type { JobResult, JobStatus } from '@backupctl/core';
import type { Verification } from '@backupctl/plugin-api';

export type VerifyResult = Verification['result'];

/** What the health state keeps of a verification: a recorded Verification has it, and so does one that failed before recording. */
export type VerificationSummary = Pick<Verification, 'job' | 'result' | 'verifiedAt' | 'durationMs' | 'restoreMs'>;

/** What is known about one job since the process started. Numbers only: never a URL, key or password. */
export interface JobHealth {
  /** Runs by result since the process started. */
  runs: Record<JobStatus, number>;
  lastRun?: { result: JobStatus; at: Date; durationSeconds: number };
  lastSuccess?: { at: Date; sizeBytes: number; sourceBytes: number; durationSeconds: number };
  /** The error's code and hint only: messages may name hosts and databases. The hint is for the status page, not /health. */
  lastFailure?: { at: Date; code: string; durationSeconds: number; hint?: string };
  /** Verifications by result, from the verify schedule and from runs (the verify hook). */
  verifications: Record<VerifyResult, number>;
  /** `restoreSeconds`: the restore alone, absent when it failed before the restore ended. */
  lastVerification?: { result: VerifyResult; at: Date; durationSeconds: number; restoreSeconds?: number };
  lastVerifiedAt?: Date;
  /** Runs whose backup the anomaly guard flagged. */
  anomalies: number;
  /** The last staleness check (serve's `staleAfterHours`); absent when the job is not checked. */
  freshness?: Freshness;
}

/** What the staleness check found: the newest backup in the store (of the copy furthest behind) and whether it is too old. */
export interface Freshness {
  stale: boolean;
  lastBackupAt?: Date;
  staleAfterHours: number;
  checkedAt: Date;
}

type ScheduleJson = { pattern: string; timezone: 'UTC'; nextRun: string | null };

/** `/health`'s body. */
export interface HealthReport {
  /**
   * `ok`, unless a job's last run failed (`failing`), or a job's newest
   * backup in the store is older than its `staleAfterHours` (`stale`), or
   * before the pipeline is loaded (`starting`). Failing wins over stale.
   */
  status: 'starting' | 'ok' | 'failing' | 'stale';
  ready: boolean;
  /** True while a backup runs. */
  running: boolean;
  uptimeSeconds: number;
  version: string;
  schedule?: ScheduleJson;
  verifySchedule?: ScheduleJson;
  jobs: Record<string, JobHealthJson>;
}

interface JobHealthJson {
  runs: Record<JobStatus, number>;
  lastRun: { result: JobStatus; at: string; durationSeconds: number } | null;
  lastSuccess: { at: string; sizeBytes: number; sourceBytes: number; durationSeconds: number } | null;
  lastFailure: { at: string; code: string; durationSeconds: number } | null;
  /** No key: the report names no object (see JobHealth). */
  lastVerification: { result: VerifyResult; at: string; durationSeconds: number; restoreSeconds: number | null } | null;
  /** Null until checked, or when the job has no staleness limit. */
  freshness: { stale: boolean; lastBackupAt: string | null; staleAfterHours: number; checkedAt: string } | null;
}

/**
 * The service's state as the health endpoints and metrics see it: whether
 * the pipeline is loaded (ready), whether a run is going, and each job's
 * last results and verifications. Fed from the engine's RunSummary and the
 * verify schedule; holds nothing secret.
 */
export class HealthState {
  ready = false;
  running = false;
  schedule?: { pattern: string; nextRun(): Date | null };
  verifySchedule?: { pattern: string; nextRun(): Date | null };
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

  /** A run's result, with the verifications the verify hook ran in it. */
  recordJob(result: JobResult): void {
    const job = this.job(result.job);
    const at = this.now();
    const durationSeconds = result.durationMs / 1000;
    job.runs[result.status] += 1;
    job.lastRun = { result: result.status, at, durationSeconds };
    if (result.status === 'succeeded' && result.artifact) {
      job.lastSuccess = { at, sizeBytes: result.artifact.size, sourceBytes: result.artifact.sourceSize, durationSeconds };
    } else if (result.status === 'failed') {
      job.lastFailure = { at, code: result.error?.code ?? 'INTERNAL', durationSeconds, ...(result.error?.hint && { hint: result.error.hint }) };
    }
    if (result.artifact?.anomaly) job.anomalies += 1;
    for (const verification of result.verifications ?? []) this.recordVerification(verification);
  }

  /** One verification, under its job's name (a whole-server job's part: the part's name, as its run results). */
  recordVerification(verification: VerificationSummary): void {
    const job = this.job(verification.job);
    const at = new Date(verification.verifiedAt);
    job.verifications[verification.result] += 1;
    job.lastVerification = {
      result: verification.result,
      at,
      durationSeconds: verification.durationMs / 1000,
      ...(verification.restoreMs !== undefined && { restoreSeconds: verification.restoreMs / 1000 }),
    };
    if (verification.result === 'passed') job.lastVerifiedAt = at;
  }

  /** A staleness check's finding for one job. */
  recordFreshness(name: string, freshness: Freshness): void {
    this.job(name).freshness = freshness;
  }

  report(): HealthReport {
    const jobs: Record<string, JobHealthJson> = {};
    let failing = false;
    let stale = false;
    for (const [name, job] of this.jobs) {
      failing ||= job.lastRun?.result === 'failed';
      stale ||= job.freshness?.stale === true;
      const { lastVerification, freshness } = job;
      jobs[name] = {
        runs: { ...job.runs },
        lastRun: job.lastRun ? { ...job.lastRun, at: job.lastRun.at.toISOString() } : null,
        lastSuccess: job.lastSuccess ? { ...job.lastSuccess, at: job.lastSuccess.at.toISOString() } : null,
        lastFailure: job.lastFailure ? { at: job.lastFailure.at.toISOString(), code: job.lastFailure.code, durationSeconds: job.lastFailure.durationSeconds } : null,
        lastVerification: lastVerification
          ? {
              result: lastVerification.result,
              at: lastVerification.at.toISOString(),
              durationSeconds: lastVerification.durationSeconds,
              restoreSeconds: lastVerification.restoreSeconds ?? null,
            }
          : null,
        freshness: freshness
          ? {
              stale: freshness.stale,
              lastBackupAt: freshness.lastBackupAt?.toISOString() ?? null,
              staleAfterHours: freshness.staleAfterHours,
              checkedAt: freshness.checkedAt.toISOString(),
            }
          : null,
      };
    }
    return {
      status: !this.ready ? 'starting' : failing ? 'failing' : stale ? 'stale' : 'ok',
      ready: this.ready,
      running: this.running,
      uptimeSeconds: Math.round((this.now().getTime() - this.startedAt.getTime()) / 1000),
      version: this.version,
      ...(this.schedule && { schedule: scheduleJson(this.schedule) }),
      ...(this.verifySchedule && { verifySchedule: scheduleJson(this.verifySchedule) }),
      jobs,
    };
  }

  private job(name: string): JobHealth {
    let job = this.jobs.get(name);
    if (!job) {
      job = { runs: { succeeded: 0, skipped: 0, failed: 0 }, verifications: { passed: 0, failed: 0 }, anomalies: 0 };
      this.jobs.set(name, job);
    }
    return job;
  }
}

function scheduleJson(schedule: { pattern: string; nextRun(): Date | null }): ScheduleJson {
  return { pattern: schedule.pattern, timezone: 'UTC', nextRun: schedule.nextRun()?.toISOString() ?? null };
}
