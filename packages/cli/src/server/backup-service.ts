import { runPipeline, type BackupSelection, type LoadedJob, type RunPipelineOptions, type RunSummary } from '@backupctl/core';
import { HealthState } from './health-state.js';
import { startHealthServer } from './http-server.js';
import { createMetricsRegistry } from './metrics.js';
import { verifyNewestBackup } from './scheduled-verify.js';
import { startSchedule, type Schedule } from './scheduler.js';
import { watchStaleness, type StalenessWatch, type WatchedJob } from './staleness.js';
import { StatusSource } from './status-page/status-view.js';
import { uiRoutes, type UiActions } from './status-page/ui-routes.js';

export interface BackupServiceOptions extends Omit<RunPipelineOptions, 'onJobResult'> {
  port: number;
  host: string;
  /** Reported in /health. */
  version: string;
  /** The status page at `GET /` (serve's default); absent: no page. `token`: UI_TOKEN, which turns on the login and the actions. */
  ui?: { publicKeys: boolean; token?: string; scratchUrl?: string };
}


/** What a run takes from the pipeline file and the command line besides the jobs (concurrency, workers). */
export type RunSettings = Partial<Pick<RunPipelineOptions, 'concurrency' | 'overrideJobConcurrency' | 'memoryBudgetMiB' | 'worker'>>;
/** A health server with the backups it reports on; see {@link startBackupService}. */
export interface BackupService {
  /** Where the server listens, e.g. `http://0.0.0.0:8080`. */
  readonly url: string;
  readonly state: HealthState;
  /** True while a scheduled verification runs. */
  readonly verifying: boolean;
  /** The pipeline is loaded and valid: /ready answers 200 from now on. */
  markReady(jobs: readonly LoadedJob[]): void;
  /**
   * Runs the jobs once, recording each result as it ends. Resolves with
   * undefined instead when a run is already going (runs never overlap).
   * Waits for a running verification first.
   */
  run(jobs: readonly LoadedJob[], settings?: RunSettings): Promise<RunSummary | undefined>;
  /** Runs the jobs on a cron schedule (UTC) until `stop`. */
  schedule(pattern: string, jobs: readonly LoadedJob[], settings?: RunSettings): void;
  /**
   * Verifies the newest backup of each job, one after another, on a cron
   * schedule (UTC) until `stop`; never while a backup runs.
   */
  scheduleVerify(pattern: string, jobs: readonly LoadedJob[], options?: { scratchUrl?: string }): void;
  /**
   * Watches how old each job's newest backup in the store is (see
   * watchStaleness) until `stop`, checking again after each run.
   */
  watchStaleness(jobs: readonly WatchedJob[]): void;
  /**
   * Stops the schedules, waits for a running backup or verification to end
   * (abort it first through the options' `signal`, as SIGTERM does), then
   * closes the server. Resolves with the summary of the run it waited for,
   * if one was going.
   */
  stop(): Promise<RunSummary | undefined>;
}

/**
 * Starts the health server (/live, /ready, /health, /metrics) and returns
 * the service that runs backups and verifications and feeds their results
 * to it. The server answers before the pipeline is loaded: /live at once,
 * /ready once `markReady` is called.
 */
export async function startBackupService(options: BackupServiceOptions): Promise<BackupService> {
  const { logger } = options;
  const state = new HealthState(options.version);
  const source = new StatusSource({ state, logger, secrets: options.secrets, signal: options.signal ?? new AbortController().signal, now: options.now });
  const actions: UiActions = {
    // The same run as the schedule's: refused while one is going, as a scheduled tick then is skipped.
    run(job) {
      if (current) return 'busy';
      void run([job]);
      return 'started';
    },
    verify(job, key) {
      const outcome = current || verifying ? 'queued' : 'started';
      const one = verifyAll([job], options.ui?.scratchUrl, { key });
      uiVerifications.add(one);
      void one.finally(() => uiVerifications.delete(one));
      return outcome;
    },
  };
  const ui = options.ui ? uiRoutes({ source, actions, logger, publicKeys: options.ui.publicKeys, token: options.ui.token }) : undefined;
  const server = await startHealthServer({ state, metrics: createMetricsRegistry(state), port: options.port, host: options.host, ui });
  const turns = takeTurns();
  let current: Promise<RunSummary | undefined> | undefined;
  let verifyRound: Promise<void> | undefined;
  const uiVerifications = new Set<Promise<void>>();
  let verifying = false;
  let cron: Schedule | undefined;
  let verifyCron: Schedule | undefined;
  let staleness: StalenessWatch | undefined;

  // Backups and verifications take turns, first come first served: a
  // verification restores into a scratch database, by default on the server
  // pg_dump reads from, and the service does one thing at a time, as a run
  // backs up one database at a time. Each waits for the other rather than
  // being skipped: a verification skipped whenever a backup runs would never
  // run with both schedules at the same minute (a common "0 3 * * *"), and
  // waiting verifies the backup just taken; a backup is never given up for a
  // verification, only delayed by one job's verification at most.
  const run = async (jobs: readonly LoadedJob[], settings: RunSettings = {}): Promise<RunSummary | undefined> => {
    if (current) return undefined;
    const waited = verifying;
    if (waited) logger.info('Backup waits for the running verification to end', { event: 'run-waiting' });
    current = turns.next(async () => {
      // Stopped while it waited: it never started, so it did not fail.
      if (waited && options.signal?.aborted) return undefined;
      state.running = true;
      try {
        return await runPipeline(jobs, { ...options, ...settings, onJobResult: (result) => state.recordJob(result) });
      } finally {
        state.running = false;
        source.invalidate();
        // A new backup may end a job's staleness: say so now, not at the next check.
        void staleness?.check();
      }
    });
    try {
      return await current;
    } finally {
      current = undefined;
    }
  };

  const verifyAll = async (jobs: readonly LoadedJob[], scratchUrl: string | undefined, selection?: BackupSelection): Promise<void> => {
    for (const job of jobs) {
      if (current) logger.info(`${job.title}: verification waits for the backup run to end`, { job: job.name, event: 'verify-waiting' });
      await turns.next(async () => {
        if (options.signal?.aborted) return;
        verifying = true;
        try {
          await verifyNewestBackup(job, {
            logger,
            secrets: options.secrets,
            signal: options.signal ?? new AbortController().signal,
            now: options.now,
            scratchUrl,
            selection,
            record: (verification) => state.recordVerification(verification),
          });
        } finally {
          verifying = false;
          source.invalidate();
        }
      });
    }
  };

  return {
    url: server.url,
    state,
    get verifying() {
      return verifying;
    },
    markReady(jobs) {
      source.setJobs(jobs);
      state.markReady(jobs.map((job) => job.name));
    },
    run,
    schedule(pattern, jobs, settings) {
      cron?.stop();
      cron = startSchedule({
        pattern,
        logger,
        run: async () => {
          // A tick that fires while shutting down starts nothing.
          if (!options.signal?.aborted) await run(jobs, settings);
        },
      });
      state.schedule = cron;
    },
    scheduleVerify(pattern, jobs, verifyOptions = {}) {
      verifyCron?.stop();
      verifyCron = startSchedule({
        pattern,
        logger,
        kind: 'verify',
        run: async () => {
          if (options.signal?.aborted) return;
          verifyRound = verifyAll(jobs, verifyOptions.scratchUrl);
          try {
            await verifyRound;
          } finally {
            verifyRound = undefined;
          }
        },
      });
      state.verifySchedule = verifyCron;
    },
    watchStaleness(jobs) {
      void staleness?.stop();
      staleness = watchStaleness(jobs, { state, logger, secrets: options.secrets, signal: options.signal ?? new AbortController().signal, now: options.now });
    },
    async stop() {
      cron?.stop();
      verifyCron?.stop();
      await staleness?.stop();
      state.ready = false;
      const interrupted = await current?.catch(() => undefined);
      await verifyRound?.catch(() => undefined);
      await Promise.all([...uiVerifications]);
      await server.close();
      return interrupted;
    },
  };
}

/** A first-come-first-served queue: each task starts when the one before it settled. */
function takeTurns(): { next<T>(task: () => Promise<T>): Promise<T> } {
  let last: Promise<unknown> = Promise.resolve();
  return {
    next(task) {
      const result = last.then(task);
      last = result.catch(() => undefined);
      return result;
    },
  };
}
