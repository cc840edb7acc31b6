import path from 'node:path';
import { findPackage, type PipelineHost } from '@backupctl/core';
import { builtinPlugins } from './builtins.js';

const cliPackage = () => findPackage('backupctl', import.meta.url);

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
