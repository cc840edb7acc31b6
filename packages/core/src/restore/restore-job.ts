import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  abortedError,
  BackupctlError,
  callPlugin,
  canRestore,
  ErrorCodes,
  formatSize,
  wrapError,
  type Lifecycle,
  type Logger,
  type RestoreCapability,
  type RestoreResult,
  type RestoreTarget,
  type Secrets,
  type SinkInstance,
  type SourceInstance,
  type TransformInstance,
} from '@backupctl/plugin-api';
import { copiesOf, jobForCopy, type LoadedJob, type LoadedStep } from '../plugins/loaded-job.js';
import { readBackupRecord } from '../catalog/backup-records.js';
import type { BackupSelection, ChosenBackup } from '../catalog/backup-selection.js';
import { chooseInCopies, type HeldBackup, type OpenCopy } from '../catalog/copy-selection.js';
import { jobReadFrom, readFromCopies } from './read-copies.js';
import { decodeStored, type DecodedBackup } from './decode-stored.js';
import { createInstance, emptyArtifactInfo } from '../plugins/create-instance.js';
import { closeInReverse } from '../plugins/lifecycle.js';
import { formatUtcTime } from '../log/logger.js';

/** A job's stages as restore and verify use them: the source restores, the transforms decode, the sink is the store. */
export interface RestoreStages {
  job: LoadedJob;
  source: SourceInstance & RestoreCapability;
  transforms: { step: LoadedStep; instance: TransformInstance }[];
  store: SinkInstance;
  /** Every copy the job reads from, its store open, the primary first (`store` is the first's). */
  copies: OpenCopy<SinkInstance>[];
  /** The copy `store` is, by name, when the job has several: said in the restore's lines and result. */
  copy?: string;
  /** What the job's stages name its objects with (`.sql.gz`): which of the store's objects are its backups. */
  extension: string;
}

export interface RestoreEnvironment {
  logger: Logger;
  secrets: Secrets;
  /** Cancels the restore (SIGINT/SIGTERM): the target is left as it was. */
  signal?: AbortSignal;
  /** The clock, for tests. */
  now?: () => Date;
}

/** What one restored backup was, and where it went. */
export interface RestoredBackup {
  job: string;
  key: string;
  /** When the backup was taken (the time in its name), when it has one. */
  takenAt?: Date;
  /** Bytes read from the store. */
  storedBytes: number;
  /** Bytes given to the restore after decoding (the SQL or archive size). */
  restoredBytes: number;
  /** SHA-256 of the bytes read. */
  sha256: string;
  /** `verified` against the backup's record, or `unrecorded` (no record: an object written by another tool). */
  checksum: 'verified' | 'unrecorded';
  result: RestoreResult;
  durationMs: number;
  /** The copy it was read from, when the job has several. */
  copy?: string;
}

/**
 * Creates the job's source, transforms and store, runs `use`, then closes
 * them in reverse order whatever happened. Refuses a job whose source cannot
 * restore. Touches no restore target: nothing may, before the backup was
 * found and its record read (restoreBackup).
 */
export async function withRestoreStages<T>(
  job: LoadedJob,
  environment: RestoreEnvironment & { signal: AbortSignal },
  use: (stages: RestoreStages) => Promise<T>,
): Promise<T> {
  if (!job.source || !job.sink) {
    const missing = job.source ? 'sink' : 'source';
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `job ${job.name}: its ${missing} is not configured here${job.skipReason ? ` (${job.skipReason})` : ''}`, {
      job: job.name,
      hint: 'set the environment variables the job uses (backupctl validate shows what is missing)',
    });
  }
  const opened: { step: LoadedStep; instance: Lifecycle }[] = [];
  const instanceEnvironment = { logger: environment.logger, secrets: environment.secrets, signal: environment.signal, artifact: emptyArtifactInfo() };
  let failure: unknown;
  try {
    const source = await createInstance(job, job.source, 'source', instanceEnvironment);
    opened.push({ step: job.source, instance: source });
    if (!canRestore(source)) {
      throw new BackupctlError(ErrorCodes.USAGE, `job ${job.name}: the "${job.source.use}" source plugin cannot restore`, {
        job: job.name,
        plugin: job.source.use,
        hint: `restore the backup with that database's own tools (backupctl restore-help --job ${job.name})`,
      });
    }
    const transforms: RestoreStages['transforms'] = [];
    for (const step of job.transforms) {
      const instance = await createInstance(job, step, 'transform', instanceEnvironment);
      opened.push({ step, instance });
      transforms.push({ step, instance });
    }
    const copies: OpenCopy<SinkInstance>[] = [];
    for (const copy of copiesOf(job)) {
      const store = await createInstance(job, copy.sink, 'sink', instanceEnvironment);
      opened.push({ step: copy.sink, instance: store });
      copies.push({ copy, store });
    }
    const extension = instanceEnvironment.artifact.extension;
    return await use({ job, source, transforms, store: copies[0]!.store, copies, extension });
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await closeInReverse(opened, failure, environment.logger);
  }
}

/**
 * Streams one stored backup into `target`: store -> checksum verifier ->
 * each transform's decode() in reverse order -> the source's restore. No
 * temp file; memory stays flat. The verifier turns the stream's end into an
 * error when size or SHA-256 differ from the backup's record, and the
 * source commits only on a clean end, so a damaged object changes nothing.
 * The target is first touched by the source's restore, once the record was
 * read: a missing backup or an object the record refuses leaves it untouched.
 */
export async function restoreBackup(
  stages: RestoreStages,
  backup: ChosenBackup,
  target: RestoreTarget,
  environment: RestoreEnvironment & { signal: AbortSignal },
): Promise<RestoredBackup> {
  const { job, store, source } = stages;
  const { logger, signal } = environment;
  const now = environment.now ?? (() => new Date());
  const started = now();
  const name = path.posix.basename(backup.key);

  const controller = new AbortController();
  let decoded: DecodedBackup | undefined;
  const onOuterAbort = () => {
    controller.abort(signal.reason);
    decoded?.stop(true);
  };
  signal.addEventListener('abort', onOuterAbort, { once: true });
  // The object is opened while its record is read (one round trip to the
  // store less before the first byte); its errors still come after the
  // record's, and an object not restored is closed unread.
  const opening = call(() => store.get(backup.key, controller.signal), ErrorCodes.STORE_FAILED, job.sink, 'get', job.name);
  opening.catch(() => undefined);
  let body: Readable | undefined;

  try {
    const record = await call(() => readBackupRecord(store, backup.key, signal), ErrorCodes.STORE_FAILED, job.sink, 'readMetadata', job.name);
    if (!record) {
      logger.warn(
        `No checksum recorded for ${backup.key} (not written by backupctl?): restoring it without SHA-256 verification; only the transforms' own checks (gzip's CRC) detect damage`,
      );
    } else if (record.size !== backup.size) {
      // Cheapest possible refusal: the store already says the size is wrong.
      throw new BackupctlError(
        ErrorCodes.CHECKSUM_MISMATCH,
        `${backup.key} is ${backup.size < record.size ? 'truncated' : 'longer than recorded'}: the store holds ${backup.size} bytes, ${record.size} were recorded at backup time`,
        { job: job.name, hint: 'the stored object was altered after the backup; restore an older backup (backupctl ls) and check the storage' },
      );
    }
    logger.info(`${job.title}: restoring ${name}${stages.copy ? ` from copy ${stages.copy}` : ''} (${formatSize(backup.size)}${backup.time ? `, taken ${formatUtcTime(backup.time)}` : ''})`);

    body = await opening;
    const decoders = [...stages.transforms].reverse().map(({ step, instance }) => ({ step, stream: instance.decode() }));
    decoded = decodeStored(body, decoders, {
      key: backup.key,
      job: job.name,
      sink: job.sink?.use,
      expected: record && { sha256: record.sha256, size: record.size },
    });
    const reading = decoded;
    let restoreFailure: BackupctlError | undefined;
    // The source readies the target (creates it, checks what it holds) while the object's first bytes arrive.
    const restored = source.restore(reading.stream, target, controller.signal).catch((error: unknown) => {
      restoreFailure = wrapError(error, { code: ErrorCodes.RESTORE_FAILED, job: job.name, plugin: job.source?.use, hook: 'restore' });
      // The restore will take no more: stop reading the store (unless the hash still has a verdict to give).
      reading.stop();
      return undefined;
    });
    const [result, streamFailure] = await Promise.all([restored, reading.settled]);
    if (signal.aborted) throw abortedError(job.name, signal.reason);
    // A damaged object is the cause of whatever the restore then said.
    const failure = streamFailure ?? restoreFailure;
    if (failure) throw failure;
    const { verifier } = reading;
    const sha256 = verifier.sha256();
    if (!result || sha256 === undefined) {
      throw new BackupctlError(ErrorCodes.INTERNAL, `restore of ${backup.key} ended without a result`, { job: job.name });
    }
    return {
      job: job.name,
      key: backup.key,
      takenAt: backup.time,
      storedBytes: verifier.bytes,
      restoredBytes: reading.decodedBytes(),
      sha256,
      checksum: record ? 'verified' : 'unrecorded',
      result,
      durationMs: now().getTime() - started.getTime(),
      ...(stages.copy ? { copy: stages.copy } : {}),
    };
  } finally {
    signal.removeEventListener('abort', onOuterAbort);
    if (!body) {
      controller.abort(new Error('the restore did not go ahead'));
      void opening.then((unread) => unread.destroy(), () => undefined);
    }
  }
}

export interface RestoreJobOptions extends RestoreEnvironment {
  selection: BackupSelection;
  target: RestoreTarget;
  /** `--from`: read only the job's copy of this name. */
  from?: string;
}

/**
 * `backupctl restore`: picks the backup (`--key`, `--at`, else the newest,
 * across the job's copies) and restores it into the target from the first
 * copy holding it, the next one when that copy's object is missing or
 * damaged (readFromCopies), logging which backup, how many bytes and how
 * long. Throws a BackupctlError saying what failed; the target is then left
 * as it was.
 */
export async function restoreJob(job: LoadedJob, options: RestoreJobOptions): Promise<RestoredBackup> {
  const signal = options.signal ?? new AbortController().signal;
  const environment = { ...options, signal };
  const read = jobReadFrom(job, options.from);
  return withRestoreStages(read, environment, async (stages) => {
    const held = await chooseInCopies(stages.copies, { ...read, extension: stages.extension }, options.logger, options.selection, signal);
    const restored = await readFromCopies(read, held, options.logger, (entry) => restoreBackup(stagesOf(stages, entry), entry.backup, options.target, environment));
    options.logger.info(describeRestored(job, restored));
    return restored;
  });
}

/** The stages reading one copy: its store, and the job as that copy sees it (its sink names the errors). */
export function stagesOf(stages: RestoreStages, held: HeldBackup<SinkInstance>): RestoreStages {
  if (stages.copies.length === 1) return stages;
  return { ...stages, job: jobForCopy(stages.job, held.copy), store: held.store, copy: held.copy.name };
}

/** `Clara DB restored: clara_20260201_030000.sql.gz (2.5 MB stored, 9.8 MB plain SQL) into host:5432/db in 3.2 s, SHA-256 verified` */
export function describeRestored(job: Pick<LoadedJob, 'title'>, restored: RestoredBackup): string {
  const checksum = restored.checksum === 'verified' ? 'SHA-256 verified' : 'no checksum recorded';
  const replaced = restored.result.replaced.length ? `, replacing ${restored.result.replaced.length} tables` : '';
  return (
    `${job.title} restored: ${path.posix.basename(restored.key)} (${formatSize(restored.storedBytes)} stored, ` +
    `${formatSize(restored.restoredBytes)} ${restored.result.format}) into ${restored.result.target}${replaced} ` +
    `in ${formatSeconds(restored.durationMs)}, ${checksum}`
  );
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function call<T>(run: () => Promise<T>, code: BackupctlError['code'], step: LoadedStep | undefined, hook: string, job: string): Promise<T> {
  return callPlugin({ code, job, plugin: step?.use, hook }, run);
}
