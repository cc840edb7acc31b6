import { ErrorCodes, wrapError, type BackupctlError, type Logger, type Secrets } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import { expandJob } from '../parts/expand-job.js';
import { randomUUID } from 'node:crypto';
import { runJob, type JobProgress, type JobResult } from './run-job.js';
import { recordTail } from '../log/log-tail.js';
import { notifyJob } from '../notify/job-notifiers.js';
import { partsNotification, startNotification } from '../notify/job-notifications.js';

export interface RunSummary {
  /** True when every job succeeded or was skipped. */
  ok: boolean;
  results: JobResult[];
}

export interface RunPipelineOptions {
  logger: Logger;
  secrets: Secrets;
  signal?: AbortSignal;
  now?: () => Date;
  /** See RunJobOptions.onProgress. */
  onProgress?: (progress: JobProgress) => void;
  /** Called as each job ends (the health server records it at once, not after the last job). */
  onJobResult?: (result: JobResult) => void;
}

/**
 * Runs the jobs one after another, as the reference service did (one
 * database at a time keeps the load on the server and the memory flat). A
 * failed job does not stop the others: each database's backup stands alone.
 */
export async function runPipeline(jobs: readonly LoadedJob[], options: RunPipelineOptions): Promise<RunSummary> {
  const { logger } = options;
  logger.info('Starting backup...', { event: 'run-started' });
  const results: JobResult[] = [];
  for (const job of jobs) {
    // Whole servers (expand-job.ts): a job whose source stands for several databases runs as one sub-job each.
    const { parts, failWith } = await expandForRun(job, options);
    if (parts[0] === job) {
      const result = await runJob(job, { ...options, failWith });
      options.onJobResult?.(result);
      results.push(result);
      continue;
    }
    results.push(...(await runParts(job, parts, options)));
  }
  const failed = results.filter((result) => result.status === 'failed');
  if (failed.length === 0) {
    logger.info('Backup complete', { event: 'run-complete' });
  } else {
    logger.error(`Backup failed: ${failed.length} of ${results.length} jobs failed (${failed.map((result) => result.job).join(', ')})`, {
      event: 'run-failed',
    });
  }
  return { ok: failed.length === 0, results };
}

/**
 * A whole server's databases, one sub-job each, one after another. They
 * share the time in their objects' names, so one run's set is
 * recognisable; the job's notifiers hear its start and its result once
 * (every database's outcome in it), not once per database.
 */
async function runParts(job: LoadedJob, parts: readonly LoadedJob[], options: RunPipelineOptions): Promise<JobResult[]> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const runId = randomUUID();
  const tail = recordTail(options.logger);
  // Told with their own time: a cancelled run (SIGTERM) still says how it ended.
  const notifying = () => ({ logger: options.logger, secrets: options.secrets, signal: AbortSignal.timeout(120_000) });
  await notifyJob(job, { ...startNotification(job, startedAt), runId }, notifying());
  const results: JobResult[] = [];
  for (const part of parts) {
    const result = await runJob(part, { ...options, logger: tail.logger, nameTime: startedAt, partOf: { runId } });
    options.onJobResult?.(result);
    results.push(result);
  }
  await notifyJob(job, { ...partsNotification(job, results, now().getTime() - startedAt.getTime(), tail.lines()), runId }, notifying());
  return results;
}

/**
 * The jobs to run for `job`: its sub-jobs when its source expands, else
 * itself. When expanding fails (the server is down), the job itself, to be
 * failed with that error (RunJobOptions.failWith), so it fails as any job
 * does: logged, and its onError hooks (alerts) run.
 */
async function expandForRun(job: LoadedJob, options: RunPipelineOptions): Promise<{ parts: LoadedJob[]; failWith?: BackupctlError }> {
  try {
    const parts = await expandJob(job, { logger: options.logger, secrets: options.secrets, signal: options.signal ?? new AbortController().signal });
    if (parts) options.logger.info(`${job.title}: backing up ${parts.length} parts: ${parts.map((part) => part.name).join(', ')}`, { job: job.name, event: 'expanded' });
    return { parts: parts ?? [job] };
  } catch (error) {
    return { parts: [job], failWith: wrapError(error, { code: ErrorCodes.SOURCE_FAILED, job: job.name, plugin: job.source?.use, hook: 'expand' }) };
  }
}
