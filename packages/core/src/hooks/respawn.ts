import { Type, definePlugin, type HookRun, type SkipDecision } from '@backupctl/plugin-api';
// A public helper of @backupctl/core (exported from src/index.ts).
import { formatUtcTime } from '../log/logger.js';
import { flagSchema, parseFlag } from './flag.js';
import { namingOf } from './job-backups.js';
import { findLastBackup } from './last-backup.js';

const HOUR_MS = 60 * 60 * 1000;

/** The respawn hook's options. */
export const respawnSchema = Type.Object(
  {
    hours: Type.Number({
      minimum: 0,
      default: 23,
      description:
        'Skip the job when its last successful backup is younger than this many hours (RESPAWN_PROTECTION_HOURS in the default pipeline). 0: off.',
    }),
    force: flagSchema({
      default: false,
      description: 'Back up whatever the age of the last backup (FORCE_BACKUP in the default pipeline).',
    }),
  },
  { additionalProperties: false },
);

/** `3.2 hours`, `12 minutes`, `40 seconds`. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60);
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  return `${(seconds / 3600).toFixed(1)} hours`;
}

/**
 * Decides whether a job may run now: undefined when it may, a skip with
 * one line saying when the last backup ran and when the next is allowed.
 */
export async function checkRespawn(run: HookRun, hours: number): Promise<SkipDecision | undefined> {
  if (hours <= 0) return undefined;
  const last = await findLastBackup(run.store, namingOf(run), run.logger, run.signal);
  if (!last) return undefined;
  const nextAllowed = new Date(last.time.getTime() + hours * HOUR_MS);
  if (run.now >= nextAllowed) return undefined;
  return {
    skip: true,
    reason:
      `last backup ${formatUtcTime(last.time)} (${formatAge(run.now.getTime() - last.time.getTime())} ago); ` +
      `next allowed after ${formatUtcTime(nextAllowed)} (respawn protection: ${hours} hours)`,
  };
}

/**
 * `use: respawn`: a restarted container must not back up again. Before the
 * job runs, finds its last successful backup in the store and skips the job
 * (exit 0) when it is younger than `hours`, unless `force` is set. Written
 * against the store interface only, so it works on any sink.
 */
export default definePlugin({
  name: 'respawn',
  kind: 'hook',
  description: 'Skips a job whose last successful backup is younger than `hours` (respawn protection); `force` bypasses it.',
  schema: respawnSchema,
  create(options) {
    const force = parseFlag(options.force);
    return {
      async beforeRun(run) {
        if (force) {
          run.logger.info(`Respawn protection bypassed for ${run.job} (force is set): backing up regardless of the last backup`);
          return undefined;
        }
        return checkRespawn(run, options.hours);
      },
    };
  },
});
