import { ErrorCodes, wrapError, type BackupctlError, type Logger, type Secrets } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import { expandJob } from '../parts/expand-job.js';
import { runJob, type JobProgress, type JobResult } from './run-job.js';

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
    // Sub-jobs share the time in their objects' names, so one run's set is recognisable.
    const nameTime = parts[0] === job ? undefined : (options.now ?? (() => new Date()))();
    for (const part of parts) {
      const result = await runJob(part, { ...options, nameTime, failWith });
      options.onJobResult?.(result);
      results.push(result);
    }
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
