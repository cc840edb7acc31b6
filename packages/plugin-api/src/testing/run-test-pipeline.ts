import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { BackupctlError, ErrorCodes } from '../errors.js';
import { formatSize } from '../format-size.js';
import { formatTimestamp } from '../format-timestamp.js';
import {
  API_VERSION,
  type Artifact,
  type HookInstance,
  type HookRun,
  type Lifecycle,
  type PluginDefinition,
  type PluginInstances,
  type PluginKind,
  type SinkInstance,
  type SourceInstance,
  type TransformInstance,
} from '../plugin.js';
import type { StoredObject } from '../store.js';
import { Secrets } from '../secrets.js';
import { abortedError, callPlugin, FAILURE_CODE, wrapError } from '../wrap-error.js';
import { checkedOptions } from './create-test-instance.js';
import { createMemoryStore } from './memory-store.js';
import { testContext } from './test-context.js';

/**
 * A plugin and the options a pipeline file would give it under `with:`.
 * The options are validated against the plugin's schema and its defaults
 * filled in, exactly as in a real run.
 */
export interface PluginStep<K extends PluginKind> {
  // `any`: a plugin's create takes its own option type; the step does not care which.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  plugin: PluginDefinition<K, any>;
  options?: Record<string, unknown>;
  /** The name in `use:` (default: the plugin's name); prefixes its errors. */
  use?: string;
}

/** A stage given either as a ready instance (e.g. `sourceFrom(...)`) or as a plugin with options. */
export type TestStage<K extends PluginKind> = PluginInstances[K] | PluginStep<K>;

export interface TestPipeline {
  /** The job's name (default `test`): fills `{job}` in the object name and prefixes logs. */
  job?: string;
  /** Label in log lines (default: the job name). */
  title?: string;
  /** Object name template (default `{job}_{timestamp}{ext}`). */
  name?: string;
  source: TestStage<'source'>;
  transforms?: readonly TestStage<'transform'>[];
  /** Default: a fresh in-memory store. */
  sink?: TestStage<'sink'>;
  hooks?: readonly TestStage<'hook'>[];
  /** The run's clock (default: the real one). A fixed date gives predictable object names. */
  now?: Date;
  /** Cancels the run, as SIGINT does. */
  signal?: AbortSignal;
  /** Keep debug lines in `logs`. */
  debug?: boolean;
}

/** How a test job ended, with the fields backupctl's own job results carry. */
export interface JobResult {
  job: string;
  title: string;
  status: 'succeeded' | 'skipped' | 'failed';
  /** The committed backup (also set when a hook failed after the commit). */
  artifact?: Artifact;
  /** Why the job was skipped. */
  reason?: string;
  error?: BackupctlError;
  durationMs: number;
}

export interface TestPipelineRun {
  /** How the job ended: `status`, the committed `artifact` (key, size, sha256), or the `error` (code, plugin, hook, hint). */
  result: JobResult;
  /** Every log line of the run, as the CLI would print it (timestamped, secrets masked). */
  logs: string[];
  /** The objects in the sink under its prefix after the run (a failed run must leave none). */
  objects: StoredObject[];
  /**
   * The sink the run wrote to (when given as a plugin: the instance it
   * created, already closed). Undefined only when the run failed before
   * the sink was created.
   */
  sink?: SinkInstance;
  /** The stored bytes of `key` (default: the committed artifact). */
  read(key?: string): Promise<Buffer>;
  /** The stored bytes of `key` decoded through every transform's inverse, last first: what a restore reads. */
  restore(key?: string): Promise<Buffer>;
  /** Masks registered secrets in `text`, as the CLI does: check that a plugin registered its secrets. */
  redact(text: string): string;
}

/**
 * Runs one job in-process under backupctl's rules, without the CLI: stages
 * created in pipeline order with their options checked as backupctl checks
 * them; the source's and hooks' `beforeRun` (a skip wins); source ->
 * transforms -> sink as one stream whose end reaches the sink only after
 * the source's `done` resolved (nothing is committed before); `afterCommit`
 * or `onError`; every `close` in reverse order; errors stamped with job,
 * plugin and hook as backupctl stamps them; secrets masked in the logs.
 * The way to test a plugin in a whole pipeline. Never throws for a failed
 * job; look at `result.status` and `result.error`.
 *
 *   const run = await runTestPipeline({ source: sourceFrom([dump]), transforms: [{ plugin: gzip, options: { level: 1 } }] });
 *   expect(run.result.status).toBe('succeeded');
 *   expect(await run.restore()).toEqual(dump);
 */
export async function runTestPipeline(spec: TestPipeline): Promise<TestPipelineRun> {
  const job = spec.job ?? 'test';
  const title = spec.title ?? job;
  // Options are checked before anything runs, as backupctl checks the whole file first.
  const steps = {
    source: toStep(spec.source, 'source'),
    transforms: (spec.transforms ?? []).map((stage) => toStep(stage, 'transform')),
    sink: toStep(spec.sink ?? createMemoryStore(), 'sink'),
    hooks: (spec.hooks ?? []).map((stage) => toStep(stage, 'hook')),
  };
  const secrets = new Secrets();
  const logs: string[] = [];
  const clock = spec.now && (() => spec.now!);
  const { context, artifact } = testContext({ job, secrets, logs, now: clock, debug: spec.debug ?? false, signal: spec.signal });
  const now = clock ?? (() => new Date());
  const startedAt = now();
  const controller = new AbortController();
  const onAbort = () => controller.abort(spec.signal?.reason);
  spec.signal?.addEventListener('abort', onAbort, { once: true });

  const instances: { use: string; instance: Lifecycle }[] = [];
  const created: { sink?: SinkInstance; transforms: TransformInstance[] } = { transforms: [] };
  const create = async <K extends PluginKind>(step: TestStep<K>): Promise<PluginInstances[K]> => {
    const instance = await call(step, 'create', () => step.plugin.create(step.options, { ...context, use: step.use, signal: controller.signal }));
    instances.push({ use: step.use, instance: instance as Lifecycle });
    return instance as PluginInstances[K];
  };
  const call = <T>(step: TestStep<PluginKind>, hook: string, run: () => T | Promise<T>): Promise<Awaited<T>> =>
    callPlugin({ code: FAILURE_CODE[step.kind], job, plugin: step.use, hook }, run);
  const finish = (status: JobResult['status'], extra: Partial<JobResult> = {}): JobResult => ({
    job,
    title,
    status,
    durationMs: now().getTime() - startedAt.getTime(),
    ...extra,
  });

  let result: JobResult;
  let committed: Artifact | undefined;
  const hooks: { step: TestStep<'hook'>; instance: HookInstance }[] = [];
  const hookRun = (): HookRun => ({ job, title, nameTemplate: spec.name ?? DEFAULT_TEMPLATE, extension: artifact.extension, store: created.sink!, logger: context.logger, signal: controller.signal, now: startedAt });
  try {
    const source: SourceInstance = await create(steps.source);
    for (const step of steps.transforms) created.transforms.push(await create(step));
    created.sink = await create(steps.sink);
    for (const step of steps.hooks) hooks.push({ step, instance: await create(step) });

    const skip = (await call(steps.source, 'beforeRun', () => source.beforeRun?.(controller.signal))) ??
      (await firstSkip(hooks, (hook) => call(hook.step, 'beforeRun', () => hook.instance.beforeRun?.(hookRun()))));
    if (skip?.skip) {
      context.logger.info(`${title} backup skipped: ${skip.reason}`);
      result = finish('skipped', { reason: skip.reason });
    } else {
      const name = (spec.name ?? DEFAULT_TEMPLATE).replace('{job}', job).replace('{timestamp}', formatTimestamp(startedAt)).replace('{ext}', artifact.extension);
      const stored = await streamToSink(source, created.transforms, created.sink, name, { job, steps, signal: controller.signal, onFailure: () => controller.abort() });
      const artifactOfRun: Artifact = { ...stored, startedAt, finishedAt: now() };
      committed = artifactOfRun;
      context.logger.info(`${title} backup complete: ${artifactOfRun.key.slice(artifactOfRun.key.lastIndexOf('/') + 1)} (${formatSize(artifactOfRun.size)})`);
      for (const hook of hooks) await call(hook.step, 'afterCommit', () => hook.instance.afterCommit?.({ ...hookRun(), artifact: artifactOfRun }));
      result = finish('succeeded', { artifact: artifactOfRun });
    }
  } catch (caught) {
    const error = spec.signal?.aborted ? abortedError(job, spec.signal.reason) : wrapError(caught, { code: ErrorCodes.INTERNAL, job });
    controller.abort(error);
    context.logger.error(`${title} backup failed: ${error.message}`);
    if (created.sink) {
      for (const hook of hooks) {
        // onError hooks report failures; they must not turn into one.
        await Promise.resolve(hook.instance.onError?.({ ...hookRun(), signal: AbortSignal.timeout(30_000), error })).catch((hookError: unknown) =>
          context.logger.warn(`${hook.step.use} onError failed: ${(hookError as Error).message}`),
        );
      }
    }
    result = finish('failed', { error, artifact: committed });
  } finally {
    spec.signal?.removeEventListener('abort', onAbort);
  }
  for (const { use, instance } of instances.reverse()) {
    await Promise.resolve(instance.close?.(result.error)).catch((error: unknown) => context.logger.warn(`${use} close failed: ${(error as Error).message}`));
  }

  const sink = created.sink;
  const objects: StoredObject[] = [];
  if (sink) for await (const object of sink.list(sink.prefix)) objects.push(object);
  const writtenSink = (): SinkInstance => {
    if (sink) return sink;
    throw new BackupctlError(ErrorCodes.USAGE, `runTestPipeline: job ${job} failed before its sink was created`, { cause: result.error });
  };
  const keyOf = (key: string | undefined): string => {
    const chosen = key ?? result.artifact?.key;
    if (chosen === undefined) {
      throw new BackupctlError(ErrorCodes.USAGE, `runTestPipeline: job ${job} committed nothing (${result.status}); name a key`, { cause: result.error });
    }
    return chosen;
  };
  const read = async (key?: string) => collect(await writtenSink().get(keyOf(key)));
  const restore = async (key?: string) => {
    const stored = await writtenSink().get(keyOf(key));
    // Created only once the object is open: a decoder may spawn a program that waits for input.
    const decoders = [...created.transforms].reverse().map((transform) => transform.decode());
    const chunks: Buffer[] = [];
    const into = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    await pipeline([stored, ...decoders, into]);
    return Buffer.concat(chunks);
  };
  return { result, logs, objects, sink, read, restore, redact: (text) => secrets.redact(text) };
}

const DEFAULT_TEMPLATE = '{job}_{timestamp}{ext}';

/** A stage ready to create: its plugin, checked options and `use:` name. */
interface TestStep<K extends PluginKind> {
  kind: K;
  use: string;
  plugin: PluginDefinition<K, unknown>;
  options: Record<string, unknown>;
}

async function firstSkip<T>(items: readonly T[], ask: (item: T) => Promise<{ skip: true; reason: string } | void | undefined>) {
  for (const item of items) {
    const decision = await ask(item);
    if (decision?.skip) return decision;
  }
  return undefined;
}

/**
 * source -> transforms -> gate -> sink. The gate counts and hashes the
 * bytes, and ends the sink's stream only once the source's `done`
 * resolved: a stream that merely ended is never committed.
 */
async function streamToSink(
  source: SourceInstance,
  transforms: readonly TransformInstance[],
  sink: SinkInstance,
  name: string,
  run: { job: string; steps: { source: TestStep<'source'>; transforms: TestStep<'transform'>[]; sink: TestStep<'sink'> }; signal: AbortSignal; onFailure: () => void },
): Promise<Omit<Artifact, 'startedAt' | 'finishedAt'>> {
  let first: BackupctlError | undefined;
  const fail = (error: unknown, step: TestStep<PluginKind>, hook: string) => {
    first ??= wrapError(error, { code: FAILURE_CODE[step.kind], job: run.job, plugin: step.use, hook });
    run.onFailure();
  };
  let opened;
  try {
    opened = await source.open(run.signal);
  } catch (error) {
    throw wrapError(error, { code: ErrorCodes.SOURCE_FAILED, job: run.job, plugin: run.steps.source.use, hook: 'open' });
  }
  const done = opened.done.catch((error: unknown) => {
    fail(error, run.steps.source, 'done');
    throw error;
  });
  done.catch(() => undefined);
  let bytes = 0;
  let sourceBytes = 0;
  const hash = createHash('sha256');
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      done.then(() => callback(), (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
  const encoders = transforms.map((transform, index) => {
    const encoder = transform.encode();
    encoder.once('error', (error) => fail(error, run.steps.transforms[index]!, 'encode'));
    return encoder;
  });
  opened.stream.once('error', (error) => fail(error, run.steps.source, 'stream'));
  opened.stream.on('data', (chunk: Buffer) => (sourceBytes += chunk.length));
  const flowed = pipeline([opened.stream, ...encoders, gate]);
  const written = sink.write(gate, name, run.signal).catch((error: unknown) => {
    fail(error, run.steps.sink, 'write');
    throw error;
  });
  const settled = await Promise.allSettled([done, flowed, written]);
  if (first) throw first;
  const rejected = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (rejected) throw wrapError(rejected.reason, { code: ErrorCodes.INTERNAL, job: run.job });
  const object = (settled[2] as PromiseFulfilledResult<Awaited<typeof written>>).value;
  if (object.size !== bytes) {
    throw new BackupctlError(ErrorCodes.SINK_FAILED, `${run.steps.sink.use} reports ${object.size} bytes stored for ${object.key}, but ${bytes} bytes were sent`, {
      job: run.job,
      plugin: run.steps.sink.use,
      hook: 'write',
    });
  }
  return { job: run.job, key: object.key, size: object.size, sourceSize: sourceBytes, sha256: hash.digest('hex') };
}

function isPluginStep<K extends PluginKind>(stage: TestStage<K>): stage is PluginStep<K> {
  const plugin = (stage as Partial<PluginStep<K>>).plugin;
  return typeof plugin === 'object' && plugin !== null && typeof plugin.create === 'function';
}

/** A stage with its options checked (a ready instance becomes a plugin whose `create` returns it). */
function toStep<K extends PluginKind>(stage: TestStage<K>, kind: K): TestStep<K> {
  const plugin: PluginDefinition<K, unknown> = isPluginStep(stage)
    ? stage.plugin
    : { apiVersion: API_VERSION, name: `test-${kind}`, kind, schema: Type.Object({}), create: () => stage };
  if (plugin.kind !== kind) {
    throw new BackupctlError(ErrorCodes.PLUGIN_INVALID, `runTestPipeline: plugin "${plugin.name}" is a ${plugin.kind}, not a ${kind}`);
  }
  const use = (isPluginStep(stage) ? stage.use : undefined) ?? plugin.name;
  const options = isPluginStep(stage) ? checkedOptions(plugin, stage.options ?? {}, use) : {};
  return { kind, use, plugin, options };
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
