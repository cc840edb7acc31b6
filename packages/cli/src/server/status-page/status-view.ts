import { ErrorCodes, isBackupctlError, type Logger, type Secrets } from '@backupctl/plugin-api';
import { readBackupHistory, type JobHistory, type LoadedJob, type RecordFigures } from '@backupctl/core';
import type { HealthState, JobHealth } from '../health-state.js';
import type { JobView, StatusView, Viewer } from './status-page.js';

export interface StatusSourceOptions {
  state: HealthState;
  logger: Logger;
  secrets: Secrets;
  signal: AbortSignal;
  now?: () => Date;
  /** How long one read of the stores serves the page (default 10 s): a page reloaded in a loop must not list a bucket each time. */
  maxAgeMs?: number;
}

type StoreRead = { history: JobHistory[] } | { error: string };

/**
 * What the status page shows, read from the stores (every backup there,
 * whoever made it) and from this process's health state. One read of the
 * stores serves every page for `maxAgeMs`, or until `invalidate` (after a
 * run or a verification); the backups' records, which never change, are
 * kept for the life of the process.
 */
export class StatusSource {
  private jobs: readonly LoadedJob[] = [];
  private cached?: { at: number; reads: Map<string, StoreRead> };
  private reading?: Promise<Map<string, StoreRead>>;
  private readonly known = new Map<string, RecordFigures>();
  private readonly now: () => Date;

  constructor(private readonly options: StatusSourceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The jobs `serve` loaded (none before the pipeline is). */
  setJobs(jobs: readonly LoadedJob[]): void {
    this.jobs = jobs;
    this.invalidate();
  }

  job(name: string): LoadedJob | undefined {
    return this.jobs.find((job) => job.name === name);
  }

  /** The next page reads the stores again. */
  invalidate(): void {
    this.cached = undefined;
  }

  async view(viewer: Viewer, showKeys: boolean, notice?: StatusView['notice']): Promise<StatusView> {
    const { state, secrets } = this.options;
    const reads = await this.read();
    const report = state.report();
    const redact = (text: string) => secrets.redact(text);
    const jobs: JobView[] = this.jobs.map((job) => {
      const read = reads.get(job.name) ?? { history: [] };
      const history = 'history' in read ? read.history : [];
      return {
        name: job.name,
        title: redact(job.title),
        ...(job.skipReason && { skipReason: redact(job.skipReason) }),
        ...('error' in read && { storeError: read.error }),
        sections: (history.length ? history : [{ job: job.name, title: job.title, location: '', copies: [], backups: [] }]).map((section) => ({
          job: section.job,
          title: redact(section.title),
          ...(showKeys && section.location && { location: redact(section.location) }),
          copies: section.copies,
          // Keys name databases and hosts' layouts: only shown to whoever may see them, else never sent.
          backups: section.backups.map(({ places: _places, key, ...backup }) => ({ ...backup, key: showKeys ? redact(key) : '' })),
          health: redactHealth(state.jobs.get(section.job), redact),
        })),
      };
    });
    return {
      version: state.version,
      now: this.now(),
      status: report.status,
      running: report.running,
      ...(state.schedule && { schedule: { pattern: state.schedule.pattern, nextRun: state.schedule.nextRun() } }),
      ...(state.verifySchedule && { verifySchedule: { pattern: state.verifySchedule.pattern, nextRun: state.verifySchedule.nextRun() } }),
      showKeys,
      viewer,
      ...(notice && { notice: { kind: notice.kind, text: redact(notice.text) } }),
      jobs,
    };
  }

  private async read(): Promise<Map<string, StoreRead>> {
    const maxAgeMs = this.options.maxAgeMs ?? 10_000;
    if (this.cached && Date.now() - this.cached.at < maxAgeMs) return this.cached.reads;
    // Pages asked for at once share one read.
    this.reading ??= this.readStores().finally(() => (this.reading = undefined));
    const reads = await this.reading;
    this.cached = { at: Date.now(), reads };
    return reads;
  }

  private async readStores(): Promise<Map<string, StoreRead>> {
    const { logger, secrets, signal } = this.options;
    const reads = new Map<string, StoreRead>();
    for (const job of this.jobs) {
      try {
        reads.set(job.name, { history: await readBackupHistory([job], { logger, secrets, signal }, this.known) });
      } catch (error) {
        logger.warn(`${job.title}: the status page could not read its store: ${(error as Error).message}`, { job: job.name, event: 'ui-store-failed' });
        reads.set(job.name, { error: isBackupctlError(error) ? error.code : ErrorCodes.INTERNAL });
      }
    }
    return reads;
  }
}

function redactHealth(health: JobHealth | undefined, redact: (text: string) => string): JobHealth | undefined {
  if (!health?.lastFailure?.hint) return health;
  return { ...health, lastFailure: { ...health.lastFailure, hint: redact(health.lastFailure.hint) } };
}
