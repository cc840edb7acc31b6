import path from 'node:path';
import { formatSize, type Artifact, type Notification, type Verification } from '@backupctl/plugin-api';
import type { BackupctlError } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import { describeFailure, describePassed } from '../hooks/verification-text.js';

// Each event of a job as a Notification; the summaries read as the job's log lines do.

type JobLabel = Pick<LoadedJob, 'name' | 'title'>;

/** One copy's outcome, as a run's result gives it (backup/run-job.ts's CopyResult, which imports this module). */
interface CopyOutcome {
  name: string;
  required: boolean;
  status: 'stored' | 'failed';
  error?: BackupctlError;
}

/** What a run's result says, as far as notifications need it (run-job.ts's JobResult). */
interface RunOutcome {
  job: string;
  status: 'succeeded' | 'skipped' | 'failed';
  reason?: string;
  artifact?: Artifact;
  error?: BackupctlError;
  durationMs: number;
  verifications?: Verification[];
  copies?: CopyOutcome[];
}

function base(job: JobLabel, event: Notification['event'], summary: string, at = new Date()): Notification {
  return { event, job: job.name, title: job.title, at: at.toISOString(), summary };
}

const fileOf = (key: string) => path.posix.basename(key);

export function startNotification(job: JobLabel, at: Date): Notification {
  return base(job, 'start', `${job.title} backup started`, at);
}

export function skippedNotification(job: JobLabel, reason: string): Notification {
  return { ...base(job, 'skipped', `${job.title} backup skipped: ${reason}`), reason };
}

function artifactFields(artifact: Artifact): Partial<Notification> {
  return {
    key: artifact.key,
    size: artifact.size,
    sourceSize: artifact.sourceSize,
    sha256: artifact.sha256,
    ...(artifact.manifest?.tables ? { tables: Object.keys(artifact.manifest.tables).length } : {}),
  };
}

const copiesOfResult = (copies: CopyOutcome[] | undefined) =>
  copies?.map(({ name, status, required }) => ({ name, status, required }));

/** `success` or `failure` for a run's result (a skipped result has skippedNotification). */
export function resultNotification(job: JobLabel, result: RunOutcome, logTail: string[]): Notification {
  const copies = copiesOfResult(result.copies);
  if (result.status === 'succeeded') {
    const artifact = result.artifact!;
    return {
      ...base(job, 'success', `${job.title} backup complete: ${fileOf(artifact.key)} (${formatSize(artifact.size)})`),
      ...artifactFields(artifact),
      durationMs: result.durationMs,
      ...(copies ? { copies } : {}),
    };
  }
  const error = result.error;
  const failedVerification = result.verifications?.find((verification) => verification.result === 'failed');
  return {
    ...base(job, 'failure', `${job.title} backup failed: ${error?.message ?? 'unknown error'}`),
    ...(result.artifact ? artifactFields(result.artifact) : {}),
    durationMs: result.durationMs,
    ...(error ? { error: errorFields(error) } : {}),
    ...(copies ? { copies } : {}),
    ...(failedVerification ? { differences: failedVerification.differences.slice(0, 50), tables: failedVerification.tables } : {}),
    logTail,
  };
}

/**
 * A whole-server job's run, told once: `failure` when a database failed
 * (naming each), `skipped` when every one was, else `success` with the
 * total size.
 */
export function partsNotification(job: JobLabel, results: readonly RunOutcome[], durationMs: number, logTail: string[]): Notification {
  const parts = results.map((result) => ({
    name: result.job,
    status: result.status,
    ...(result.artifact ? { key: result.artifact.key } : {}),
    ...(result.error ? { error: result.error.message } : {}),
  }));
  const failed = results.filter((result) => result.status === 'failed');
  if (failed.length) {
    const named = failed.slice(0, 10).map((result) => `${result.job} (${result.error?.message ?? 'unknown error'})`).join(', ');
    const more = failed.length > 10 ? `, and ${failed.length - 10} more` : '';
    return {
      ...base(job, 'failure', `${job.title} backup failed: ${failed.length} of ${results.length} databases failed: ${named}${more}`),
      durationMs,
      ...(failed[0]!.error ? { error: errorFields(failed[0]!.error) } : {}),
      parts,
      logTail,
    };
  }
  if (results.every((result) => result.status === 'skipped')) {
    const reason = `every database was skipped (${results[0]?.reason ?? 'nothing to back up'})`;
    return { ...base(job, 'skipped', `${job.title} backup skipped: ${reason}`), reason, parts };
  }
  const size = results.reduce((total, result) => total + (result.artifact?.size ?? 0), 0);
  const stored = results.filter((result) => result.status === 'succeeded').length;
  return {
    ...base(job, 'success', `${job.title} backup complete: ${stored} of ${results.length} databases (${formatSize(size)})`),
    size,
    durationMs,
    parts,
  };
}

/** One of several copies failed while the job succeeded (it was not required). */
export function copyFailedNotification(job: JobLabel, copy: CopyOutcome, result: RunOutcome): Notification {
  return {
    ...base(job, 'copy-failed', `${job.title} copy ${copy.name} failed: ${copy.error?.message ?? 'unknown error'} (not required: the job succeeded)`),
    copy: copy.name,
    ...(result.artifact ? artifactFields(result.artifact) : {}),
    ...(copy.error ? { error: errorFields(copy.error) } : {}),
    copies: copiesOfResult(result.copies),
  };
}

export function anomalyNotification(job: JobLabel, artifact: Artifact): Notification {
  const reasons = artifact.anomaly?.reasons ?? [];
  return {
    ...base(job, 'anomaly', `${job.title} backup anomaly in ${fileOf(artifact.key)}: ${reasons.join('; ')}`),
    ...artifactFields(artifact),
    reasons,
  };
}

/** A verification outside a run (`backupctl verify`, the verify schedule). */
export function verificationNotification(job: JobLabel, verification: Verification): Notification {
  const passed = verification.result === 'passed';
  const what = passed
    ? `verified: ${fileOf(verification.key)} ${describePassed(verification)}`
    : `verification FAILED for ${fileOf(verification.key)}: ${describeFailure(verification)}`;
  return {
    ...base(job, passed ? 'verified' : 'verify-failed', `${job.title} ${what}`, new Date(verification.verifiedAt)),
    key: verification.key,
    durationMs: verification.durationMs,
    tables: verification.tables,
    ...(verification.error ? { error: { code: verification.error.code, message: verification.error.message } } : {}),
    ...(passed ? {} : { differences: verification.differences.slice(0, 50) }),
  };
}

/** `serve` found the job's newest backup too old (`stale`), or a newer one since (`recovered`). */
export function stalenessNotification(job: JobLabel, stale: boolean, lastBackupAt: Date | undefined, staleAfterHours: number, part?: string): Notification {
  const of = part ? ` of ${part}` : '';
  const last = lastBackupAt ? `the newest backup${of} is from ${lastBackupAt.toISOString()}` : `the store holds no backup${of}`;
  const summary = stale
    ? `${job.title} backups are stale: ${last}, more than ${staleAfterHours} h ago`
    : `${job.title} backups are fresh again: ${last}`;
  return { ...base(job, stale ? 'stale' : 'recovered', summary), ...(lastBackupAt ? { lastBackupAt: lastBackupAt.toISOString() } : {}), staleAfterHours };
}

export function testNotification(job: JobLabel): Notification {
  return base(job, 'test', `${job.title}: a test message from backupctl notify-test`);
}

function errorFields(error: BackupctlError): NonNullable<Notification['error']> {
  return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
}
