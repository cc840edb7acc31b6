import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import {
  abortedError,
  BackupctlError,
  callPlugin,
  canVerify,
  ErrorCodes,
  FAILURE_CODE,
  formatSize,
  wrapError,
  type Artifact,
  type HookInstance,
  type HookRun,
  type Lifecycle,
  type LogFields,
  type Logger,
  type Notification,
  type PluginInstances,
  type PluginKind,
  type Secrets,
  type SinkInstance,
  type SourceInstance,
  type SourceManifest,
  type SourceStream,
  type TransformInstance,
  type Verification,
} from '@backupctl/plugin-api';
import { copiesOf, jobForCopy, type LoadedCopy, type LoadedJob, type LoadedStep } from '../plugins/loaded-job.js';
import { fanOut } from '../streams/fan-out.js';
import { readJobRecord, recordBackup } from '../catalog/backup-records.js';
import { DEFAULT_ANOMALY, guardBackup } from './anomaly-guard.js';
import { verifyBackupInRun } from '../restore/verify-job.js';
import { createInstance, emptyArtifactInfo } from '../plugins/create-instance.js';
import { closeInReverse } from '../plugins/lifecycle.js';
import { CommitGate } from './commit-gate.js';
import { LINE_TAG, withLogFields } from '../log/logger.js';
import { renderObjectName } from '../naming/object-name.js';
import { bufferReclaimer } from '../streams/buffer-reclaimer.js';
import { recordTail } from '../log/log-tail.js';
import { notifiersAmong, sendNotification, type Notifier } from '../notify/send-notification.js';
import {
  anomalyNotification,
  copyFailedNotification,
  resultNotification,
  skippedNotification,
  startNotification,
} from '../notify/job-notifications.js';

export type JobStatus = 'succeeded' | 'skipped' | 'failed';

export interface JobResult {
  job: string;
  title: string;
  status: JobStatus;
  /** The committed backup (also set when a hook failed after the commit). */
  artifact?: Artifact;
  /** Why the job was skipped. */
  reason?: string;
  /** Skipped because another run holds it right now (its source's lock), not because it is done: `run --worker` tries it again. */
  busy?: boolean;
  error?: BackupctlError;
  durationMs: number;
  /** Verifications hooks ran in this run (the verify hook), passed or failed. */
  verifications?: Verification[];
  /** A job with several sinks: what became of each copy, in file order. */
  copies?: CopyResult[];
}

/** One copy of a job with several sinks. */
export interface CopyResult {
  name: string;
  required: boolean;
  status: 'stored' | 'failed';
  /** The stored object's key (also when what follows its commit failed). */
  key?: string;
  error?: BackupctlError;
}

export interface RunJobOptions {
  logger: Logger;
  secrets: Secrets;
  /** Cancels the job (SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** The clock, for tests. */
  now?: () => Date;
  /** Called as bytes flow (often: throttle before printing), and once with `done: true` when the stream settled. */
  onProgress?: (progress: JobProgress) => void;
  /**
   * Whole servers: the time the object's name carries, shared by the
   * sub-jobs of one expanded job so a run's set is recognisable. Default:
   * when this job started.
   */
  nameTime?: Date;
  /**
   * The job cannot run (its source could not list its parts): once its
   * stages exist and its hooks' beforeRun let it run (respawn may still skip
   * it), it fails with this, as any failing job does (logged, its onError
   * hooks run), without asking the source for anything.
   */
  failWith?: BackupctlError;
  /**
   * A part of a whole-server job: the job's start and result are told to
   * its notifiers once, for the whole job (runPipeline), not per database;
   * this part's copy-failed and anomaly still are, with the job's run id.
   */
  partOf?: { runId: string };
  /**
   * `run --worker`: a part another run holds (busy) is not this run's to
   * report yet; it is said at debug level, and tried again after the rest.
   */
  shared?: boolean;
  /** Several backups run at once: every text line of this one starts with `[job/part]`. */
  tagLines?: boolean;
}

/** How far a job's stream has come; for progress lines. */
export interface JobProgress {
  job: string;
  title: string;
  /** Bytes the source produced so far (before transforms). */
  sourceBytes: number;
  /** Bytes handed to the sink so far (after transforms). */
  storedBytes: number;
  elapsedMs: number;
  /** True once, when the stream has settled (committed or failed). */
  done: boolean;
}


/**
 * Runs one job: hooks' beforeRun, then source -> transforms -> commit gate ->
 * sink as one stream, then afterCommit (or onError), then every close() in
 * reverse order. Never throws; the result says what happened.
 */
export async function runJob(job: LoadedJob, options: RunJobOptions): Promise<JobResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const elapsed = () => now().getTime() - startedAt.getTime();
  // Every line of the job, plugins' included, carries the job's name (a field in JSON logs);
  // its last lines go with a failure notification.
  const tail = recordTail(withLogFields(options.logger, jobLogFields(job, options.tagLines)));
  const { logger } = tail;
  const result = (status: JobStatus, extra: Partial<JobResult> = {}): JobResult => ({
    job: job.name,
    title: job.title,
    status,
    durationMs: elapsed(),
    ...extra,
  });

  if (job.skipReason) {
    logger.info(`${job.title} backup skipped: ${job.skipReason}`, { event: 'skipped' });
    return result('skipped', { reason: job.skipReason });
  }

  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const artifactInfo = emptyArtifactInfo();
  const opened: { step: LoadedStep; instance: Lifecycle }[] = [];
  // The copies whose sink and hooks were created (the failure path alerts them).
  const copies: RunningCopy[] = [];
  let failure: BackupctlError | undefined;
  // Notifiers hear the run's events; each is bounded in time and never changes the result.
  let notifiers: Notifier[] = [];
  // One id for the run's events, so a receiver can pair a start with its end.
  const runId = options.partOf?.runId ?? randomUUID();
  const notify = async (notification: Notification) => {
    if (notifiers.length) await sendNotification(notifiers, { ...notification, runId }, { logger, redact: (text) => options.secrets.redact(text) });
  };
  // A whole server's parts leave the run's start and end to the whole job.
  const announce = options.partOf ? async () => undefined : notify;
  const skipped = async (reason: string) => {
    logger.info(`${job.title} backup skipped: ${reason}`, { event: 'skipped' });
    await announce(skippedNotification(job, reason));
    return result('skipped', { reason });
  };
  const finished = async (outcome: JobResult) => {
    await announce(resultNotification(job, outcome, tail.lines()));
    return outcome;
  };

  try {
    const environment = { logger, secrets: options.secrets, signal: controller.signal, artifact: artifactInfo };
    const create = async <K extends PluginKind>(step: LoadedStep | undefined, kind: K): Promise<PluginInstances[K]> => {
      const instance = await createInstance(job, step, kind, environment);
      if (step) opened.push({ step, instance });
      return instance;
    };

    // Created in pipeline order: each stage may add to the artifact's name and type.
    const source: SourceInstance = await create(job.source, 'source');
    const transforms: TransformInstance[] = [];
    for (const step of job.transforms) transforms.push(await create(step, 'transform'));
    const verifications: Verification[] = [];
    const baseRun = {
      job: job.name,
      title: job.title,
      nameTemplate: job.nameTemplate,
      extension: artifactInfo.extension,
      logger,
      signal: controller.signal,
      now: startedAt,
    };
    // The verify hook: restores with fresh instances of the job's stages, as `backupctl verify --key`
    // does, from the copy whose hook asks (a damaged object there must not pass for another copy's).
    const verifyIn = (copy: LoadedCopy): Pick<HookRun, 'verify'> =>
      canVerify(source)
        ? {
            verify: async (key, verifyOptions = {}) => {
              const verification = await verifyBackupInRun(jobForCopy(job, copy), key, { ...verifyOptions, logger, secrets: options.secrets, signal: controller.signal, now });
              verifications.push(verification);
              return verification;
            },
          }
        : {};
    // Each copy: its sink, the hooks around it, and what they see (that sink as their store).
    for (const copy of copiesOf(job)) {
      const sink: SinkInstance = await create(copy.sink, 'sink');
      const hooks: RunningCopy['hooks'] = [];
      for (const step of copy.hooks) hooks.push({ step, instance: await create(step, 'hook') });
      copies.push({ copy, sink, hooks, hookRun: { ...baseRun, store: sink, ...verifyIn(copy) } });
    }
    const several = copies.length > 1;
    const notifierHooks: { use: string; instance: HookInstance }[] = [];
    for (const step of job.notify ?? []) notifierHooks.push({ use: step.use, instance: await create(step, 'hook') });
    for (const open of copies) notifierHooks.push(...open.hooks.map(({ step, instance }) => ({ use: step.use, instance })));
    notifiers = notifiersAmong(notifierHooks);

    // Said before anything can fail or skip: a dead-man monitor then sees every run begin, and what became of it.
    await announce(startNotification(job, startedAt));
    // A job that cannot run (failWith) does not ask its source for anything, but its hooks still decide first.
    const exclusive = options.failWith ? undefined : await callStage(job.source, 'source', 'beforeRun', () => source.beforeRun?.(controller.signal), job.name);
    if (exclusive?.skip && exclusive.busy && options.shared) {
      logger.debug(`${job.title}: held by another run (${exclusive.reason}); coming back to it after the other parts`, { event: 'busy' });
      return result('skipped', { reason: exclusive.reason, busy: true });
    }
    if (exclusive?.skip) return await skipped(exclusive.reason);
    // Respawn and the like decide per copy; the job skips only when every required copy would.
    const skips = new Map<RunningCopy, string>();
    for (const open of copies) {
      for (const { step, instance } of open.hooks) {
        const decision = await callStage(step, 'hook', 'beforeRun', () => instance.beforeRun?.(open.hookRun), job.name);
        if (decision?.skip) {
          skips.set(open, decision.reason);
          break;
        }
      }
    }
    const required = copies.filter((open) => open.copy.required);
    if (required.every((open) => skips.has(open))) {
      return await skipped(skips.get(required[0]!)!);
    }
    for (const [open, reason] of skips) {
      const needing = required.filter((other) => !skips.has(other)).map((other) => other.copy.name);
      logger.info(`${job.title}: copy ${open.copy.name} would skip (${reason}), but copy ${needing.join(', ')} needs a backup: writing every copy`);
    }
    if (options.failWith) throw options.failWith;

    const name = renderObjectName(job.nameTemplate, { job: job.name, startedAt: options.nameTime ?? startedAt, ext: artifactInfo.extension });
    logger.debug(`${job.title} backup started: ${name}`, { event: 'started' });
    const onProgress = options.onProgress;
    const progress = onProgress && ((sourceBytes: number, storedBytes: number, done: boolean) =>
      onProgress({ job: job.name, title: job.title, sourceBytes, storedBytes, elapsedMs: elapsed(), done }));
    const stored = await streamToCopies({ job, logger, source, transforms, copies, name, signal: controller.signal, startedAt, now, onFailure: () => controller.abort(), progress });
    const first = stored.find((outcome) => outcome.artifact)!.artifact!;
    logger.info(`${job.title} backup complete: ${path.posix.basename(first.key)} (${formatSize(first.size)})`, {
      event: 'complete',
      key: first.key,
      bytes: first.size,
      sourceBytes: first.sourceSize,
      sha256: first.sha256,
      durationMs: first.finishedAt.getTime() - first.startedAt.getTime(),
    });

    // Per copy: what follows a commit where it committed, the alerts where it failed.
    const copyResults: CopyResult[] = [];
    for (const outcome of stored) copyResults.push(await finishCopy(job, outcome, { several, logger, startedAt, elapsed, signal: controller.signal }));
    const extra = { artifact: first, ...(verifications.length ? { verifications } : {}), ...(several ? { copies: copyResults } : {}) };
    // The same dump is flagged in every copy that compares it: one notification.
    const flagged = stored.find((outcome) => outcome.artifact?.anomaly)?.artifact;
    if (flagged) await notify(anomalyNotification(job, flagged));
    const failedRequired = copyResults.find((copy) => copy.required && copy.status === 'failed');
    if (failedRequired) {
      failure = failedRequired.error;
      if (several) {
        const summary = copyResults.map((copy) => `${copy.name} ${copy.status}${copy.required ? '' : ' (not required)'}`).join(', ');
        logger.error(`${job.title} backup failed: a required copy failed (${summary})`, { event: 'failed', code: failure?.code, durationMs: elapsed() });
      }
      return await finished(result('failed', { ...extra, error: failure }));
    }
    const succeeded = result('succeeded', extra);
    // A failed copy the job did not need: the job succeeds, and someone should still hear of it.
    for (const copy of copyResults) if (copy.status === 'failed') await notify(copyFailedNotification(job, copy, succeeded));
    return await finished(succeeded);
  } catch (error) {
    failure = controller.signal.aborted && options.signal?.aborted
      ? abortedError(job.name, options.signal.reason)
      : wrapError(error, { code: ErrorCodes.INTERNAL, job: job.name });
    controller.abort(failure);
    logger.error(`${job.title} backup failed: ${failure.message}`, { event: 'failed', code: failure.code, durationMs: elapsed() });
    logHint(logger, job, failure);
    for (const open of copies) await runOnError(job, open, failure, logger, startedAt);
    return await finished(result('failed', { error: failure }));
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await closeInReverse(opened, failure, logger);
  }
}

/** What each of a job's lines carries: its name, and a part's job and part (`job: main, part: crm`). */
function jobLogFields(job: LoadedJob, tag?: boolean): LogFields {
  const fields: LogFields = job.partOf ? { job: job.partOf, part: job.name } : { job: job.name };
  if (tag) fields[LINE_TAG] = job.partOf ? `${job.partOf}/${job.name}` : job.name;
  return fields;
}

/** One copy as a run holds it: its sink, its hooks, and what they are called with. */
interface RunningCopy {
  copy: LoadedCopy;
  sink: SinkInstance;
  hooks: { step: LoadedStep; instance: HookInstance }[];
  hookRun: HookRun;
}

interface StreamJob {
  job: LoadedJob;
  source: SourceInstance;
  transforms: TransformInstance[];
  copies: RunningCopy[];
  name: string;
  signal: AbortSignal;
  startedAt: Date;
  now: () => Date;
  /** Called on the first failure that stops the whole job, so every other stage stops at once. */
  onFailure: () => void;
  progress?: (sourceBytes: number, storedBytes: number, done: boolean) => void;
  logger: Logger;
}

/** What became of one copy's write: its committed artifact, or why it failed. */
interface CopyOutcome {
  open: RunningCopy;
  artifact?: Artifact;
  error?: BackupctlError;
}

/**
 * Streams source -> transforms -> gate -> every copy's sink: one sink is
 * given the gate itself; several share it through a fan-out (the same
 * bytes to each, paced by the slowest required one, a non-required one
 * that lags or stalls cut loose). A failing copy does not stop the others.
 * Rejects with the first failure of the source or a transform (every copy
 * then aborts), or of the only copy, or when every copy failed; otherwise
 * resolves with each copy's outcome.
 */
async function streamToCopies(run: StreamJob): Promise<CopyOutcome[]> {
  const { job, copies } = run;
  let first: BackupctlError | undefined;
  const fail = (error: unknown, kind: PluginKind, step: LoadedStep | undefined, hook: string) => {
    if (!first) {
      first = wrapError(error, { code: FAILURE_CODE[kind], job: job.name, plugin: step?.use, hook });
      run.onFailure();
    }
  };

  let opened: SourceStream;
  try {
    opened = await run.source.open(run.signal);
  } catch (error) {
    throw wrapError(error, { code: ErrorCodes.SOURCE_FAILED, job: job.name, plugin: job.source?.use, hook: 'open' });
  }
  const { stream, done } = opened;
  const sourceDone = done.catch((error: unknown) => {
    fail(error, 'source', job.source, 'done');
    throw error;
  });
  let sourceBytes = 0;
  const gate = new CommitGate(sourceDone);
  const encoders = run.transforms.map((transform, index) => {
    const encoder = transform.encode();
    encoder.once('error', (error) => fail(error, 'transform', job.transforms[index], 'encode'));
    return encoder;
  });
  stream.once('error', (error) => fail(error, 'source', job.source, 'stream'));

  const flowed = new Promise<void>((resolve, reject) => {
    pipeline([stream, ...encoders, gate], (error) => (error ? reject(error) : resolve()));
  });
  const reclaim = bufferReclaimer();
  stream.on('data', (chunk: Buffer) => {
    sourceBytes += chunk.length;
    reclaim(chunk.length);
    run.progress?.(sourceBytes, gate.bytes, false);
  });

  const inputs: Readable[] =
    copies.length === 1
      ? [gate]
      : fanOut(gate, copies.map(({ copy }) => ({ name: copy.name, required: copy.required })), {
          onCutLoose: (name, reason) => run.logger.warn(`${job.title} copy ${name} was cut loose: it ${reason}; the other copies go on`, { event: 'copy-cut-loose', copy: name }),
        }).branches.map((branch) => branch.stream);
  let failedCopies = 0;
  const writes = copies.map(async (open, index): Promise<CopyOutcome> => {
    const input = inputs[index]!;
    // A copy's own signal: its failure aborts its write only; the job's aborts them all.
    const own = new AbortController();
    try {
      const object = await open.sink.write(input, run.name, AbortSignal.any([run.signal, own.signal]));
      return { open, artifact: { key: object.key, size: object.size } as Artifact };
    } catch (error) {
      own.abort();
      const wrapped = wrapError(error, { code: ErrorCodes.SINK_FAILED, job: job.name, plugin: open.copy.sink.use, hook: 'write' });
      failedCopies += 1;
      // The only copy, or the last one standing: nothing is left to write to. Said before the fan-out
      // stops the source (below), so the job fails with the sink's error, not the stopped source's.
      if (copies.length === 1 || failedCopies === copies.length) fail(wrapped, 'sink', open.copy.sink, 'write');
      // A sink that gave up without reading to the end must not hold the others back.
      if (copies.length > 1) input.destroy();
      return { open, error: wrapped };
    }
  });

  const [sourceSettled, flowSettled, ...outcomes] = await Promise.allSettled([sourceDone, flowed, ...writes]);
  run.progress?.(sourceBytes, gate.bytes, true);
  if (first) throw first;
  for (const settled of [sourceSettled, flowSettled]) {
    if (settled?.status === 'rejected') throw wrapError(settled.reason, { code: ErrorCodes.INTERNAL, job: job.name });
  }
  const manifest = await readSourceManifest(opened, run);
  const finishedAt = run.now();
  return outcomes.map((settled) => {
    const outcome = (settled as PromiseFulfilledResult<CopyOutcome>).value;
    if (!outcome.artifact) return outcome;
    const { key, size } = outcome.artifact;
    const use = outcome.open.copy.sink.use;
    if (size !== gate.bytes) {
      const error = new BackupctlError(ErrorCodes.SINK_FAILED, `${use} reports ${size} bytes stored for ${key}, but ${gate.bytes} bytes were sent`, {
        job: job.name,
        plugin: use,
        hook: 'write',
      });
      if (copies.length === 1) throw error;
      return { open: outcome.open, error };
    }
    const artifact: Artifact = {
      job: job.name,
      key,
      size,
      sourceSize: sourceBytes,
      sha256: gate.sha256(),
      startedAt: run.startedAt,
      finishedAt,
      ...(manifest ? { manifest } : {}),
    };
    return { open: outcome.open, artifact };
  });
}

/**
 * One copy after the stream: where it committed, its records and hooks
 * (afterCommitOf), where it failed, its failure line and its onError hooks.
 * A failure after the commit leaves the object in place and fails the copy.
 */
async function finishCopy(
  job: LoadedJob,
  outcome: CopyOutcome,
  run: { several: boolean; logger: Logger; startedAt: Date; elapsed: () => number; signal: AbortSignal },
): Promise<CopyResult> {
  const { open } = outcome;
  const { logger, startedAt } = run;
  const label = run.several ? `${job.title} copy ${open.copy.name}` : job.title;
  const copy = { name: open.copy.name, required: open.copy.required };
  if (!outcome.artifact) {
    const error = outcome.error!;
    const line = `${label} failed: ${error.message}`;
    if (open.copy.required) logger.error(line, { event: 'copy-failed', code: error.code, copy: copy.name });
    else logger.warn(`${line} (not required: the job goes on)`, { event: 'copy-failed', code: error.code, copy: copy.name });
    logHint(logger, job, error);
    await runOnError(job, open, error, logger, startedAt);
    return { ...copy, status: 'failed', error };
  }
  const { artifact } = outcome;
  if (run.several) logger.info(`${label}: stored ${artifact.key}`, { event: 'copy-stored', key: artifact.key, copy: copy.name });
  try {
    await afterCommitOf(job, open, artifact, { logger, now: startedAt, signal: run.signal });
    return { ...copy, status: 'stored', key: artifact.key };
  } catch (error) {
    // The backup is committed and stays; the job still fails so the problem is seen.
    const afterFailure = error as BackupctlError;
    logger.error(`${label} backup committed, but what follows it failed: ${afterFailure.message}`, {
      event: 'failed',
      code: afterFailure.code,
      key: artifact.key,
      durationMs: run.elapsed(),
    });
    logHint(logger, job, afterFailure);
    // Alerts still fire: a retention or metadata failure needs a human as much as a failed dump.
    await runOnError(job, open, afterFailure, logger, startedAt);
    return { ...copy, status: 'failed', key: artifact.key, error: afterFailure };
  }
}

/**
 * What follows one copy's commit: its records (checksum, manifest, the
 * job's record), the anomaly guard against that copy's previous backup,
 * then its hooks' afterCommit in file order. Throws the first failure.
 */
async function afterCommitOf(job: LoadedJob, open: RunningCopy, artifact: Artifact, run: { logger: Logger; now: Date; signal: AbortSignal }): Promise<void> {
  const { sink } = open;
  const { logger, signal } = run;
  // Read before this backup replaces it: the anomaly guard compares with it.
  const previous = await readJobRecord(sink, job.name, signal).catch((error: unknown) => {
    logger.warn(`${job.title}: the job's record could not be read (${(error as Error).message}): this backup is not compared with the previous one`);
    return undefined;
  });
  await callStage(open.copy.sink, 'sink', 'recordBackup', () => recordBackup(sink, artifact, logger, signal), job.name);
  const anomaly = await callStage(open.copy.sink, 'sink', 'anomalyGuard', () =>
    guardBackup({ store: sink, artifact, previous, settings: job.anomaly ?? DEFAULT_ANOMALY, job, logger, now: run.now, signal }), job.name);
  if (anomaly) artifact.anomaly = anomaly;
  for (const { step, instance } of open.hooks) {
    await callStage(step, 'hook', 'afterCommit', () => instance.afterCommit?.({ ...open.hookRun, artifact }), job.name);
  }
}

/**
 * The source's manifest of the backup just committed. The backup stands
 * without one, so a source failing to give it is a warning: verify then
 * compares with the live database.
 */
async function readSourceManifest(opened: SourceStream, run: StreamJob): Promise<SourceManifest | undefined> {
  if (!opened.manifest) return undefined;
  try {
    return await callStage(run.job.source, 'source', 'manifest', () => opened.manifest!(), run.job.name);
  } catch (error) {
    run.logger.warn(`${run.job.title}: no manifest for this backup (${(error as Error).message}); verify will compare it with the live database`);
    return undefined;
  }
}

/** Calls a stage's or hook's member through callPlugin, stamping its failure with the kind's code, the plugin and the member. */
function callStage<T>(step: LoadedStep | undefined, kind: PluginKind, hook: string, call: () => T | Promise<T>, job: string): Promise<Awaited<T>> {
  return callPlugin({ code: FAILURE_CODE[kind], job, plugin: step?.use, hook }, call);
}

async function runOnError(job: LoadedJob, open: RunningCopy, error: BackupctlError, logger: Logger, now: Date): Promise<void> {
  for (const { step, instance } of open.hooks) {
    if (!instance.onError) continue;
    try {
      // onError hooks report failures (webhooks, alerts); they must not turn into one.
      await instance.onError({ ...open.hookRun, logger, signal: AbortSignal.timeout(30_000), now, error });
    } catch (hookError) {
      logger.warn(`${step.use} onError failed: ${(hookError as Error).message}`);
    }
  }
}

/**
 * What to do about a failure, on a line of its own after the failure line,
 * which keeps the reference service's format (`<title> backup failed: ...`)
 * for whoever greps for it.
 */
function logHint(logger: Logger, job: LoadedJob, failure: BackupctlError): void {
  if (failure.hint) logger.info(`Hint for ${job.title}: ${failure.hint}`, { event: 'hint', code: failure.code });
}
