import { formatSize, type Logger } from '@backupctl/plugin-api';
import { copiesOf, type LoadedJob, type LoadedStep } from '../plugins/loaded-job.js';

const MiB = 1024 * 1024;

/**
 * The process before any backup streams: Node, the CLI, the plugins and
 * the AWS SDK loaded. Measured peak RSS of a run whose backups hold almost
 * nothing (docs/scale-out.md#memory).
 */
export const BASE_BYTES = 96 * MiB;
/**
 * What one backup in flight holds besides its stages' own buffers
 * (bufferBytes): the streams' high-water marks between the stages, the
 * pipe from the dump tool, the commit gate, and garbage not yet collected.
 */
export const STREAM_BYTES = 8 * MiB;
/** Several copies: the fan-out holds up to 1 MiB per copy (docs/copies.md). */
const FAN_OUT_BYTES = MiB;

export interface RunPlanInput {
  /** The run's concurrency: `run --concurrency`, else the file's `concurrency:`. */
  concurrency?: number;
  /** `run --concurrency`: also every job's own. */
  override?: boolean;
  memoryBudgetMiB?: number;
}

/** How many backups a run streams at once, and what that costs. */
export interface RunPlan {
  /** Backups (jobs, parts) in flight at once across the run. */
  slots: number;
  /** The most one backup in flight is expected to hold (the largest job's). */
  streamBytes: number;
  /** The run's memory estimate: `BASE_BYTES + slots × streamBytes`. */
  estimateBytes: number;
  /** Parts of `job` at once: its `concurrency:`, never more than the run's. */
  partsAtOnce(job: LoadedJob): number;
}

/**
 * The run's concurrency: `run --concurrency`, else the file's, else the
 * largest job's `concurrency:` (so a job asking for 4 gets them without a
 * second setting), else 1. With `memoryBudgetMiB`, lowered until the
 * estimate fits (never below 1), and the run says so.
 */
export function planRun(jobs: readonly LoadedJob[], input: RunPlanInput, logger: Logger): RunPlan {
  const wanted = input.concurrency ?? Math.max(1, ...jobs.map((job) => job.concurrency ?? 1));
  const streamBytes = Math.max(0, ...jobs.filter((job) => !job.skipReason).map(streamBytesOf));
  let slots = wanted;
  if (input.memoryBudgetMiB !== undefined) {
    const budget = input.memoryBudgetMiB * MiB;
    const fit = Math.max(1, Math.floor((budget - BASE_BYTES) / Math.max(1, streamBytes)));
    if (fit < wanted) {
      slots = fit;
      const line =
        `memoryBudgetMiB ${input.memoryBudgetMiB}: ${slots} backup${slots === 1 ? '' : 's'} at once instead of ${wanted} ` +
        `(each up to ${formatSize(streamBytes)}, the process ${formatSize(BASE_BYTES)})`;
      if (BASE_BYTES + streamBytes > budget) logger.warn(`${line}; even one does not fit: raise memoryBudgetMiB or lower the sinks' part sizes`, { event: 'run-plan' });
      else logger.info(line, { event: 'run-plan' });
    }
  }
  const estimateBytes = BASE_BYTES + slots * streamBytes;
  if (slots > 1) {
    logger.info(`Running up to ${slots} backups at once (memory estimate ${formatSize(estimateBytes)}: ${formatSize(BASE_BYTES)} + ${slots} × ${formatSize(streamBytes)})`, {
      event: 'run-plan',
      concurrency: slots,
      estimateBytes,
    });
  }
  return {
    slots,
    streamBytes,
    estimateBytes,
    partsAtOnce: (job) => Math.min(slots, input.override ? slots : (job.concurrency ?? slots)),
  };
}

/** What one backup of `job` holds at the most: every stage's bufferBytes, the fan-out, and the core's share. */
export function streamBytesOf(job: LoadedJob): number {
  const copies = copiesOf(job);
  const steps = [job.source, ...job.transforms, ...copies.map((copy) => copy.sink)];
  const stages = steps.reduce((sum, step) => sum + bufferBytesOf(step), 0);
  return STREAM_BYTES + stages + (copies.length > 1 ? copies.length * FAN_OUT_BYTES : 0);
}

function bufferBytesOf(step: LoadedStep | undefined): number {
  const bytes = step?.plugin.bufferBytes?.(step.options as never);
  return typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
}
