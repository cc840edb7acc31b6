import { runPipeline, type LoadedJob, type RunPipelineOptions, type RunSummary } from '@backupctl/core';
import { HealthState } from './health-state.js';
import { startHealthServer } from './http-server.js';
import { createMetricsRegistry } from './metrics.js';
import { startSchedule, type Schedule } from './scheduler.js';

export interface BackupServiceOptions extends Omit<RunPipelineOptions, 'onJobResult'> {
  port: number;
  host: string;
  /** Reported in /health. */
  version: string;
}

/** A health server with the backups it reports on; see {@link startBackupService}. */
export interface BackupService {
  /** Where the server listens, e.g. `http://0.0.0.0:8080`. */
  readonly url: string;
  readonly state: HealthState;
  /** The pipeline is loaded and valid: /ready answers 200 from now on. */
  markReady(jobs: readonly LoadedJob[]): void;
  /**
   * Runs the jobs once, recording each result as it ends. Resolves with
   * undefined instead when a run is already going (runs never overlap).
   */
  run(jobs: readonly LoadedJob[]): Promise<RunSummary | undefined>;
  /** Runs the jobs on a cron schedule (UTC) until `stop`. */
  schedule(pattern: string, jobs: readonly LoadedJob[]): void;
  /**
   * Stops the schedule, waits for a running backup to end (abort it first
   * through the options' `signal`, as SIGTERM does), then closes the server.
   * Resolves with the summary of the run it waited for, if one was going.
   */
  stop(): Promise<RunSummary | undefined>;
}

/**
 * Starts the health server (/live, /ready, /health, /metrics) and returns
 * the service that runs backups and feeds their results to it. The server
 * answers before the pipeline is loaded: /live at once, /ready once
 * `markReady` is called.
 */
export async function startBackupService(options: BackupServiceOptions): Promise<BackupService> {
  const state = new HealthState(options.version);
  const server = await startHealthServer({ state, metrics: createMetricsRegistry(state), port: options.port, host: options.host });
  let current: Promise<RunSummary> | undefined;
  let cron: Schedule | undefined;

  const run = async (jobs: readonly LoadedJob[]): Promise<RunSummary | undefined> => {
    if (current) return undefined;
    state.running = true;
    current = runPipeline(jobs, { ...options, onJobResult: (result) => state.recordJob(result) });
    try {
      return await current;
    } finally {
      current = undefined;
      state.running = false;
    }
  };

  return {
    url: server.url,
    state,
    markReady: (jobs) => state.markReady(jobs.map((job) => job.name)),
    run,
    schedule(pattern, jobs) {
      cron?.stop();
      cron = startSchedule({
        pattern,
        logger: options.logger,
        run: async () => {
          // A tick that fires while shutting down starts nothing.
          if (!options.signal?.aborted) await run(jobs);
        },
      });
      state.schedule = cron;
    },
    async stop() {
      cron?.stop();
      state.ready = false;
      const interrupted = await current?.catch(() => undefined);
      await server.close();
      return interrupted;
    },
  };
}
