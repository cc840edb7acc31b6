import type { PluginDefinition, PluginKind } from '@backupctl/plugin-api';

/** One `use:` with its plugin loaded and its options validated, defaults filled. */
export interface LoadedStep {
  use: string;
  kind: PluginKind;
  plugin: PluginDefinition<PluginKind, never>;
  /** Where the plugin came from: `builtin`, a package name or a path. */
  from: string;
  options: Record<string, unknown>;
  /** Path of the step in the pipeline file, e.g. jobs.clara.sink. */
  path: string;
}

/** The anomaly guard's settings, as `anomaly:` in the pipeline file (config/pipeline-schema.ts) gives them with defaults filled in. */
export interface AnomalySettings {
  maxShrinkPercent: number;
  emptiedTables: boolean;
  ignoreTables: string[];
  hold: boolean;
}

export interface LoadedJob {
  name: string;
  /** Label for logs and `ls` (e.g. "Clara DB"). */
  title: string;
  /** Object name template, e.g. `{job}_{timestamp}{ext}`. */
  nameTemplate: string;
  /** The anomaly guard's settings (`anomaly:` in the file, defaults filled in); absent: DEFAULT_ANOMALY. */
  anomaly?: AnomalySettings;
  /** Set when the job must not run (requiresEnv unmet); the run logs it and moves on. */
  skipReason?: string;
  source?: LoadedStep;
  /**
   * A skipped job's source whose options do not pass the plugin's schema
   * here (their variables are unset, e.g. MEM0_DATABASE_URL): the plugin with
   * the options as written and interpolated, unchecked. Nothing creates an
   * instance from it; restore-help asks its plugin how to load the job's
   * backups by hand, which does not need the database to be configured here.
   */
  uncheckedSource?: LoadedStep;
  transforms: LoadedStep[];
  /** Present whenever the sink's options are valid, even for a skipped job (so `ls` can list it). */
  sink?: LoadedStep;
  hooks: LoadedStep[];
}
