import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isBackupctlError, type PluginKind } from '@backupctl/plugin-api';
import { findPipeline } from './find-pipeline.js';
import { BARE_HOST, type PipelineHost } from '../plugins/pipeline-host.js';
import { builtinEntry, resolvePlugin } from '../plugins/resolve-plugin.js';

/** One plugin a pipeline names, as `backupctl plugins` shows it. */
export interface PipelinePlugin {
  /** As written in `use:`. */
  use: string;
  /** The kind of step it is used as (source, transform, sink, hook). */
  kind: PluginKind;
  /** Where in the file it is used, e.g. `jobs.clara.transforms.0`. */
  usedAt: string[];
  /** Set when the plugin loaded. */
  plugin?: {
    name: string;
    /** The kind the plugin declares; differs from `kind` when it is used in the wrong place. */
    kind: PluginKind;
    description?: string;
    apiVersion: number;
    /** How `use:` resolved: `builtin`, the package name, or the path. */
    from: string;
    /** The file it was imported from (absent for hooks built into backupctl). */
    entry?: string;
    /** The package that holds it, read from the package.json nearest to `entry`. */
    package?: { name: string; version: string };
  };
  /** Set when it did not load: the code (PLUGIN_NOT_FOUND, PLUGIN_INVALID) and the message. */
  error?: { code: string; message: string; hint?: string };
}

export interface PipelinePlugins {
  /** The pipeline file as shown to users. */
  file: string;
  plugins: PipelinePlugin[];
}

/**
 * Resolves every plugin a pipeline file names, once each, in file order,
 * and says where each came from. Only `use:` is read: options and the
 * environment are not needed, so this works before anything is configured.
 * A plugin that does not load is reported in its entry, not thrown.
 */
export async function listPipelinePlugins(options: { file?: string; cwd?: string; host?: PipelineHost } = {}): Promise<PipelinePlugins> {
  const host = options.host ?? BARE_HOST;
  const { source, dir } = await findPipeline(options.file, options.cwd ?? process.cwd(), host.defaultPipeline);
  const found = new Map<string, PipelinePlugin>();
  for (const { use, kind, at } of stepsOf(source.value)) {
    const key = `${kind}\0${use}`;
    const known = found.get(key);
    if (known) known.usedAt.push(at);
    else found.set(key, { use, kind, usedAt: [at] });
  }
  for (const entry of found.values()) {
    try {
      const resolved = await resolvePlugin(entry.use, dir, host);
      const file = resolved.entry ?? (resolved.from === 'builtin' ? builtinEntry(entry.use, host) : undefined);
      const { definition } = resolved;
      entry.plugin = {
        name: definition.name,
        kind: definition.kind,
        description: definition.description,
        apiVersion: definition.apiVersion,
        from: resolved.from,
        entry: file,
        package: file ? packageOf(file) : { name: host.name, version: host.version },
      };
    } catch (error) {
      if (!isBackupctlError(error)) throw error;
      entry.error = { code: error.code, message: error.message, hint: error.hint };
    }
  }
  return { file: source.file, plugins: [...found.values()] };
}

/** Every `use:` of a parsed pipeline file, tolerating a file of the wrong shape (validate reports that). */
function* stepsOf(file: unknown): Generator<{ use: string; kind: PluginKind; at: string }> {
  const jobs = (file as { jobs?: unknown } | null)?.jobs;
  if (!jobs || typeof jobs !== 'object') return;
  for (const [name, job] of Object.entries(jobs as Record<string, Record<string, unknown> | null>)) {
    if (!job || typeof job !== 'object') continue;
    const step = (value: unknown, kind: PluginKind, at: string) => {
      const use = (value as { use?: unknown } | null)?.use;
      return typeof use === 'string' && use ? [{ use, kind, at: `jobs.${name}.${at}` }] : [];
    };
    const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
    yield* step(job.source, 'source', 'source');
    for (const [index, transform] of list(job.transforms).entries()) yield* step(transform, 'transform', `transforms.${index}`);
    // One `sink:`, or each of several `sinks:`, with the hooks around it.
    const sinks: [unknown, string][] = job.sinks !== undefined ? list(job.sinks).map((sink, index) => [sink, `sinks.${index}`]) : [[job.sink, 'sink']];
    for (const [sink, at] of sinks) {
      yield* step(sink, 'sink', at);
      const hooks = (sink as { hooks?: unknown } | null)?.hooks;
      for (const [index, hook] of list(hooks).entries()) yield* step(hook, 'hook', `${at}.hooks.${index}`);
    }
    for (const [index, notifier] of list(job.notify).entries()) yield* step(notifier, 'hook', `notify.${index}`);
  }
}

/** The name and version in the package.json nearest above `file`. */
function packageOf(file: string): { name: string; version: string } | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      // A package.json without a name only sets "type" for a folder; keep looking.
      if (manifest.name) return { name: manifest.name, version: manifest.version ?? '0.0.0' };
    } catch {
      // none here
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}
