import path from 'node:path';
import { pipeline } from 'node:stream';
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
  type Logger,
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
import type { LoadedJob, LoadedStep } from '../plugins/loaded-job.js';
import { readJobRecord, recordBackup } from '../catalog/backup-records.js';
import { DEFAULT_ANOMALY, guardBackup } from './anomaly-guard.js';
import { verifyBackupInRun } from '../restore/verify-job.js';
import { createInstance, emptyArtifactInfo } from '../plugins/create-instance.js';
import { closeInReverse } from '../plugins/lifecycle.js';
import { CommitGate } from './commit-gate.js';
import { withLogFields } from '../log/logger.js';
import { renderObjectName } from '../naming/object-name.js';
import { bufferReclaimer } from '../streams/buffer-reclaimer.js';

export type JobStatus = 'succeeded' | 'skipped' | 'failed';

export interface JobResult {
  job: string;
  title: string;
  status: JobStatus;
  /** The committed backup (also set when a hook failed after the commit). */
  artifact?: Artifact;
  /** Why the job was skipped. */
  reason?: string;
  error?: BackupctlError;
  durationMs: number;
  /** Verifications hooks ran in this run (the verify hook), passed or failed. */
  verifications?: Verification[];
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
  // Every line of the job, plugins' included, carries the job's name (a field in JSON logs).
  const logger = withLogFields(options.logger, { job: job.name });
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
  let failure: BackupctlError | undefined;

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
    const sink: SinkInstance = await create(job.sink, 'sink');
    const hooks: { step: LoadedStep; instance: HookInstance }[] = [];
    for (const step of job.hooks) hooks.push({ step, instance: await create(step, 'hook') });
    const verifications: Verification[] = [];
    const hookRun: HookRun = {
      job: job.name,
      title: job.title,
      nameTemplate: job.nameTemplate,
      extension: artifactInfo.extension,
      store: sink,
      logger,
      signal: controller.signal,
      now: startedAt,
      // The verify hook: restores with fresh instances of the job's stages, as `backupctl verify --key` does.
      ...(canVerify(source)
        ? {
            verify: async (key: string, verifyOptions: { scratchUrl?: string; againstSource?: boolean } = {}) => {
              const verification = await verifyBackupInRun(job, key, { ...verifyOptions, logger, secrets: options.secrets, signal: controller.signal, now });
              verifications.push(verification);
              return verification;
            },
          }
        : {}),
    };

    // A job that cannot run (failWith) does not ask its source for anything, but its hooks still decide first.
    const exclusive = options.failWith ? undefined : await callStage(job.source, 'source', 'beforeRun', () => source.beforeRun?.(controller.signal), job.name);
    if (exclusive?.skip) {
      logger.info(`${job.title} backup skipped: ${exclusive.reason}`, { event: 'skipped' });
      return result('skipped', { reason: exclusive.reason });
    }
    for (const { step, instance } of hooks) {
      const decision = await callStage(step, 'hook', 'beforeRun', () => instance.beforeRun?.(hookRun), job.name);
      if (decision?.skip) {
        logger.info(`${job.title} backup skipped: ${decision.reason}`, { event: 'skipped' });
        return result('skipped', { reason: decision.reason });
      }
    }
    if (options.failWith) throw options.failWith;

    const name = renderObjectName(job.nameTemplate, { job: job.name, startedAt: options.nameTime ?? startedAt, ext: artifactInfo.extension });
    logger.debug(`${job.title} backup started: ${name}`, { event: 'started' });
    const onProgress = options.onProgress;
    const progress = onProgress && ((sourceBytes: number, storedBytes: number, done: boolean) =>
      onProgress({ job: job.name, title: job.title, sourceBytes, storedBytes, elapsedMs: elapsed(), done }));
    const artifact = await streamToSink({ job, logger, source, transforms, sink, name, signal: controller.signal, startedAt, now, onFailure: () => controller.abort(), progress });
    logger.info(`${job.title} backup complete: ${path.posix.basename(artifact.key)} (${formatSize(artifact.size)})`, {
      event: 'complete',
      key: artifact.key,
      bytes: artifact.size,
      sourceBytes: artifact.sourceSize,
      sha256: artifact.sha256,
      durationMs: artifact.finishedAt.getTime() - artifact.startedAt.getTime(),
    });

    try {
      // Read before this backup replaces it: the anomaly guard compares with it.
      const previous = await readJobRecord(sink, job.name, controller.signal).catch((error: unknown) => {
        logger.warn(`${job.title}: the job's record could not be read (${(error as Error).message}): this backup is not compared with the previous one`);
        return undefined;
      });
      await callStage(job.sink, 'sink', 'recordBackup', () => recordBackup(sink, artifact, logger, controller.signal), job.name);
      const anomaly = await callStage(job.sink, 'sink', 'anomalyGuard', () =>
        guardBackup({ store: sink, artifact, previous, settings: job.anomaly ?? DEFAULT_ANOMALY, job, logger, now: startedAt, signal: controller.signal }), job.name);
      if (anomaly) artifact.anomaly = anomaly;
      for (const { step, instance } of hooks) {
        await callStage(step, 'hook', 'afterCommit', () => instance.afterCommit?.({ ...hookRun, artifact }), job.name);
      }
    } catch (error) {
      // The backup is committed and stays; the job still fails so the problem is seen.
      failure = error as BackupctlError;
      logger.error(`${job.title} backup committed, but what follows it failed: ${failure.message}`, {
        event: 'failed',
        code: failure.code,
        key: artifact.key,
        durationMs: elapsed(),
      });
      logHint(logger, job, failure);
      // Alerts still fire: a retention or metadata failure needs a human as much as a failed dump.
      await runOnError(job, opened, failure, logger, startedAt, artifactInfo.extension);
      return result('failed', { artifact, error: failure, ...(verifications.length ? { verifications } : {}) });
    }
    return result('succeeded', { artifact, ...(verifications.length ? { verifications } : {}) });
  } catch (error) {
    failure = controller.signal.aborted && options.signal?.aborted
      ? abortedError(job.name, options.signal.reason)
      : wrapError(error, { code: ErrorCodes.INTERNAL, job: job.name });
    controller.abort(failure);
    logger.error(`${job.title} backup failed: ${failure.message}`, { event: 'failed', code: failure.code, durationMs: elapsed() });
    logHint(logger, job, failure);
    await runOnError(job, opened, failure, logger, startedAt, artifactInfo.extension);
    return result('failed', { error: failure });
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await closeInReverse(opened, failure, logger);
  }
}

interface StreamJob {
  job: LoadedJob;
  source: SourceInstance;
  transforms: TransformInstance[];
  sink: SinkInstance;
  name: string;
  signal: AbortSignal;
  startedAt: Date;
  now: () => Date;
  /** Called on the first failure, so every other stage stops at once. */
  onFailure: () => void;
  progress?: (sourceBytes: number, storedBytes: number, done: boolean) => void;
  logger: Logger;
}

/** Streams source -> transforms -> gate -> sink; resolves with the committed artifact or rejects with the first failure. */
async function streamToSink(run: StreamJob): Promise<Artifact> {
  const { job } = run;
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
  const written = run.sink.write(gate, run.name, run.signal).catch((error: unknown) => {
    fail(error, 'sink', job.sink, 'write');
    throw error;
  });

  const settled = await Promise.allSettled([sourceDone, flowed, written]);
  run.progress?.(sourceBytes, gate.bytes, true);
  if (first) throw first;
  const rejected = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (rejected) throw wrapError(rejected.reason, { code: ErrorCodes.INTERNAL, job: job.name });
  const object = (settled[2] as PromiseFulfilledResult<Awaited<typeof written>>).value;
  const manifest = await readSourceManifest(opened, run);
  if (object.size !== gate.bytes) {
    throw new BackupctlError(
      ErrorCodes.SINK_FAILED,
      `${job.sink?.use ?? 'sink'} reports ${object.size} bytes stored for ${object.key}, but ${gate.bytes} bytes were sent`,
      { job: job.name, plugin: job.sink?.use, hook: 'write' },
    );
  }
  return {
    job: job.name,
    key: object.key,
    size: object.size,
    sourceSize: sourceBytes,
    sha256: gate.sha256(),
    startedAt: run.startedAt,
    finishedAt: run.now(),
    ...(manifest ? { manifest } : {}),
  };
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

async function runOnError(
  job: LoadedJob,
  opened: { step: LoadedStep; instance: Lifecycle }[],
  error: BackupctlError,
  logger: Logger,
  now: Date,
  extension: string,
): Promise<void> {
  const sink = opened.find(({ step }) => step.kind === 'sink')?.instance as SinkInstance | undefined;
  if (!sink) return;
  for (const { step, instance } of opened) {
    const hook = instance as HookInstance;
    if (step.kind !== 'hook' || !hook.onError) continue;
    try {
      // onError hooks report failures (webhooks, alerts); they must not turn into one.
      await hook.onError({
        job: job.name,
        title: job.title,
        nameTemplate: job.nameTemplate,
        extension,
        store: sink,
        logger,
        signal: AbortSignal.timeout(30_000),
        now,
        error,
      });
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
