import {
  BackupctlError,
  callPlugin,
  canVerify,
  ErrorCodes,
  isBackupctlError,
  type RowCounts,
  type Verification,
  type VerifyCapability,
} from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import type { BackupSelection, ChosenBackup } from '../catalog/backup-selection.js';
import { chooseInCopies } from '../catalog/copy-selection.js';
import { readManifest, type ManifestRecord } from '../catalog/manifest-records.js';
import { recordVerification } from '../catalog/verification-records.js';
import { expandStoredJob, refuseKeyForParts } from '../parts/expand-job.js';
import { restoreBackup, stagesOf, withRestoreStages, type RestoreEnvironment, type RestoredBackup, type RestoreStages } from './restore-job.js';
import { jobReadFrom, readFromCopies } from './read-copies.js';
import { compareRowCounts, type ComparedWith, type TableComparison } from './row-count-comparison.js';
import { notifyVerification } from './notify-verification.js';

export interface VerifyJobOptions extends RestoreEnvironment {
  selection: BackupSelection;
  /** Where to create the scratch database instead of the source's own server (a connection URL). */
  scratchUrl?: string;
  /** Compare with the live source database instead of the backup's manifest (which changes as the database does). */
  againstSource?: boolean;
  /** A verification outside a run (`backupctl verify`, the schedule): the job's notifiers hear it (verified, verify-failed). */
  notify?: boolean;
  /** `--from`: read only the job's copy of this name. */
  from?: string;
}

/** What `verify` found. */
export interface VerifyOutcome {
  /** True when the checksum held and every table has the rows expected. */
  ok: boolean;
  restored: RestoredBackup;
  /** What the restore was compared with: the manifest when the backup has one (and --against-source was not asked), else the live database. */
  against: ComparedWith;
  /** The backup's manifest, when it has one. */
  manifest?: ManifestRecord;
  /** The scratch database the backup was restored into (dropped since). */
  scratch: string;
  tables: TableComparison[];
  /** Tables whose status is not `ok`. */
  differences: number;
  durationMs: number;
  /** What was recorded in the store (`metadata/verified/<key>.json`). */
  verification: Verification;
}

/** How long dropping the scratch database may take once the verify was cancelled or failed. */
const DROP_TIMEOUT_MS = 60_000;

/**
 * `backupctl verify`: restores the chosen backup into a new scratch database
 * (checking its SHA-256 on the way), counts every table's rows there,
 * compares them with the backup's manifest (exact: any difference is a
 * defect of the backup) or, without one or with `againstSource`, with the
 * live database, drops the scratch database again whatever happened, and
 * records the result in the store. A backup that does not restore (damaged
 * object, restore error) is recorded as failed and rethrown; differing row
 * counts are a result with `ok: false`.
 */
export async function verifyJob(job: LoadedJob, options: VerifyJobOptions): Promise<VerifyOutcome> {
  const environment = { ...options, signal: options.signal ?? new AbortController().signal };
  return withRestoreStages(jobReadFrom(job, options.from), environment, (stages) => verifyFromCopies(requireVerify(stages), environment));
}

/**
 * Verifies the chosen backup from the first copy holding it, the next when
 * that copy's object is missing or damaged (its failed verification is
 * recorded in that copy's store): each attempt in a scratch database of its own.
 */
async function verifyFromCopies(stages: VerifyStages, options: VerifyJobOptions & { signal: AbortSignal }): Promise<VerifyOutcome> {
  const { job } = stages;
  const held = await chooseInCopies(stages.copies, { ...job, extension: stages.extension }, options.logger, options.selection, options.signal);
  return readFromCopies(job, held, options.logger, (entry) => verifyWithStages({ ...stagesOf(stages, entry), source: stages.source }, entry.backup, options));
}

/**
 * HookRun.verify: verifies the backup `key` just written, with fresh
 * instances of the job's stages, and resolves with the recorded result,
 * also when it did not restore (a damaged object is a failed verification,
 * not a broken hook). `job` is the job as the copy that wrote `key` sees it
 * (jobForCopy): given several copies, a damaged object would be passed over
 * for another copy's.
 */
export async function verifyBackupInRun(
  job: LoadedJob,
  key: string,
  options: Omit<VerifyJobOptions, 'selection'>,
): Promise<Verification> {
  try {
    return (await verifyJob(job, { ...options, selection: { key } })).verification;
  } catch (error) {
    const failed = recordedFailure(error);
    if (failed) return failed;
    throw error;
  }
}

/** What `verify` found for each part of a whole-server job. */
export interface ExpandedVerifyOutcome {
  /** True when every part it could verify is ok. */
  ok: boolean;
  parts: VerifyOutcome[];
  /** Parts the source cannot verify (postgres: the globals, which hold no tables), by name. */
  skipped: string[];
}

/**
 * Whole servers: `backupctl verify <job>` of a job whose source stands for
 * several databases verifies each database part in turn, each from its own
 * newest backup (or newest at or before `--at`) in a scratch database of its
 * own, dropped after. Parts the source cannot verify are skipped with a
 * line saying so. Stops at the first part that fails to restore; differing
 * row counts are a result, as for one database. Undefined when the job does
 * not expand: verify it as one.
 */
export async function verifyExpandedJob(job: LoadedJob, options: VerifyJobOptions): Promise<ExpandedVerifyOutcome | undefined> {
  const environment = { ...options, signal: options.signal ?? new AbortController().signal };
  const parts = await expandStoredJob(jobReadFrom(job, options.from), environment);
  if (!parts) return undefined;
  refuseKeyForParts(job, parts, options.selection);
  const outcome: ExpandedVerifyOutcome = { ok: true, parts: [], skipped: [] };
  for (const part of parts) {
    const verified = await withRestoreStages(part, environment, async (stages) => (verifiable(stages) ? verifyFromCopies(stages, environment) : undefined));
    if (verified === undefined) {
      options.logger.info(`${part.title}: skipped, the "${part.source?.use}" source cannot verify this part (it holds no tables to count)`);
      outcome.skipped.push(part.name);
      continue;
    }
    outcome.parts.push(verified);
    outcome.ok &&= verified.ok;
  }
  return outcome;
}

/** `backupctl verify` of any job: each part of a whole-server job (verifyExpandedJob), else the job as one (verifyJob). */
export async function verifyJobOrParts(job: LoadedJob, options: VerifyJobOptions): Promise<VerifyOutcome | ExpandedVerifyOutcome> {
  return (await verifyExpandedJob(job, options)) ?? (await verifyJob(job, options));
}

async function verifyWithStages(stages: VerifyStages, backup: ChosenBackup, options: VerifyJobOptions & { signal: AbortSignal }): Promise<VerifyOutcome> {
  const { job, source, store } = stages;
  const { signal, logger } = options;
  const now = options.now ?? (() => new Date());
  const started = now();
  // A manifest that cannot be read is none: the live database is then the reference, as for an older backup.
  const manifest = await readManifest(store, backup.key, signal).catch((error: unknown) => {
    logger.warn(`${job.title}: the manifest of ${backup.key} could not be read (${(error as Error).message})`);
    return undefined;
  });
  const against: ComparedWith = manifest?.tables && !options.againstSource ? 'manifest' : 'source';
  if (against === 'source' && !options.againstSource) {
    logger.info(`${job.title}: ${backup.key} has no manifest (written before backupctl recorded them, or by a source without one): comparing with the live database`);
  }
  const scratch = await call(() => source.createScratch({ url: options.scratchUrl }, signal), job, ErrorCodes.RESTORE_FAILED, 'createScratch');
  logger.info(`${job.title}: verifying ${backup.key} in scratch database ${scratch.target} against ${against === 'manifest' ? 'its manifest' : 'the live database'}`);
  const finish = (result: Omit<Verification, 'key' | 'job' | 'verifiedAt' | 'where' | 'durationMs' | 'against'>): Verification => ({
    key: backup.key,
    job: job.name,
    against,
    verifiedAt: now().toISOString(),
    where: scratch.target,
    durationMs: now().getTime() - started.getTime(),
    ...result,
  });
  let outcome: VerifyOutcome;
  try {
    let restored: RestoredBackup;
    try {
      // exactDatabase: a whole-server part would otherwise go to the database of its own name.
      restored = await restoreBackup(stages, backup, { url: scratch.url, create: false, replace: false, exactDatabase: true }, options);
    } catch (error) {
      if (!isBackupctlError(error) || !FAILS_VERIFICATION.has(error.code)) throw error;
      // Restore messages may quote the backup's rows or a connection string: masked, and kept short.
      const message = options.secrets.redact(error.message).slice(0, MAX_ERROR_TEXT);
      const verification = finish({ result: 'failed', differences: [], tables: 0, error: { code: error.code, message } });
      await keep(stages, verification, options);
      throw new RecordedVerifyFailure(error, verification);
    }
    const restoredRows = await call(() => source.countRows({ url: scratch.url }, signal), job, ErrorCodes.RESTORE_FAILED, 'countRows');
    const expected: RowCounts =
      against === 'manifest' ? manifest!.tables! : await call(() => source.countRows({}, signal), job, ErrorCodes.RESTORE_FAILED, 'countRows');
    const tables = compareRowCounts(expected, restoredRows, against);
    const differing = tables.filter((table) => table.status !== 'ok');
    // Counts that cannot prove a difference fail only on a table missing from the restore: estimated
    // ones (statistics), and the live database's when nobody asked for it (no manifest): a busy
    // database always moved on since the dump.
    const provable = against === 'manifest' ? manifest?.rowCounts !== 'estimated' : options.againstSource === true;
    if (!provable && against === 'source' && differing.length) {
      logger.warn(`${job.title}: ${backup.key} has no manifest: the live database's counts are shown, and only a table missing from the backup fails`);
    }
    const failing = provable ? differing : differing.filter((table) => table.status === 'missing in backup');
    const verification = finish({
      result: failing.length === 0 ? 'passed' : 'failed',
      restoreMs: restored.durationMs,
      tables: tables.length,
      differences: differing.map(({ table, expectedRows, restoredRows: rows }) => ({ table, expected: expectedRows, restored: rows })),
    });
    outcome = { ok: failing.length === 0, restored, against, manifest, scratch: scratch.target, tables, differences: differing.length, durationMs: verification.durationMs, verification };
  } finally {
    await dropScratch(scratch, logger);
  }
  await keep(stages, outcome.verification, options);
  return outcome;
}

/**
 * Records the verification in the store (a failure to record is a warning:
 * the result stands), except a difference from the live database under
 * --against-source, which proves nothing against the backup; and, outside a
 * run, tells the job's hooks.
 */
async function keep(stages: VerifyStages, verification: Verification, options: VerifyJobOptions & { signal: AbortSignal }): Promise<void> {
  const { job } = stages;
  if (verification.result === 'failed' && options.againstSource && !verification.error) {
    options.logger.info(
      `${job.title}: not recorded: a difference from the live database does not prove ${verification.key} bad (verify without --against-source compares it with its manifest)`,
    );
  } else {
    try {
      await recordVerification(stages.store, verification, options.signal);
    } catch (error) {
      options.logger.warn(`${job.title}: the verification of ${verification.key} could not be recorded: ${(error as Error).message}`);
    }
  }
  if (options.notify) await notifyVerification(job, verification, options);
}

async function dropScratch(scratch: { target: string; drop(): Promise<void> }, logger: VerifyJobOptions['logger']): Promise<void> {
  // Also after a failure or a cancel: a verify must leave no database behind.
  await Promise.race([
    scratch.drop(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${DROP_TIMEOUT_MS / 1000} s`)), DROP_TIMEOUT_MS).unref()),
  ]).then(
    () => logger.debug(`Dropped scratch database ${scratch.target}`),
    (error: unknown) => logger.warn(`Could not drop the scratch database ${scratch.target}: ${(error as Error).message}; drop it by hand`),
  );
}

/**
 * Errors that say the backup itself is bad, recorded as a failed
 * verification: the stored bytes are not what was written. A restore error
 * may be the scratch server's (psql missing, disk full) or a decryption key
 * missing here: it fails the verify, but records nothing against the backup.
 */
const FAILS_VERIFICATION = new Set<string>([ErrorCodes.CHECKSUM_MISMATCH]);

/** How much of a restore error a record keeps. */
const MAX_ERROR_TEXT = 1000;

/** The restore's own error, carrying the failed verification that was recorded for it. */
class RecordedVerifyFailure extends BackupctlError {
  constructor(
    error: BackupctlError,
    readonly verification: Verification,
  ) {
    super(error.code, error.message, { job: error.job, plugin: error.plugin, hook: error.hook, hint: error.hint, cause: error.cause });
  }
}

/** The failed verification recorded for a backup that did not restore, if that is what `error` is. */
export function recordedFailure(error: unknown): Verification | undefined {
  if (error instanceof RecordedVerifyFailure) return error.verification;
  // Every copy failed (readFromCopies): the last copy's recorded failure.
  return isBackupctlError(error) && error.cause instanceof RecordedVerifyFailure ? error.cause.verification : undefined;
}

type VerifyStages = RestoreStages & { source: RestoreStages['source'] & VerifyCapability };

function verifiable(stages: RestoreStages): stages is VerifyStages {
  return canVerify(stages.source);
}

function requireVerify(stages: RestoreStages): VerifyStages {
  if (verifiable(stages)) return stages;
  const { job } = stages;
  throw new BackupctlError(ErrorCodes.USAGE, `job ${job.name}: the "${job.source?.use}" source plugin can restore but not verify (no scratch database or row counts)`, {
    job: job.name,
    plugin: job.source?.use,
    hint: `restore into a database of your choice instead: backupctl restore ${job.name} --target-url URL --create`,
  });
}

function call<T>(run: () => Promise<T>, job: LoadedJob, code: BackupctlError['code'], hook: string): Promise<T> {
  return callPlugin({ code, job: job.name, plugin: job.source?.use, hook }, run);
}

