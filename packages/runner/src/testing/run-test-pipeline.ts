import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { BackupctlError, ErrorCodes } from '../api/errors.js';
import { Type } from '@sinclair/typebox';
import { API_VERSION, type PluginDefinition, type PluginInstances, type PluginKind, type SinkInstance, type TransformInstance } from '../api/plugin.js';
import type { StoredObject } from '../api/store.js';
import type { LoadedJob, LoadedStep } from '../config/load-pipeline.js';
import { createLogger } from '../engine/logger.js';
import { Secrets } from '../engine/redact.js';
import { runJob, type JobResult } from '../engine/run-job.js';
import { checkedOptions } from './create-test-instance.js';
import { createMemoryStore } from './memory-store.js';

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

export interface TestPipelineRun {
  /** What the engine reports: `status`, the committed `artifact` (key, size, sha256), or the `error` (code, plugin, hook, hint). */
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
 * Runs one job in-process through the real engine (commit gate, hooks'
 * order, error wrapping, secret redaction): the way to test a plugin in a
 * whole pipeline without the CLI. Never throws for a failed job; look at
 * `result.status` and `result.error`.
 *
 *   const run = await runTestPipeline({ source: sourceFrom([dump]), transforms: [{ plugin: gzip, options: { level: 1 } }] });
 *   expect(run.result.status).toBe('succeeded');
 *   expect(await run.restore()).toEqual(dump);
 */
export async function runTestPipeline(spec: TestPipeline): Promise<TestPipelineRun> {
  const jobName = spec.job ?? 'test';
  const sinkStage = spec.sink ?? createMemoryStore();
  const created: { sink?: SinkInstance; transforms: TransformInstance[] } = {
    sink: isPluginStep(sinkStage) ? undefined : sinkStage,
    transforms: [],
  };
  const transforms = (spec.transforms ?? []).map((stage, index) =>
    toStep(stage, 'transform', `${jobName}.transforms.${index}`, (instance) => {
      created.transforms[index] = instance;
    }),
  );
  const job: LoadedJob = {
    name: jobName,
    title: spec.title ?? jobName,
    nameTemplate: spec.name ?? '{job}_{timestamp}{ext}',
    source: toStep(spec.source, 'source', `${jobName}.source`),
    transforms,
    sink: toStep(sinkStage, 'sink', `${jobName}.sink`, (instance) => {
      created.sink = instance;
    }),
    hooks: (spec.hooks ?? []).map((stage, index) => toStep(stage, 'hook', `${jobName}.sink.hooks.${index}`)),
  };

  const logs: string[] = [];
  const secrets = new Secrets();
  const now = spec.now;
  const logger = createLogger({ secrets, debug: spec.debug, write: (line) => logs.push(line), now: now && (() => now) });
  const result = await runJob(job, { logger, secrets, signal: spec.signal, now: now && (() => now) });

  const sink = created.sink;
  const objects: StoredObject[] = [];
  if (sink) for await (const object of sink.list(sink.prefix)) objects.push(object);
  const opened = (): SinkInstance => {
    if (sink) return sink;
    throw new BackupctlError(ErrorCodes.USAGE, `runTestPipeline: job ${jobName} failed before its sink was created`, { cause: result.error });
  };

  const keyOf = (key: string | undefined): string => {
    const chosen = key ?? result.artifact?.key;
    if (chosen === undefined) {
      throw new BackupctlError(ErrorCodes.USAGE, `runTestPipeline: job ${jobName} committed nothing (${result.status}); name a key`, {
        cause: result.error,
      });
    }
    return chosen;
  };
  const read = async (key?: string) => collect(await opened().get(keyOf(key)));
  const restore = async (key?: string) => {
    const stored = await opened().get(keyOf(key));
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

function isPluginStep<K extends PluginKind>(stage: TestStage<K>): stage is PluginStep<K> {
  const plugin = (stage as Partial<PluginStep<K>>).plugin;
  return typeof plugin === 'object' && plugin !== null && typeof plugin.create === 'function';
}

/** A LoadedStep as loadPipeline would build it; `onCreate` sees the instance the engine creates. */
function toStep<K extends PluginKind>(
  stage: TestStage<K>,
  kind: K,
  path: string,
  onCreate?: (instance: PluginInstances[K]) => void,
): LoadedStep {
  const definition: PluginDefinition<K, unknown> = isPluginStep(stage)
    ? stage.plugin
    : { apiVersion: API_VERSION, name: `test-${kind}`, kind, schema: Type.Object({}), create: () => stage };
  if (definition.kind !== kind) {
    throw new BackupctlError(ErrorCodes.PLUGIN_INVALID, `runTestPipeline: plugin "${definition.name}" is a ${definition.kind}, not a ${kind}`);
  }
  const use = (isPluginStep(stage) ? stage.use : undefined) ?? definition.name;
  const options = isPluginStep(stage) ? checkedOptions(definition, stage.options ?? {}, use) : {};
  const plugin: PluginDefinition<K, unknown> = {
    ...definition,
    async create(created, context) {
      const instance = await definition.create(created, context);
      onCreate?.(instance);
      return instance;
    },
  };
  return { use, kind, plugin: plugin as PluginDefinition<PluginKind, never>, from: isPluginStep(stage) ? 'test' : 'instance', options, path };
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
