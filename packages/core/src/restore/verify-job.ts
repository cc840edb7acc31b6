import { BackupctlError, callPlugin, canVerify, ErrorCodes, type VerifyCapability } from '@backupctl/plugin-api';
import type { LoadedJob } from '../plugins/loaded-job.js';
import { chooseBackup, type BackupSelection } from '../catalog/backup-selection.js';
import { expandStoredJob, refuseKeyForParts } from '../parts/expand-job.js';
import { restoreBackup, withRestoreStages, type RestoreEnvironment, type RestoredBackup, type RestoreStages } from './restore-job.js';
import { compareRowCounts, type TableComparison } from './row-count-comparison.js';

export interface VerifyJobOptions extends RestoreEnvironment {
  selection: BackupSelection;
  /** Where to create the scratch database instead of the source's own server (a connection URL). */
  scratchUrl?: string;
}

/** What `verify` found. */
export interface VerifyOutcome {
  /** True when the checksum held and every table has as many rows as in the source. */
  ok: boolean;
  restored: RestoredBackup;
  /** The scratch database the backup was restored into (dropped since). */
  scratch: string;
  tables: TableComparison[];
  /** Tables whose status is not `ok`. */
  differences: number;
  durationMs: number;
}

/** How long dropping the scratch database may take once the verify was cancelled or failed. */
const DROP_TIMEOUT_MS = 60_000;

/**
 * `backupctl verify`: restores the chosen backup into a new scratch database
 * (checking its SHA-256 on the way), counts every table's rows there and in
 * the source database, and drops the scratch database again, whatever
 * happened. A damaged object is an error (CHECKSUM_MISMATCH or the decoder's);
 * differing row counts are a result with `ok: false`.
 */
export async function verifyJob(job: LoadedJob, options: VerifyJobOptions): Promise<VerifyOutcome> {
  const environment = { ...options, signal: options.signal ?? new AbortController().signal };
  return withRestoreStages(job, environment, (stages) => verifyWithStages(requireVerify(stages), environment));
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
  const parts = await expandStoredJob(job, environment);
  if (!parts) return undefined;
  refuseKeyForParts(job, parts, options.selection);
  const outcome: ExpandedVerifyOutcome = { ok: true, parts: [], skipped: [] };
  for (const part of parts) {
    const verified = await withRestoreStages(part, environment, async (stages) => (verifiable(stages) ? verifyWithStages(stages, environment) : undefined));
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

async function verifyWithStages(stages: VerifyStages, options: VerifyJobOptions & { signal: AbortSignal }): Promise<VerifyOutcome> {
  const { job, source } = stages;
  const { signal } = options;
  const now = options.now ?? (() => new Date());
  const started = now();
  const backup = await chooseBackup(stages.store, { ...job, extension: stages.extension }, options.selection, signal);
  const scratch = await call(() => source.createScratch({ url: options.scratchUrl }, signal), job, 'createScratch');
  options.logger.info(`${job.title}: verifying in scratch database ${scratch.target}`);
  try {
    // exactDatabase: a whole-server part would otherwise go to the database of its own name.
    const restored = await restoreBackup(stages, backup, { url: scratch.url, create: false, replace: false, exactDatabase: true }, options);
    const backupRows = await call(() => source.countRows({ url: scratch.url }, signal), job, 'countRows');
    const sourceRows = await call(() => source.countRows({}, signal), job, 'countRows');
    const tables = compareRowCounts(sourceRows, backupRows);
    const differences = tables.filter((table) => table.status !== 'ok').length;
    return { ok: differences === 0, restored, scratch: scratch.target, tables, differences, durationMs: now().getTime() - started.getTime() };
  } finally {
    // Also after a failure or a cancel: a verify must leave no database behind.
    await Promise.race([
      scratch.drop(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${DROP_TIMEOUT_MS / 1000} s`)), DROP_TIMEOUT_MS).unref()),
    ]).then(
      () => options.logger.debug(`Dropped scratch database ${scratch.target}`),
      (error: unknown) => options.logger.warn(`Could not drop the scratch database ${scratch.target}: ${(error as Error).message}; drop it by hand`),
    );
  }
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

function call<T>(run: () => Promise<T>, job: LoadedJob, hook: string): Promise<T> {
  return callPlugin({ code: ErrorCodes.RESTORE_FAILED, job: job.name, plugin: job.source?.use, hook }, run);
}
