import type { Logger } from '../api/context.js';
import type { LoadedJob } from '../config/load-pipeline.js';
import type { Secrets } from './redact.js';
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
    const result = await runJob(job, options);
    options.onJobResult?.(result);
    results.push(result);
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
