import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { BackupctlError, ErrorCodes, type Logger } from '@backupctl/plugin-api';
import type { JobResult } from './run-job.js';
import { mapLimited } from './slots.js';
import { copiesOf, type LoadedJob } from '../plugins/loaded-job.js';
import respawn from '../hooks/respawn.js';
import { parseFlag } from '../hooks/flag.js';

/**
 * `backupctl run --worker`: this process shares each whole-server job's
 * parts with the other processes running the same pipeline (the pods of a
 * Kubernetes Job), with no coordinator. The protocol (docs/scale-out.md):
 * a part is taken by its source's lock (busy: another worker has it, move
 * on), and once taken, done for the period when its store's record says so
 * (the respawn hook skips it); parts found busy are tried again after the
 * rest until each is done or taken and finished by whoever held it.
 */
export interface WorkerOptions {
  /** Where this worker's walk starts: an Indexed Job's JOB_COMPLETION_INDEX, else a number from the host name and pid. */
  index: number;
  /** Wait between tries of the parts others hold: from `minWaitMs` (default 1 s), doubling up to `maxWaitMs` (default 15 s). */
  minWaitMs?: number;
  maxWaitMs?: number;
}

/** The worker's index from its environment: JOB_COMPLETION_INDEX (Indexed Job), else from the host name (a pod's name) and pid. */
export function workerIndexFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const indexed = Number(env.JOB_COMPLETION_INDEX);
  if (env.JOB_COMPLETION_INDEX && Number.isInteger(indexed) && indexed >= 0) return indexed;
  return createHash('sha256').update(`${hostname()}:${process.pid}`).digest().readUInt32BE(0);
}

/**
 * The parts in the order this worker walks them: rotated to start at a
 * point of its own (the golden ratio spreads indexes 0, 1, 2, ... evenly
 * over any number of parts), so workers started together begin apart
 * instead of all contending for the first part.
 */
export function walkOrder<T>(parts: readonly T[], index: number): T[] {
  if (parts.length < 2) return [...parts];
  const offset = Math.floor(((index * 0.618_033_988_75) % 1) * parts.length);
  return [...parts.slice(offset), ...parts.slice(0, offset)];
}

export interface SharedWalk {
  worker: WorkerOptions;
  /** Parts at once. */
  limit: number;
  /** Backs up one part (runJob): its result, `busy` when another worker holds it. */
  attempt(part: LoadedJob): Promise<JobResult>;
  logger: Logger;
  signal?: AbortSignal;
  title: string;
}

/**
 * Walks the parts in this worker's order, then comes back to the busy ones
 * until none is left: each is then done (by this worker, or found done for
 * the period), failed, or finished by the worker that held it. Resolves
 * with one result per part, in the parts' own order.
 */
export async function walkShared(parts: readonly LoadedJob[], walk: SharedWalk): Promise<JobResult[]> {
  const results = new Map<LoadedJob, JobResult>();
  let pending = walkOrder(parts, walk.worker.index);
  let wait = walk.worker.minWaitMs ?? 1000;
  for (let round = 0; pending.length; round += 1) {
    if (round > 0) {
      walk.logger.info(`${walk.title}: ${pending.length} part${pending.length === 1 ? '' : 's'} held by other workers (${pending.map((part) => part.name).join(', ')}); trying again in ${Math.round(wait / 1000)} s`, {
        event: 'parts-busy',
      });
      await sleep(wait, walk.signal);
      wait = Math.min(wait * 2, walk.worker.maxWaitMs ?? 15_000);
    }
    const tried = await mapLimited(pending, walk.limit, async (part) => ({ part, result: await walk.attempt(part) }));
    for (const { part, result } of tried) results.set(part, result);
    pending = tried.filter(({ result }) => result.busy && !walk.signal?.aborted).map(({ part }) => part);
  }
  return parts.map((part) => results.get(part)!);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Workers know a part is done for the period only from its store's record
 * of the last backup, through the respawn hook: every required copy of a
 * whole-server job needs it, on (hours > 0) and not forced, or two workers
 * would each back up every part.
 *
 * @throws BackupctlError (bad input) naming the job and the copy without it.
 */
export function checkSharedJobs(jobs: readonly LoadedJob[]): void {
  for (const job of jobs) {
    if (job.skipReason || !job.source) continue;
    for (const copy of copiesOf(job).filter((candidate) => candidate.required)) {
      // The built-in respawn hook by name: the same plugin may be loaded twice (core's source and its bundle).
      const guard = copy.hooks.find((hook) => hook.from === 'builtin' && hook.plugin.name === respawn.name);
      const hours = Number(guard?.options.hours ?? 0);
      if (guard && hours > 0 && !parseFlag(guard.options.force as never)) continue;
      const where = guard ? `its respawn hook is ${hours > 0 ? 'forced' : 'off (hours: 0)'}` : 'it has no respawn hook';
      throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `job ${job.name}, copy ${copy.name}: --worker needs each part's last backup to be recorded and respected, but ${where}`, {
        job: job.name,
        hint: 'add `{ use: respawn, with: { hours: 12 } }` to the hooks of every required sink (hours: longer than a run, at most the time between runs minus a run; docs/scale-out.md#the-period)',
      });
    }
  }
}
