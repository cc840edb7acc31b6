import { BackupctlError, checkSchema, ErrorCodes, isBackupctlError, type PluginKind } from '@backupctl/plugin-api';
import type { LoadedCopy, LoadedJob, LoadedStep } from '../plugins/loaded-job.js';
import { BARE_HOST, type PipelineHost } from '../plugins/pipeline-host.js';
import { resolvePlugin, type ResolvedPlugin } from '../plugins/resolve-plugin.js';
import { checkNameTemplate } from '../naming/object-name.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { findPipeline } from './find-pipeline.js';
import { interpolate } from './interpolate.js';
import { DEFAULT_ANOMALY, PipelineSchema, type JobConfig, type PipelineFile, type StepConfig } from './pipeline-schema.js';
import { formatPath, type ConfigPath, type PipelineSource } from './source-text.js';


export type { LoadedJob, LoadedStep };

export interface LoadedPipeline {
  /** The file as shown to users. */
  file: string;
  origin: 'argument' | 'search' | 'default';
  jobs: LoadedJob[];
  /** The file as parsed, before `${VAR}` were filled in (restore-help names the variables, never their values). */
  raw: unknown;
  /** `concurrency:` at the top of the file: backups streamed at once in a run (docs/scale-out.md). */
  concurrency?: number;
  /** `memoryBudgetMiB:`: the planner lowers concurrency to fit it. */
  memoryBudgetMiB?: number;
}

export interface LoadOptions {
  /** Pipeline file; when absent, searched from cwd, else the host's default. */
  file?: string;
  /** The built-in plugins and the default pipeline (the CLI's); default: none. */
  host?: PipelineHost;
  cwd?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Load the plugins of these jobs only, when the file has them all: a
   * restore, or `run --job`, needs its own job's, and neither waits for nor
   * fails on another job's plugin. The file's shape is still checked whole; the other jobs
   * are left out of `jobs`.
   */
  jobs?: readonly string[];
}

/**
 * Finds, parses, interpolates and validates a pipeline file and loads its
 * plugins. Nothing runs and nothing is contacted. Every problem in the file
 * is reported at once, each with its line and path (ConfigError).
 */
export async function loadPipeline(options: LoadOptions = {}): Promise<LoadedPipeline> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const host = options.host ?? BARE_HOST;
  const { source, origin, dir: baseDir } = await findPipeline(options.file, cwd, host.defaultPipeline);
  const issues: ConfigIssue[] = [];
  const report = (path: ConfigPath, message: string, code: ConfigIssue['code'] = ErrorCodes.CONFIG_INVALID, hint?: string) =>
    issues.push({ code, location: source.locate(path), path: formatPath(path), message, hint });

  if (source.value === null || source.value === undefined) {
    report([], 'the file is empty; a pipeline needs `version: 1` and `jobs:`');
    throw new ConfigError(issues);
  }
  const shapeProblems = checkSchema(PipelineSchema, source.value);
  for (const problem of shapeProblems) report(problem.path, problem.message);
  const file = source.value as Partial<PipelineFile> | null;
  if (!file || typeof file !== 'object' || !file.jobs || typeof file.jobs !== 'object') throw new ConfigError(issues);

  // Jobs whose shape is right are loaded even when others are not, so one
  // pass reports every problem in the file.
  const misshapen = new Set(shapeProblems.map((problem) => problem.path[1]));
  // Each `use:` resolved once per file: jobs share their plugins.
  const plugins = new Map<string, Promise<ResolvedPlugin>>();
  const jobs: LoadedJob[] = [];
  const wanted = options.jobs?.length && options.jobs.every((name) => Object.hasOwn(file.jobs!, name)) ? new Set(options.jobs) : undefined;
  for (const [name, rawJob] of Object.entries(file.jobs)) {
    if (misshapen.has(name) || (wanted && !wanted.has(name))) continue;
    jobs.push(await loadJob(name, rawJob, { env, baseDir, host, source, report, plugins }));
  }
  if (issues.length) throw new ConfigError(issues);
  return {
    file: source.file,
    origin,
    jobs,
    raw: source.value,
    ...(file.concurrency !== undefined ? { concurrency: file.concurrency } : {}),
    ...(file.memoryBudgetMiB !== undefined ? { memoryBudgetMiB: file.memoryBudgetMiB } : {}),
  };
}

interface JobLoadContext {
  env: Readonly<Record<string, string | undefined>>;
  baseDir: string;
  host: PipelineHost;
  source: PipelineSource;
  report(path: ConfigPath, message: string, code?: ConfigIssue['code'], hint?: string): void;
  plugins: Map<string, Promise<ResolvedPlugin>>;
}

async function loadJob(name: string, raw: JobConfig, context: JobLoadContext): Promise<LoadedJob> {
  const jobPath = ['jobs', name];
  const unmet = (raw.requiresEnv ?? []).filter((variable) => !context.env[variable]);
  const skipReason = unmet.length ? `${unmet.join(', ')} ${unmet.length === 1 ? 'is' : 'are'} not set` : undefined;
  // A skipped job's problems are not errors (its database is not configured
  // here), but its sink is still loaded when valid so `ls` can list it.
  const report: JobLoadContext['report'] = skipReason ? () => undefined : context.report;

  const filled = interpolate(raw, context.env, jobPath);
  for (const missing of filled.missing) {
    report(missing.path, `environment variable ${missing.name} is not set`, ErrorCodes.ENV_MISSING,
      `set ${missing.name}, or give a default in the file: \${${missing.name}:-value}`);
  }
  // An option whose variable is missing has one problem, not a second one from its schema.
  const missingPaths = new Set(filled.missing.map((missing) => formatPath(missing.path)));
  const scoped = {
    ...context,
    report: ((path, ...rest) => {
      if (!missingPaths.has(formatPath(path))) report(path, ...rest);
    }) satisfies JobLoadContext['report'],
  };
  const job = filled.value as JobConfig;
  const nameTemplate = job.name ?? '{job}_{timestamp}{ext}';
  const templateProblem = checkNameTemplate(nameTemplate);
  if (templateProblem) report([...jobPath, 'name'], templateProblem);

  const unchecked: { step?: LoadedStep } = {};
  const sourceStep = await loadStep(job.source, [...jobPath, 'source'], 'source', scoped, skipReason ? unchecked : undefined);
  const transforms: LoadedStep[] = [];
  for (const [index, config] of (job.transforms ?? []).entries()) {
    const loaded = await loadStep(config, [...jobPath, 'transforms', index], 'transform', scoped);
    if (loaded) transforms.push(loaded);
  }
  const copies = await loadCopies(job, jobPath, scoped, report);
  const [primary] = copies;
  const notify: LoadedStep[] = [];
  for (const [index, config] of (job.notify ?? []).entries()) {
    const loaded = await loadStep(config, [...jobPath, 'notify', index], 'hook', scoped);
    if (loaded) notify.push(loaded);
  }
  return {
    name,
    title: job.title ?? name,
    nameTemplate,
    anomaly: { ...DEFAULT_ANOMALY, ...job.anomaly },
    skipReason,
    source: sourceStep,
    ...(unchecked.step ? { uncheckedSource: unchecked.step } : {}),
    transforms,
    sink: primary?.sink,
    hooks: primary?.hooks ?? [],
    copies,
    notify,
    ...(job.staleAfterHours !== undefined ? { staleAfterHours: job.staleAfterHours } : {}),
    ...(job.concurrency !== undefined ? { concurrency: job.concurrency } : {}),
  };
}

/**
 * The job's copies: its one `sink:`, or each of its `sinks:` with its
 * hooks, named (`name:`, else the plugin's name, numbered when shared) and
 * required unless it says `required: false`. A copy whose sink does not load
 * is left out (its problem is reported).
 */
async function loadCopies(job: JobConfig, jobPath: ConfigPath, context: JobLoadContext, report: JobLoadContext['report']): Promise<LoadedCopy[]> {
  if (job.sink && job.sinks) report([...jobPath, 'sinks'], 'give either `sink:` (one copy) or `sinks:` (several), not both');
  if (!job.sink && !job.sinks) report(jobPath, 'a job needs a `sink:` (where its backups go), or `sinks:` for several copies');
  const entries = job.sinks ? job.sinks.map((config, index) => ({ config, path: [...jobPath, 'sinks', index] })) : job.sink ? [{ config: job.sink, path: [...jobPath, 'sink'] }] : [];
  if (!job.sinks && job.sink?.required === false) report([...jobPath, 'sink', 'required'], 'the only sink of a job is always required', undefined, 'list several copies under `sinks:` to make one optional');
  if (job.sinks && job.sinks.every((config) => config.required === false)) report([...jobPath, 'sinks'], 'every sink is required: false; at least one copy must be required', undefined, 'drop `required: false` from the copy the job cannot do without');
  const names = copyNames(entries.map(({ config }) => config));
  const taken = new Map<string, number>();
  const copies: LoadedCopy[] = [];
  for (const [index, { config, path }] of entries.entries()) {
    const name = names[index]!;
    const first = taken.get(name);
    if (first !== undefined) report([...path, 'name'], `two sinks are called "${name}" (sinks[${first}] and sinks[${index}])`, undefined, 'give each a name: of its own');
    taken.set(name, index);
    const sink = await loadStep(config, path, 'sink', context);
    const hooks: LoadedStep[] = [];
    for (const [hookIndex, hookConfig] of (config.hooks ?? []).entries()) {
      const loaded = await loadStep(hookConfig, [...path, 'hooks', hookIndex], 'hook', context);
      if (loaded) hooks.push(loaded);
    }
    if (sink) copies.push({ name, sink, hooks, required: config.required !== false });
  }
  return copies;
}

/** Each sink's name: its `name:`, else its plugin's, numbered from the second sink of the same plugin on (s3, s3-2). */
function copyNames(configs: readonly { use: string; name?: string }[]): string[] {
  const seen = new Map<string, number>();
  return configs.map((config) => {
    if (config.name) return config.name;
    const base = config.use.replace(/^.*[/\\]/, '').replace(/\.[cm]?js$/, '').replace(/^(@[^/]+\/)?(backupctl-)?plugin-/, '');
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}-${count}`;
  });
}

async function loadStep(
  config: StepConfig,
  stepPath: ConfigPath,
  kind: PluginKind,
  context: JobLoadContext,
  /** Receives the step when its options do not pass the schema (undefined is returned then). */
  invalid?: { step?: LoadedStep },
): Promise<LoadedStep | undefined> {
  let resolved;
  try {
    let resolving = context.plugins.get(config.use);
    if (!resolving) context.plugins.set(config.use, (resolving = resolvePlugin(config.use, context.baseDir, context.host)));
    resolved = await resolving;
  } catch (error) {
    if (!isBackupctlError(error)) throw error;
    context.report([...stepPath, 'use'], error.message, error.code, error.hint);
    return undefined;
  }
  const { definition, from } = resolved;
  if (definition.kind !== kind) {
    context.report([...stepPath, 'use'], `plugin "${config.use}" is a ${definition.kind}, not a ${kind}`, ErrorCodes.PLUGIN_INVALID,
      `use a ${kind} plugin here`);
    return undefined;
  }
  const options = structuredClone(config.with ?? {});
  const problems = checkSchema(definition.schema, options);
  for (const problem of problems) context.report([...stepPath, 'with', ...problem.path], problem.message);
  // What the schema cannot say (a password without a user, an unreadable file): bad input too.
  const problem = problems.length ? undefined : definition.checkOptions?.(options as never);
  if (problem) context.report([...stepPath, 'with'], problem);
  const step: LoadedStep = { use: config.use, kind, plugin: definition, from, options, path: formatPath(stepPath) };
  if (!problems.length && !problem) return step;
  if (invalid) invalid.step = step;
  return undefined;
}

/** Picks the jobs named on the command line (all when none), refusing unknown names. */
export function selectJobs(pipeline: LoadedPipeline, names: readonly string[]): LoadedJob[] {
  if (!names.length) return pipeline.jobs;
  const known = new Map(pipeline.jobs.map((job) => [job.name, job]));
  return names.map((name) => {
    const job = known.get(name);
    if (!job) {
      throw new BackupctlError(ErrorCodes.USAGE, `no job "${name}" in ${pipeline.file}`, {
        hint: `jobs in this file: ${[...known.keys()].join(', ')}`,
      });
    }
    return job;
  });
}
