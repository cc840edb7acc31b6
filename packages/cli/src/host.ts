import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipelineHost } from '@backupctl/core';
import { builtinPlugins } from './builtins.js';

let cached: { dir: string; version: string } | undefined;

// Walks up from this module (dist/ when built, src/ under tests) to the CLI's package.json.
function cliPackage(): { dir: string; version: string } {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'backupctl') return (cached = { dir, version: manifest.version ?? '0.0.0' });
    } catch {
      // no package.json here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the backupctl package directory');
    dir = parent;
  }
}

/** backupctl's version (`--version`, /health, metrics). */
export function cliVersion(): string {
  return cliPackage().version;
}

/** The pipeline shipped with the CLI: the Clara + Mem0 service of the reference, as config. */
export function defaultPipelinePath(): string {
  return path.join(cliPackage().dir, 'examples', 'clara-mem0.yml');
}

/** What the CLI gives the core: the official plugins by short name, and the default pipeline. */
export function cliHost(): PipelineHost {
  const { dir, version } = cliPackage();
  return {
    name: 'backupctl',
    version,
    builtins: builtinPlugins,
    packageDir: dir,
    defaultPipeline: { file: defaultPipelinePath(), shown: 'clara-mem0.yml (default)' },
  };
}
