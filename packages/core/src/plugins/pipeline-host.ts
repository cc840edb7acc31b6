/** Loads a built-in plugin's module; resolves to its definition (checked by the caller). */
export type BuiltinLoader = () => Promise<unknown>;

/**
 * What the program hosting the core (the backupctl CLI) provides: the core
 * itself names no plugin and ships no pipeline.
 */
export interface PipelineHost {
  /** Package name and version shown for the built-ins (`backupctl plugins`). */
  name: string;
  version: string;
  /** Plugins known by a short name (`postgres`, `retention`), loaded when a pipeline uses them. */
  builtins: Readonly<Record<string, BuiltinLoader | undefined>>;
  /** The host's package directory: plugin packages are also looked up beside it, so plugins installed next to a global backupctl work. */
  packageDir?: string;
  /** The pipeline used when no file is given and none is found from the working directory up. */
  defaultPipeline?: { file: string; shown: string };
}

/** A host with no built-ins and no default pipeline: a library use of the core, and its tests. */
export const BARE_HOST: PipelineHost = { name: '@backupctl/core', version: '0.0.0', builtins: {} };
