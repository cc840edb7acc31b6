import { notifyJob, readJobFreshness, stalenessNotification, type LoadedJob } from '@backupctl/core';
import type { Logger, Secrets } from '@backupctl/plugin-api';
import type { HealthState } from './health-state.js';

/** A job whose backups `serve` watches, with its limit in hours. */
export interface WatchedJob {
  job: LoadedJob;
  staleAfterHours: number;
}

export interface StalenessOptions {
  state: HealthState;
  logger: Logger;
  secrets: Secrets;
  signal: AbortSignal;
  now?: () => Date;
}

export interface StalenessWatch {
  /** Checks every watched job now (also run on the watch's own timer). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

/** Default limit when serve has a schedule and the job sets none: a daily schedule plus two hours of slack. */
export const DEFAULT_STALE_AFTER_HOURS = 26;

/**
 * How often to look: a tenth of the shortest limit, between 1 s and a
 * minute, so a job is reported within 10% of its limit without listing a
 * bucket every second for a daily job.
 */
export function checkIntervalMs(jobs: readonly WatchedJob[]): number {
  const shortest = Math.min(...jobs.map(({ staleAfterHours }) => staleAfterHours * 3_600_000));
  return Math.min(60_000, Math.max(1_000, Math.round(shortest / 10)));
}

/**
 * Watches the newest backup in each job's store (any process's, read as
 * respawn reads it) and raises the job's staleness in the health state:
 * `/health`, the metrics, and one `stale` notification when it turns stale
 * and one `recovered` when a newer backup arrives (not one per check). A
 * job that never had a backup turns stale only once the service has been
 * up longer than the limit: a fresh deployment waits for its first run.
 * A store that cannot be read is a warning and changes nothing.
 */
export function watchStaleness(jobs: readonly WatchedJob[], options: StalenessOptions): StalenessWatch {
  const now = options.now ?? (() => new Date());
  const watchingSince = now();
  const stale = new Map<string, boolean>();
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  let stopped = false;

  const checkJob = async ({ job, staleAfterHours }: WatchedJob) => {
    const { logger, secrets, signal } = options;
    let lastBackupAt: Date | undefined;
    let part: string | undefined;
    try {
      ({ lastBackupAt, part } = await readJobFreshness(job, { logger, secrets, signal }));
    } catch (error) {
      if (!signal.aborted) logger.warn(`${job.title}: could not check how old its backups are: ${(error as Error).message}`, { job: job.name, event: 'stale-check-failed' });
      return;
    }
    const checkedAt = now();
    const limitMs = staleAfterHours * 3_600_000;
    const isStale = lastBackupAt ? checkedAt.getTime() - lastBackupAt.getTime() > limitMs : checkedAt.getTime() - watchingSince.getTime() > limitMs;
    options.state.recordFreshness(job.name, { stale: isStale, lastBackupAt, staleAfterHours, checkedAt });
    const was = stale.get(job.name) ?? false;
    stale.set(job.name, isStale);
    if (isStale === was) return;
    const notification = stalenessNotification(job, isStale, lastBackupAt, staleAfterHours, part);
    if (isStale) logger.warn(notification.summary, { job: job.name, event: 'stale' });
    else logger.info(notification.summary, { job: job.name, event: 'recovered' });
    await notifyJob(job, notification, { logger, secrets, signal: AbortSignal.timeout(120_000) });
  };

  const check = async () => {
    // One check at a time: a slow store must not pile up listings.
    checking ??= (async () => {
      for (const watched of jobs) if (!stopped) await checkJob(watched);
    })().finally(() => (checking = undefined));
    await checking;
  };

  const every = checkIntervalMs(jobs);
  const tick = () => {
    timer = setTimeout(() => {
      void check().finally(() => {
        if (!stopped) tick();
      });
    }, every);
    timer.unref();
  };
  if (jobs.length) {
    void check().finally(() => {
      if (!stopped) tick();
    });
  }

  return {
    check,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await checking;
    },
  };
}
