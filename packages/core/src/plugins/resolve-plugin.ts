import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  API_VERSION,
  BackupctlError,
  ErrorCodes,
  refuseInvalidSchema,
  type PluginDefinition,
  type PluginKind,
} from '@backupctl/plugin-api';
import type { PipelineHost } from './pipeline-host.js';

/** A plugin definition and where it came from (for `backupctl plugins` and errors). */
export interface ResolvedPlugin {
  definition: PluginDefinition<PluginKind, never>;
  /** `builtin`, a package name, or a file path. */
  from: string;
  /** The file the definition was imported from, for a plugin found on disk (a built-in's: `builtinEntry`). */
  entry?: string;
}

/**
 * Loads the plugin `use` names. Tried in order: a built-in name,
 * `@backupctl/plugin-<use>`, `backupctl-plugin-<use>`, `use` as a package
 * name, and — when it starts with `.` or `/` — a path relative to baseDir
 * (the pipeline file's directory). Packages are looked up from baseDir and
 * then beside the host (the CLI), so plugins installed next to a global backupctl work.
 */
export async function resolvePlugin(use: string, baseDir: string, host: PipelineHost): Promise<ResolvedPlugin> {
  if (use.startsWith('.') || path.isAbsolute(use)) {
    const target = path.resolve(baseDir, use);
    if (!existsSync(target)) {
      throw new BackupctlError(ErrorCodes.PLUGIN_NOT_FOUND, `plugin "${use}": no file or directory at ${target}`, {
        hint: 'paths in `use:` are relative to the pipeline file',
      });
    }
    const entry = statSync(target).isDirectory() ? packageEntry(target) : target;
    return { definition: await importDefinition(use, entry), from: target, entry };
  }

  const builtin = host.builtins[use];
  // No entry looked up here: only `backupctl plugins` shows it, and finding it walks the disk (builtinEntry).
  if (builtin) return { definition: checkDefinition(use, await builtin()), from: 'builtin' };

  const candidates = use.includes('/') || use.startsWith('backupctl-plugin-')
    ? [use]
    : [`@backupctl/plugin-${use}`, `backupctl-plugin-${use}`, use];
  for (const name of candidates) {
    const dir = findPackageDir(name, [baseDir, ...(host.packageDir ? [host.packageDir] : [])]);
    if (dir) {
      const entry = packageEntry(dir);
      return { definition: await importDefinition(use, entry), from: name, entry };
    }
  }
  throw new BackupctlError(ErrorCodes.PLUGIN_NOT_FOUND, `unknown plugin "${use}" (looked for ${candidates.join(', ')})`, {
    hint: `install it (npm install ${candidates[0]}) or check the spelling; built-ins: ${Object.keys(host.builtins).join(', ') || 'none'}`,
  });
}

async function importDefinition(use: string, entry: string): Promise<PluginDefinition<PluginKind, never>> {
  let module: { default?: unknown; plugin?: unknown };
  try {
    module = (await import(pathToFileURL(entry).href)) as typeof module;
  } catch (cause) {
    throw new BackupctlError(ErrorCodes.PLUGIN_INVALID, `plugin "${use}" failed to load: ${(cause as Error).message}`, {
      plugin: use,
      cause,
    });
  }
  const definition = checkDefinition(use, module.default ?? module.plugin);
  refuseInvalidSchema(definition.schema, use, `plugin "${use}"`);
  return definition;
}

function checkDefinition(use: string, value: unknown): PluginDefinition<PluginKind, never> {
  const candidate = value as Partial<PluginDefinition> | undefined;
  if (
    !candidate ||
    typeof candidate.create !== 'function' ||
    typeof candidate.name !== 'string' ||
    !['source', 'transform', 'sink', 'hook'].includes(candidate.kind as string) ||
    typeof candidate.schema !== 'object'
  ) {
    throw new BackupctlError(ErrorCodes.PLUGIN_INVALID, `plugin "${use}" does not default-export a plugin definition`, {
      plugin: use,
      hint: 'export default definePlugin({ name, kind, schema, create }) from @backupctl/plugin-api',
    });
  }
  if (candidate.apiVersion !== API_VERSION) {
    throw new BackupctlError(
      ErrorCodes.PLUGIN_INVALID,
      `plugin "${use}" was written for plugin API version ${String(candidate.apiVersion)}; this backupctl serves version ${API_VERSION}`,
      { plugin: use, hint: 'install a version of the plugin made for this backupctl, or upgrade backupctl' },
    );
  }
  return candidate as PluginDefinition<PluginKind, never>;
}

/** Where a built-in was loaded from: the official plugins are the host's dependencies; the core's hooks live in its bundle (undefined). */
export function builtinEntry(use: string, host: PipelineHost): string | undefined {
  const dir = host.packageDir && findPackageDir(`@backupctl/plugin-${use}`, [host.packageDir]);
  return dir ? packageEntry(dir) : undefined;
}

/** node_modules/<name> in startDirs or any of their parents. */
function findPackageDir(name: string, startDirs: string[]): string | undefined {
  for (const start of startDirs) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
      if (path.dirname(dir) === dir) break;
    }
  }
  return undefined;
}

type Exports = string | null | { [condition: string]: Exports } | Exports[];

/** The ESM entry of a package directory: exports["."] (import/node/default), then module, then main. */
function packageEntry(dir: string): string {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    exports?: Exports;
    module?: string;
    main?: string;
  };
  const fromExports = pickExport(
    manifest.exports && typeof manifest.exports === 'object' && !Array.isArray(manifest.exports) && '.' in manifest.exports
      ? manifest.exports['.']
      : manifest.exports,
  );
  return path.join(dir, fromExports ?? manifest.module ?? manifest.main ?? 'index.js');
}

function pickExport(target: Exports | undefined): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) return target.map(pickExport).find(Boolean);
  if (target && typeof target === 'object') {
    for (const condition of ['import', 'node', 'default']) {
      const picked = pickExport(target[condition]);
      if (picked) return picked;
    }
  }
  return undefined;
}
