import { Type, definePlugin, type Logger, type Static, type Store } from '@backupctl/plugin-api';
// A public helper of @backupctl/core (exported from src/index.ts).
import { backupDocuments } from '../catalog/backup-records.js';
import { findRetentionHolds } from '../catalog/retention-holds.js';
import { listJobBackups } from '../catalog/job-backups.js';
import { namingOf } from './job-backups.js';
import { hasRetentionRule, selectExpired, type RetentionRules } from './retention-policy.js';

const keepRule = (what: string) =>
  Type.Integer({ minimum: 0, default: 0, description: `Also keep the newest backup of each of the last N ${what} that have one. 0: off.` });

/** The retention hook's options. Every rule keeps on its own: a backup kept by any of them stays. */
export const retentionSchema = Type.Object(
  {
    days: Type.Number({
      minimum: 0,
      default: 7,
      description:
        'Keep every backup at most this many days old, by the time in its name (BACKUP_RETENTION_DAYS in the default pipeline). ' +
        '0 turns the age rule off, so only the keep* rules decide; with every rule 0, nothing is deleted.',
    }),
    keepLast: Type.Integer({ minimum: 0, default: 0, description: 'Also keep the newest N backups. 0: off.' }),
    keepDaily: keepRule('days (UTC)'),
    keepWeekly: keepRule('ISO weeks'),
    keepMonthly: keepRule('months'),
  },
  { additionalProperties: false },
);

export type RetentionOptions = Static<typeof retentionSchema>;

/** One retention pass over a job's backups in a store. */
export interface RetentionPass {
  job: string;
  /** The job's object name template; default `{job}_{timestamp}{ext}`. */
  nameTemplate?: string;
  /** The extension the job's stages produce (see BackupNaming); without it only recorded backups are the job's. */
  extension?: string;
  store: Store;
  logger: Logger;
  /** The run's start: ages are measured from it. */
  now: Date;
  signal?: AbortSignal;
  /** Keys never deleted whatever the rules (the backup just written). */
  protect?: readonly string[];
  /** Log what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Log the `Cleanup:` line even when nothing expired (an operator asked for the pass). */
  reportNothing?: boolean;
}

export interface RetentionOutcome {
  /** Keys deleted (or, in a dry run, that would be), oldest first. */
  expired: string[];
  /** How many of the job's backups stay. */
  kept: number;
  /** Objects under the prefix that are not dated backups, left alone. */
  ignored: string[];
}

const SHOWN_IGNORED = 10;

/**
 * Lists the job's backups, deletes those no rule keeps (never the newest,
 * never a protected key, never an object whose name carries no timestamp),
 * then their checksum documents; logs each key and `Cleanup: removed N
 * expired backups`, as the reference service did.
 */
export async function applyRetention(rules: RetentionRules, pass: RetentionPass): Promise<RetentionOutcome> {
  const { store, logger, signal } = pass;
  const { backups, ignored, foreign } = await listJobBackups(store, namingOf(pass), signal);
  if (ignored.length) logger.info(`Cleanup: ignoring ${plural(ignored.length, 'object')} whose name carries no timestamp: ${sample(ignored)}`);
  if (foreign.length) logger.info(`Cleanup: ignoring ${plural(foreign.length, 'object')} that backupctl did not write for ${pass.job}: ${sample(foreign)}`);
  if (!hasRetentionRule(rules)) {
    logger.info(`Cleanup: no retention rule is set for ${pass.job} (days and every keep* are 0), nothing is deleted`);
    return { expired: [], kept: backups.length, ignored };
  }

  const wanted = selectExpired(backups, rules, pass.now, pass.protect).map((backup) => backup.key);
  // Verification and the anomaly guard keep what the rules alone would delete; said when it matters.
  const holds = wanted.length ? await findRetentionHolds(store, pass.job, backups, signal) : { keys: new Set<string>(), reasons: [] };
  for (const reason of holds.reasons) {
    if (reason.keys.some((key) => wanted.includes(key))) logger.warn(`Cleanup: keeping what the rules would delete: ${reason.text}`);
  }
  const expired = wanted.filter((key) => !holds.keys.has(key));
  const kept = backups.length - expired.length;
  if (pass.dryRun) {
    for (const key of expired) logger.info(`Would remove expired backup ${key}`);
    logger.info(`Cleanup (dry run): would remove ${expired.length} expired backups, keep ${kept}`);
    return { expired, kept, ignored };
  }
  if (expired.length) {
    await store.delete(expired, signal);
    // Objects first: a record without its object is harmless, the reverse is not.
    await store.deleteMetadata(expired.flatMap(backupDocuments), signal);
    for (const key of expired) logger.info(`Removed expired backup ${key}`);
  }
  if (expired.length || pass.reportNothing) logger.info(`Cleanup: removed ${expired.length} expired backups`);
  else logger.debug(`Cleanup: nothing expired for ${pass.job} (${plural(kept, 'backup')} kept)`);
  return { expired, kept, ignored };
}

function sample(keys: readonly string[]): string {
  const more = keys.length > SHOWN_IGNORED ? ` and ${keys.length - SHOWN_IGNORED} more` : '';
  return `${keys.slice(0, SHOWN_IGNORED).join(', ')}${more}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * `use: retention`: after each successful commit (never after a failure),
 * deletes the job's backups that no rule keeps. Written against the store
 * interface only, so it works on S3, a directory, or any third-party store.
 */
export default definePlugin({
  name: 'retention',
  kind: 'hook',
  description: 'Deletes expired backups after each successful backup: by age (days) and restic-style keep-last/daily/weekly/monthly rules.',
  schema: retentionSchema,
  create(options) {
    const rules: RetentionRules = { ...options };
    return {
      async afterCommit(run) {
        await applyRetention(rules, { ...run, protect: [run.artifact.key] });
      },
      // `backupctl prune`: the same pass, asked for by an operator, so it always says what it did.
      prune: (run) => applyRetention(rules, { ...run, reportNothing: true }),
    };
  },
});
