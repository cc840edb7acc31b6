import { createHash } from 'node:crypto';
import { createGunzip, createGzip } from 'node:zlib';
import { definePlugin, Secrets, Type, type PluginContext, type PluginKind, type SinkInstance, type SourceInstance } from '@backupctl/plugin-api';
import type { LoadedJob, LoadedStep } from '../src/config/load-pipeline.js';
import { createLogger } from '../src/log/logger.js';

// What the engine's tests build jobs from: a loaded step around a plugin
// made in place, the usual gzip job over memory stores, a collecting logger.

/** A step as loadPipeline gives it, its plugin defined here around `create`. */
export function loadedStep(kind: PluginKind, use: string, create: (...args: never[]) => unknown, job = 'clara'): LoadedStep {
  return { use, kind, from: 'test', options: {}, path: `jobs.${job}.${use}`, plugin: definePlugin({ name: use, kind, schema: Type.Object({}), create: create as never }) as never };
}

/**
 * The job `clara` as the real plugins name its objects (`.sql` from the
 * source, `.gz` from gzip), writing to each of `stores` as a copy named by
 * its key, the first being the primary.
 */
export function gzipJob(source: SourceInstance, stores: Record<string, SinkInstance>): LoadedJob {
  const copies = Object.entries(stores).map(([name, store]) => ({ name, sink: loadedStep('sink', name, () => store), hooks: [], required: true }));
  return {
    name: 'clara',
    title: 'Clara DB',
    nameTemplate: '{job}_{timestamp}{ext}',
    source: loadedStep('source', 'fake', (_options: unknown, context: PluginContext) => ((context.artifact.extension += '.sql'), source)),
    transforms: [
      loadedStep('transform', 'gzip', (_options: unknown, context: PluginContext) => ((context.artifact.extension += '.gz'), { encode: () => createGzip(), decode: () => createGunzip() })),
    ],
    sink: copies[0]!.sink,
    hooks: [],
    copies,
  };
}

/** The checksum record's facts of a body. */
export function checksumOf(body: Buffer): { sha256: string; size: number } {
  return { sha256: createHash('sha256').update(body).digest('hex'), size: body.length };
}

/** A logger writing into `lines` at a fixed time, with the secrets it masks and the clock. */
export function collectingLogger(at = new Date('2026-02-01T03:00:00Z')) {
  const lines: string[] = [];
  const secrets = new Secrets();
  return { lines, secrets, logger: createLogger({ secrets, write: (line) => lines.push(line), now: () => at }), now: () => at };
}
