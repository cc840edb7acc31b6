import {
  BackupctlError,
  checkSchema,
  ErrorCodes,
  hasParts,
  wrapError,
  type Logger,
  type Secrets,
  type SourcePart,
} from '@backupctl/plugin-api';
import { copiesOf, type LoadedJob, type LoadedStep } from '../plugins/loaded-job.js';
import { backupNameMatcher } from '../naming/backup-name-matcher.js';
import { closeInReverse } from '../plugins/lifecycle.js';
import { createInstance, emptyArtifactInfo } from '../plugins/create-instance.js';

export interface ExpandEnvironment {
  logger: Logger;
  secrets: Secrets;
  signal: AbortSignal;
}

/**
 * Whole servers: when the job's source stands for several databases (it has
 * `expand`, and returns parts), one sub-job per part, in the source's order
 * (globals first). Undefined when the job runs as it is: a skipped job, or a
 * source that does not expand.
 *
 * A sub-job is the job with the part's name (`<db>`), title `<title> / <db>`,
 * the part's source options and the sink's options for the part (its
 * plugin's partOptions: s3 and file put it under `<prefix><db>/`), so its
 * objects are `<prefix><db>/<db>_<timestamp><ext>` and respawn,
 * retention, checksums and restore work per database unchanged.
 *
 * `known`: the part names found in the store (restore), see SourceInstance.expand.
 *
 * @throws BackupctlError when the source cannot list its parts, a part's
 *   options do not fit the plugin's schema, or the sink cannot keep parts apart (no partOptions).
 */
export async function expandJob(job: LoadedJob, environment: ExpandEnvironment, known?: readonly string[]): Promise<LoadedJob[] | undefined> {
  if (job.skipReason || !job.source || !job.sink) return undefined;
  const parts = await askSource(job, environment, (expand) => expand(known));
  return parts?.length ? subJobs(job, parts) : undefined;
}

type Expand = (known?: readonly string[]) => Promise<SourcePart[] | undefined>;

/** Creates the job's source, lets `use` call its `expand`, and closes it; undefined when it cannot expand. */
async function askSource(job: LoadedJob, environment: ExpandEnvironment, use: (expand: Expand) => Promise<SourcePart[] | undefined>): Promise<SourcePart[] | undefined> {
  const sourceStep = job.source!;
  const source = await createInstance(job, sourceStep, 'source', { ...environment, artifact: emptyArtifactInfo() });
  let failure: unknown;
  try {
    if (!hasParts(source)) return undefined;
    return await use((known) => source.expand(environment.signal, known));
  } catch (error) {
    failure = wrapError(error, { code: ErrorCodes.SOURCE_FAILED, job: job.name, plugin: sourceStep.use, hook: 'expand' });
    throw failure;
  } finally {
    await closeInReverse([{ step: sourceStep, instance: source }], failure, environment.logger);
  }
}

/** One sub-job per part: the part's name and source options, the sink's options for that part (its partOptions). */
function subJobs(job: LoadedJob, parts: readonly SourcePart[]): LoadedJob[] {
  const sourceStep = job.source!;
  const copies = copiesOf(job);
  for (const { sink: sinkStep } of copies) {
    if (sinkStep.plugin.partOptions) continue;
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `job ${job.name}: its source backs up ${parts.length} parts, but the "${sinkStep.use}" sink cannot keep parts apart`, {
      job: job.name,
      plugin: sinkStep.use,
      hint: 'use a sink that can hold several parts (s3, file: each part under <prefix><part>/), or name one database in the source',
    });
  }
  const names = new Set<string>();
  return parts.map((part) => {
    if (!/^[^/\\]+$/.test(part.name) || part.name === '.' || part.name === '..' || names.has(part.name)) {
      throw new BackupctlError(ErrorCodes.INTERNAL, `job ${job.name}: the "${sourceStep.use}" source named a part ${JSON.stringify(part.name)}, which is empty, repeated or not one path segment`, {
        job: job.name,
        plugin: sourceStep.use,
      });
    }
    names.add(part.name);
    // Every copy keeps the part apart as the primary does, so reading a part from any copy finds it.
    const partCopies = copies.map((copy) => ({ ...copy, sink: partSink(job, copy.sink, part.name) }));
    return {
      ...job,
      name: part.name,
      title: `${job.title} / ${part.name}`,
      source: checkedStep(job, sourceStep, part.options, part.name),
      sink: partCopies[0]!.sink,
      copies: partCopies,
      partOf: job.name,
    };
  });
}

/** A sink step with its plugin's options for one part (its partOptions, checked by subJobs). */
function partSink(job: LoadedJob, sinkStep: LoadedStep, part: string): LoadedStep {
  const options = sinkStep.plugin.partOptions!(structuredClone(sinkStep.options) as never, part) as Record<string, unknown>;
  return checkedStep(job, sinkStep, options, part);
}

/** The step with new options, validated (and defaulted) by its plugin's schema as the file's were. */
function checkedStep(job: LoadedJob, step: LoadedStep, options: Record<string, unknown>, part: string): LoadedStep {
  const copy = structuredClone(options);
  const problems = checkSchema(step.plugin.schema, copy);
  if (problems.length) {
    const described = problems.map((problem) => `${problem.path.join('.') || '(options)'} ${problem.message}`).join('; ');
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `job ${job.name}, part ${part}: the ${step.kind} options made for it are invalid: ${described}`, {
      job: job.name,
      plugin: step.use,
    });
  }
  return { ...step, options: copy };
}

/**
 * Whole servers, for restore and ls: the job's sub-jobs as the store holds
 * them. The part names are the `<name>/` folders under the sink's prefix
 * that hold a backup named for that part (`<prefix><db>/<db>_<timestamp><ext>`);
 * the source is not asked which databases exist (they may be gone).
 * Undefined when the job does not expand.
 */
export async function expandStoredJob(job: LoadedJob, environment: ExpandEnvironment): Promise<LoadedJob[] | undefined> {
  if (job.skipReason || !job.source || !job.sink) return undefined;
  const parts = await askSource(job, environment, async (expand) => {
    // Asked with no names first: a source that does not expand says so, and the store is not read for nothing.
    if ((await expand([])) === undefined) return undefined;
    return expand(await partsInStore(job, environment));
  });
  return parts?.length ? subJobs(job, parts) : undefined;
}

/** Each job as the store holds it: its parts (expandStoredJob) where it has them, else the job itself. */
export async function storedJobs(jobs: readonly LoadedJob[], environment: ExpandEnvironment): Promise<LoadedJob[]> {
  const expanded: LoadedJob[] = [];
  for (const job of jobs) expanded.push(...((await expandStoredJob(job, environment)) ?? [job]));
  return expanded;
}

/**
 * The `<name>/` folders under the sink's prefix that hold a backup named for
 * that part, in any of the job's copies (a part only one copy still holds is
 * restored from it). A copy that cannot be listed is left out with a
 * warning while another could be; with one copy, its error.
 */
async function partsInStore(job: LoadedJob, environment: ExpandEnvironment): Promise<string[]> {
  const copies = copiesOf(job);
  const names = new Set<string>();
  let listed = false;
  let firstFailure: unknown;
  for (const copy of copies) {
    try {
      for (const name of await partsInCopy(job, copy.sink, environment)) names.add(name);
      listed = true;
    } catch (error) {
      if (copies.length === 1 || environment.signal.aborted) throw error;
      firstFailure ??= error;
      environment.logger.warn(`${job.title}: copy ${copy.name} could not be listed (${(error as Error).message}); its parts are left out`);
    }
  }
  if (!listed) throw firstFailure;
  return [...names];
}

async function partsInCopy(job: LoadedJob, sinkStep: LoadedStep, environment: ExpandEnvironment): Promise<string[]> {
  const store = await createInstance(job, sinkStep, 'sink', { ...environment, artifact: emptyArtifactInfo() });
  const names = new Set<string>();
  let failure: unknown;
  try {
    for await (const object of store.list(store.prefix, environment.signal)) {
      const rest = object.key.slice(store.prefix.length);
      const name = rest.slice(0, Math.max(0, rest.indexOf('/')));
      if (name && !names.has(name) && backupNameMatcher({ name, nameTemplate: job.nameTemplate }, `${store.prefix}${name}/`)(object.key)) names.add(name);
    }
    return [...names];
  } catch (error) {
    failure = wrapError(error, { code: ErrorCodes.STORE_FAILED, job: job.name, plugin: sinkStep.use, hook: 'list' });
    throw failure;
  } finally {
    await closeInReverse([{ step: sinkStep, instance: store }], failure, environment.logger);
  }
}

/** Restore and verify of a whole-server job pick each part's backup by time: `--key` names one object, so it is refused. */
export function refuseKeyForParts(job: LoadedJob, parts: readonly LoadedJob[], selection: { key?: string }): void {
  if (selection.key === undefined) return;
  throw new BackupctlError(ErrorCodes.USAGE, `job ${job.name} backs up ${parts.length} parts (${parts.map((part) => part.name).join(', ')}): --key names one object`, {
    job: job.name,
    hint: "use --at to pick each part's backup by time (a run's parts share one timestamp)",
  });
}
