import type { Logger } from '@backupctl/plugin-api';
import type { LoadedJob, LoadedStep } from '../config/load-pipeline.js';
import { expandStoredJob } from '../parts/expand-job.js';
import retention, { applyRetention, type RetentionOptions } from '../hooks/retention.js';
import { jobExtension } from './job-extension.js';
import { withStore } from './open-store.js';
import type { Secrets } from '@backupctl/plugin-api';

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
  /** Why the job was skipped (no retention hook, its database not configured here). */
  reason?: string;
  /** Keys deleted, or that would be in a dry run, oldest first. */
  expired: string[];
  /** How many of the job's backups stay. */
  kept: number;
}

/** The job's `use: retention` hooks, as the pipeline file configures them. */
function retentionSteps(job: LoadedJob): LoadedStep[] {
  return job.hooks.filter((step) => (step.plugin as unknown) === retention);
}

/**
 * Applies each job's retention hook to its store now, without backing up:
 * what `run` does after a commit, for operators and for `--dry-run`. Jobs
 * are pruned one after another; a store failure stops the pass with its error.
 */
export async function pruneJobs(jobs: readonly LoadedJob[], options: PruneOptions): Promise<PruneResult[]> {
  const { logger } = options;
  const now = options.now ?? (() => new Date());
  const results: PruneResult[] = [];
  // Whole servers (expand-job.ts): a job whose source stands for several databases is pruned per database.
  const expanded: LoadedJob[] = [];
  const signal = options.signal ?? new AbortController().signal;
  for (const job of jobs) expanded.push(...((await expandStoredJob(job, { logger, secrets: options.secrets, signal })) ?? [job]));
  for (const job of expanded) {
    const steps = retentionSteps(job);
    const skip = job.skipReason ?? (steps.length ? undefined : 'it has no retention hook');
    if (skip) {
      logger.info(`${job.title} prune skipped: ${skip}`);
      results.push({ job: job.name, status: 'skipped', reason: skip, expired: [], kept: 0 });
      continue;
    }
    const extension = await jobExtension(job, { logger, secrets: options.secrets, signal });
    await withStore(job, { logger, secrets: options.secrets, signal }, async (store) => {
      const startedAt = now();
      logger.info(`${job.title} prune${options.dryRun ? ' (dry run)' : ''}: ${store.location}/${store.prefix}`);
      const expired = new Set<string>();
      let kept = 0;
      // Several retention hooks on one sink each delete what they expire, as in a run.
      for (const step of steps) {
        const outcome = await applyRetention(step.options as RetentionOptions, {
          job: job.name,
          nameTemplate: job.nameTemplate,
          extension,
          store,
          logger,
          now: startedAt,
          signal: options.signal,
          dryRun: options.dryRun,
          reportNothing: true,
        });
        for (const key of outcome.expired) expired.add(key);
        kept = outcome.kept;
      }
      results.push({ job: job.name, status: 'pruned', expired: [...expired], kept });
    });
  }
  return results;
}
