import { ErrorCodes, wrapError, type BackupctlError, type Logger, type Secrets } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import { expandJob } from '../parts/expand-job.js';
import { randomUUID } from 'node:crypto';
import { getMaxListeners, setMaxListeners } from 'node:events';
import { runJob, type JobProgress, type JobResult } from './run-job.js';
import { recordTail } from '../log/log-tail.js';
import { notifyJob } from '../notify/job-notifiers.js';
import { partsNotification, startNotification } from '../notify/job-notifications.js';
import { walkShared, type WorkerOptions } from './shared-walk.js';
import { planRun, type RunPlan } from './run-plan.js';
import { mapLimited, Slots } from './slots.js';
import { logPartsSummary } from './parts-summary.js';

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
  /** Backups in flight at once: `run --concurrency`, else the file's `concurrency:` (run-plan.ts). Default 1. */
  concurrency?: number;
  /** `run --concurrency`: `concurrency` is also every job's own, whatever the file says. */
  overrideJobConcurrency?: boolean;
  /** The file's `memoryBudgetMiB:`: concurrency is lowered to fit it. */
  memoryBudgetMiB?: number;
  /** `run --worker`: share whole-server jobs' parts with the other processes running this pipeline (shared-walk.ts). */
  worker?: WorkerOptions;
}

/**
 * Runs the jobs: one after another by default, as the reference service
 * did (one database at a time keeps the load on the server and the memory
 * flat); with concurrency N, up to N backups (jobs, or parts of
 * whole-server jobs) at once, started in file order. A failed job does not
 * stop the others: each database's backup stands alone.
 */
export async function runPipeline(jobs: readonly LoadedJob[], options: RunPipelineOptions): Promise<RunSummary> {
  const { logger } = options;
  logger.info('Starting backup...', { event: 'run-started' });
  const plan = planRun(jobs, { concurrency: options.concurrency, override: options.overrideJobConcurrency, memoryBudgetMiB: options.memoryBudgetMiB }, logger);
  // Each backup in flight (and each job waiting on its parts) listens to the run's signal: past 10, Node
  // would print a listener-leak warning that is none.
  if (options.signal && plan.slots > 1) setMaxListeners(Math.max(getMaxListeners(options.signal), 10 + 2 * plan.slots), options.signal);
  // Every backup holds a stream slot while it runs; jobs hold tickets of their own (a job waiting for its
  // parts' slots must not keep them from the slots), so at most `slots` jobs are under way.
  const run: PipelineRun = { ...options, plan, streams: new Slots(plan.slots), tagLines: plan.slots > 1 };
  const tickets = new Slots(plan.slots);
  const perJob = await Promise.all(jobs.map((job) => tickets.run(() => runOneJob(job, run))));
  const results = perJob.flat();
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

interface PipelineRun extends RunPipelineOptions {
  plan: RunPlan;
  streams: Slots;
  tagLines: boolean;
}

/** One job of the file: itself, or (whole servers, expand-job.ts) its parts as sub-jobs. */
async function runOneJob(job: LoadedJob, run: PipelineRun): Promise<JobResult[]> {
  const { parts, failWith } = await expandForRun(job, run);
  if (parts[0] === job) {
    const result = await run.streams.run(() => runJob(job, { ...run, failWith, tagLines: run.tagLines }));
    run.onJobResult?.(result);
    return [result];
  }
  return runParts(job, parts, run);
}

/**
 * A whole server's databases, one sub-job each, up to the job's
 * concurrency at once (each also holding one of the run's slots). They
 * share the time in their objects' names, so one run's set is
 * recognisable; the job's notifiers hear its start and its result once
 * (every database's outcome in it), not once per database. With
 * `worker`, the parts are shared with other processes (walkShared).
 */
async function runParts(job: LoadedJob, parts: readonly LoadedJob[], run: PipelineRun): Promise<JobResult[]> {
  const now = run.now ?? (() => new Date());
  const startedAt = now();
  const runId = randomUUID();
  const tail = recordTail(run.logger);
  // Told with their own time: a cancelled run (SIGTERM) still says how it ended.
  const notifying = () => ({ logger: run.logger, secrets: run.secrets, signal: AbortSignal.timeout(120_000) });
  await notifyJob(job, { ...startNotification(job, startedAt), runId }, notifying());
  const limit = run.plan.partsAtOnce(job);
  if (limit > 1) run.logger.info(`${job.title}: up to ${limit} parts at once`, { job: job.name, event: 'parts-concurrency', concurrency: limit });
  const attempt = async (part: LoadedJob) => {
    const result = await run.streams.run(() =>
      runJob(part, { ...run, logger: tail.logger, nameTime: startedAt, partOf: { runId }, shared: run.worker !== undefined, tagLines: run.tagLines }),
    );
    if (!result.busy) run.onJobResult?.(result);
    return result;
  };
  const results = run.worker
    ? await walkShared(parts, { worker: run.worker, limit, attempt, logger: tail.logger, signal: run.signal, title: job.title })
    : await mapLimited(parts, limit, attempt);
  logPartsSummary(job, results, run.logger);
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
