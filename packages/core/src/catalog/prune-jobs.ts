import type { Logger, Secrets } from '@backupctl/plugin-api';
import { copiesOf, jobForCopy, type LoadedJob } from '../plugins/loaded-job.js';
import { storedJobs } from '../parts/expand-job.js';
import { withInstances } from '../plugins/lifecycle.js';
import { jobExtension } from './job-extension.js';
import { withStore } from './open-store.js';

export interface PruneOptions {
  logger: Logger;
  secrets: Secrets;
  signal?: AbortSignal;
  /** Show what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** The clock, for tests. */
  now?: () => Date;
}

export interface PruneResult {
  job: string;
  status: 'pruned' | 'skipped';
  /** Why the job was skipped (no pruning hook, its database not configured here). */
  reason?: string;
  /** Keys deleted, or that would be in a dry run, oldest first. */
  expired: string[];
  /** How many of the job's backups stay. */
  kept: number;
}

/**
 * Applies each job's pruning hooks (those with `prune`: retention) to its
 * store now, without backing up: what `run` does after a commit, for
 * operators and for `--dry-run`. Jobs are pruned one after another; a store
 * failure stops the pass with its error.
 */
export async function pruneJobs(jobs: readonly LoadedJob[], options: PruneOptions): Promise<PruneResult[]> {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const signal = options.signal ?? new AbortController().signal;
  const environment = { logger, secrets: options.secrets, signal };
  const results: PruneResult[] = [];
  // Whole servers (expand-job.ts): a job whose source stands for several databases is pruned per database;
  // several sinks: each copy by its own hooks (retention per sink).
  const perCopy = (await storedJobs(jobs, environment)).flatMap((job) => {
    const copies = copiesOf(job);
    return copies.length > 1 ? copies.map((copy) => jobForCopy(job, copy)) : [job];
  });
  for (const job of perCopy) {
    const skip = job.skipReason ?? (job.hooks.length ? undefined : 'it has no hooks');
    if (skip) {
      results.push(skipped(job, skip, logger));
      continue;
    }
    const extension = await jobExtension(job, environment);
    const result = await withInstances(job, job.hooks, 'hook', environment, async (hooks) => {
      const pruners = hooks.filter((hook) => typeof hook.prune === 'function');
      if (!pruners.length) return skipped(job, 'none of its hooks prunes (retention does)', logger);
      return withStore(job, environment, async (store) => {
        const startedAt = now();
        logger.info(`${job.title} prune${options.dryRun ? ' (dry run)' : ''}: ${store.location}/${store.prefix}`);
        const expired = new Set<string>();
        let kept = 0;
        // Several pruning hooks on one sink each delete what they expire, as in a run.
        for (const hook of pruners) {
          const run = { job: job.name, title: job.title, nameTemplate: job.nameTemplate, extension, store, logger, signal, now: startedAt };
          const outcome = await hook.prune!({ ...run, dryRun: options.dryRun ?? false });
          for (const key of outcome.expired) expired.add(key);
          kept = outcome.kept;
        }
        return { job: job.name, status: 'pruned' as const, expired: [...expired], kept };
      });
    });
    results.push(result);
  }
  return results;
}

function skipped(job: LoadedJob, reason: string, logger: Logger): PruneResult {
  logger.info(`${job.title} prune skipped: ${reason}`);
  return { job: job.name, status: 'skipped', reason, expired: [], kept: 0 };
}
