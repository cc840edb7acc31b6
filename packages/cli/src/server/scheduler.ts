import { Cron } from 'croner';
import { BackupctlError, ErrorCodes, type Logger } from '@backupctl/plugin-api';

/** What a schedule runs: it names the flag in errors, and the runs and events in the log. */
export type ScheduleKind = 'backup' | 'verify';

const WORDS: Record<ScheduleKind, { flag: string; noun: string; event: string }> = {
  backup: { flag: '--schedule', noun: 'backup', event: 'schedule' },
  verify: { flag: '--verify-schedule', noun: 'verification', event: 'verify-schedule' },
};

export interface ScheduleOptions {
  /** Cron syntax, read in UTC: `0 3 * * *`; six fields add seconds (`* * * * * *`). */
  pattern: string;
  /** One run. Never called while the previous call is still going. */
  run: () => Promise<void>;
  logger: Logger;
  /** Default `backup`. */
  kind?: ScheduleKind;
}

export interface Schedule {
  readonly pattern: string;
  nextRun(): Date | null;
  /** No run starts after this. A run already going is not waited for (abort it separately). */
  stop(): void;
}

/** Throws a USAGE error (exit 2) naming the flag and the pattern when croner cannot read it. */
export function checkSchedulePattern(pattern: string, kind: ScheduleKind = 'backup'): void {
  try {
    new Cron(pattern, { timezone: 'UTC', paused: true }).stop();
  } catch (error) {
    throw new BackupctlError(ErrorCodes.USAGE, `invalid ${WORDS[kind].flag} "${pattern}": ${(error as Error).message}`, {
      hint: 'cron syntax in UTC, e.g. "0 3 * * *" for 03:00 every day',
      cause: error,
    });
  }
}

/**
 * Runs `run` on a cron schedule, in UTC, for hosts without a cron service.
 * Runs never overlap: when one is due while the last is still going it is
 * skipped with a warning (croner's `protect`), as a Kubernetes CronJob with
 * `concurrencyPolicy: Forbid` would.
 */
export function startSchedule(options: ScheduleOptions): Schedule {
  const kind = options.kind ?? 'backup';
  checkSchedulePattern(options.pattern, kind);
  const { logger } = options;
  const { noun, event } = WORDS[kind];
  const cron = new Cron(
    options.pattern,
    {
      timezone: 'UTC',
      protect: (job) => {
        logger.warn(`Scheduled ${noun} skipped: the previous run (started ${job.currentRun()?.toISOString() ?? 'earlier'}) is still going`, {
          event: `${event}-skipped`,
        });
      },
      catch: (error) => logger.error(`Scheduled ${noun} failed: ${(error as Error).message}`, { event: `${event}-error` }),
    },
    async () => {
      await options.run();
      const next = cron.nextRun();
      if (next) logger.info(`Next ${noun} at ${next.toISOString()}`, { event: `${event}-next` });
    },
  );
  return {
    pattern: options.pattern,
    nextRun: () => cron.nextRun(),
    stop: () => cron.stop(),
  };
}
