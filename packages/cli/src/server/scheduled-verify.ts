import { canVerify, ErrorCodes, isBackupctlError, type Logger, type Secrets, type Verification } from '@backupctl/plugin-api';
import {
  createInstance,
  describeFailure,
  describePassed,
  emptyArtifactInfo,
  verifyJobOrParts,
  type BackupSelection,
  type ExpandedVerifyOutcome,
  type LoadedJob,
  type VerifyJobOptions,
  type VerifyOutcome,
} from '@backupctl/core';
import type { VerificationSummary } from './health-state.js';

export interface ScheduledVerifyOptions {
  logger: Logger;
  secrets: Secrets;
  /** Stops a verification (SIGTERM): the restore is aborted, the scratch database dropped. */
  signal: AbortSignal;
  /** Where to create the scratch databases (`--scratch-url`); default: each job's own server. */
  scratchUrl?: string;
  /** Which backup (the status page's verify button); default the newest. */
  selection?: BackupSelection;
  now?: () => Date;
  /** Each verification as it ends, passed or failed. */
  record(verification: VerificationSummary): void;
  /** The core's verify, replaced in tests. */
  verify?: (job: LoadedJob, options: VerifyJobOptions) => Promise<VerifyOutcome | ExpandedVerifyOutcome>;
}

/**
 * `serve --verify-schedule`: verifies the newest backup of one job (each
 * database part of a whole-server job) as `backupctl verify` does, records
 * the result in the store and tells the job's hooks. Never rejects: a
 * backup that fails its verification, or a verification that cannot run,
 * is an error line and a failed verification in the health state, and the
 * server goes on. Nothing is recorded when the job has no backup yet, its
 * source cannot verify, or the service is stopping.
 */
export async function verifyNewestBackup(job: LoadedJob, options: ScheduledVerifyOptions): Promise<void> {
  const { logger, signal } = options;
  const now = options.now ?? (() => new Date());
  if (job.skipReason || !job.source || !job.sink) {
    logger.info(`${job.title}: not verified, the job is not configured here${job.skipReason ? ` (${job.skipReason})` : ''}`, { job: job.name, event: 'verify-skipped' });
    return;
  }
  const started = now();
  try {
    if (!(await sourceCanVerify(job, options))) {
      logger.info(`${job.title}: not verified, the "${job.source.use}" source cannot verify (no scratch database or row counts)`, { job: job.name, event: 'verify-skipped' });
      return;
    }
    const verify = options.verify ?? verifyJobOrParts;
    const outcome = await verify(job, { logger, secrets: options.secrets, signal, now: options.now, scratchUrl: options.scratchUrl, selection: options.selection ?? {}, notify: true });
    for (const { verification } of 'parts' in outcome ? outcome.parts : [outcome]) {
      report(job, verification, logger);
      options.record(verification);
    }
  } catch (error) {
    if (signal.aborted) {
      logger.info(`${job.title}: verification stopped (${signal.reason instanceof Error ? signal.reason.message : 'stopping'})`, { job: job.name, event: 'verify-stopped' });
      return;
    }
    if (isBackupctlError(error) && error.code === ErrorCodes.BACKUP_NOT_FOUND) {
      logger.info(`${job.title}: not verified, no backup yet`, { job: job.name, event: 'verify-skipped' });
      return;
    }
    // A damaged object, a restore error or a scratch server out of reach: the backup is not proven, which is what the metric is for.
    const code = isBackupctlError(error) ? error.code : ErrorCodes.INTERNAL;
    logger.error(`${job.title}: verification failed: ${(error as Error).message}`, { job: job.name, event: 'verify-failed', code });
    if (isBackupctlError(error) && error.hint) logger.info(`Hint for ${job.title}: ${error.hint}`, { event: 'hint', code });
    const ended = now();
    // A whole-server job's part names itself in the error, as its run result does.
    const label = (isBackupctlError(error) && error.job) || job.name;
    options.record({ job: label, result: 'failed', verifiedAt: ended.toISOString(), durationMs: ended.getTime() - started.getTime() });
  }
}


/** The capability is the source instance's (canVerify): make one, look, close it. Cheap: a source connects only when asked to. */
async function sourceCanVerify(job: LoadedJob, options: ScheduledVerifyOptions): Promise<boolean> {
  const source = await createInstance(job, job.source, 'source', {
    logger: options.logger,
    secrets: options.secrets,
    signal: options.signal,
    artifact: emptyArtifactInfo(),
  });
  try {
    return canVerify(source);
  } finally {
    await source.close?.();
  }
}

function report(job: LoadedJob, verification: Verification, logger: Logger): void {
  const label = verification.job === job.name ? job.title : `${job.title} / ${verification.job}`;
  const fields = { job: verification.job, event: verification.result === 'passed' ? 'verified' : 'verify-failed', key: verification.key };
  if (verification.result === 'failed') {
    logger.error(`${label}: verification of ${verification.key} FAILED: ${describeFailure(verification)}`, fields);
    return;
  }
  logger.info(`${label}: verified ${verification.key}: ${describePassed(verification)}`, fields);
}
