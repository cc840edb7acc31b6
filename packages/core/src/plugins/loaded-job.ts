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

/** One copy of a job's backups: a sink, the hooks around it, and whether the job needs it. */
export interface LoadedCopy {
  /** What logs, `ls` and `restore --from` call it: the sink's `name:`, else its plugin's (numbered when shared: s3, s3-2). */
  name: string;
  sink: LoadedStep;
  hooks: LoadedStep[];
  /** False: the job succeeds when this copy fails (reported). Always true for a job's only sink. */
  required: boolean;
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
  /**
   * The first (primary) copy's sink, present whenever its options are
   * valid, even for a skipped job (so `ls` can list it). Commands that read
   * backups try the copies in order (copiesOf).
   */
  sink?: LoadedStep;
  /** The first copy's hooks. */
  hooks: LoadedStep[];
  /** Notifiers (`notify:`): hooks that hear every event of the job, whichever copy it concerns. */
  notify?: LoadedStep[];
  /** `serve`: the job's newest backup older than this is stale (absent: not checked). */
  staleAfterHours?: number;
  /** Every copy, the primary first (`sinks:`); absent or one entry for a job with one `sink:`. */
  copies?: LoadedCopy[];
  /** Whole servers: parts backed up at once (`concurrency:`); absent: the run's. */
  concurrency?: number;
  /** A part of a whole-server job (expandJob): the job's name; logs carry it with the part's. */
  partOf?: string;
}

/**
 * The job's copies, primary first. A job built without `copies` (by hand,
 * in tests) has its one sink as its only, required, copy.
 */
export function copiesOf(job: LoadedJob): LoadedCopy[] {
  if (job.copies?.length) return job.copies;
  return job.sink ? [{ name: job.sink.use, sink: job.sink, hooks: job.hooks, required: true }] : [];
}

/**
 * The job as one copy sees it: that copy's sink and hooks in place of the
 * primary's, so everything written for one sink (restore, ls, prune,
 * respawn) works on each copy unchanged.
 */
export function jobForCopy(job: LoadedJob, copy: LoadedCopy): LoadedJob {
  return { ...job, sink: copy.sink, hooks: copy.hooks, copies: [copy] };
}
