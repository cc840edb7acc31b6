import { copiesOf, formatTimestamp, formatUtcTime, type BackupEntry, type JobBackups, type LoadedJob, type LoadedStep } from '@backupctl/core';
import { formatSize, shellWord, type RestoreHelpByKind, type RestoreHelpCommands, type RestoreHelpContext } from '@backupctl/plugin-api';

/** What {@link formatRestoreHelp} needs besides the jobs and their backups. */
export interface RestoreHelpOptions {
  /**
   * The pipeline as written, before `${VAR}` were filled in. Commands refer
   * to the variables it names (`"$DATABASE_URL"`) instead of their values,
   * which hold passwords and keys. Without it, placeholders are printed.
   */
  raw?: unknown;
}

/**
 * The restore procedure of the reference service (download, undo the
 * transforms, load the dump, or into a new target first), for the newest backup
 * of each job, then the same with `backupctl restore`. Each step comes from
 * the plugin of its stage (`restoreHelp` in the plugin API): the sink's
 * download, each transform's undoing (last first), the source's load; a
 * stage whose plugin has none gets a generic line. This module only numbers,
 * heads, indents and joins them. Names buckets, endpoints and keys, never a
 * password, a key or a connection URL: plugins refer to them by the
 * environment variable the pipeline reads them from (RestoreHelpContext.variable).
 */
export function formatRestoreHelp(
  jobs: readonly LoadedJob[],
  listing: readonly JobBackups[],
  options: RestoreHelpOptions = {},
): string {
  const sections: string[] = [];
  for (const entry of listing) {
    const job = jobs.find((candidate) => candidate.name === entry.job);
    if (job) sections.push(jobSection(job, entry, options));
  }
  return sections.join('\n\n');
}

/**
 * Whole servers (expand-job.ts): the same for a job whose source stands for
 * several databases, from the parts its store holds (`parts`, with their
 * backups in `listing`): one backupctl command for the whole run first
 * (`--at` its timestamp: --key names one object), then each part by hand,
 * the globals first.
 */
export function formatWholeServerRestoreHelp(
  job: LoadedJob,
  parts: readonly LoadedJob[],
  listing: readonly JobBackups[],
  options: RestoreHelpOptions = {},
): string {
  const found = parts.flatMap((part) => {
    const entry = listing.find((candidate) => candidate.job === part.name);
    return entry?.backups.length ? [{ part, entry }] : [];
  });
  const heading = `${job.title} (job ${job.name})`;
  if (!found.length) return `${heading}: no backups in ${listing[0]?.location ?? 'its store'} yet.`;
  const newest = new Date(Math.max(...found.map(({ entry }) => entry.backups[0]!.time.getTime())));
  const restore = `backupctl restore ${shellWord(job.name)} --at ${formatTimestamp(newest)}`;
  return [
    `${heading}: a whole server, ${found.length} parts (${found.map(({ part }) => part.name).join(', ')}); newest run ${formatUtcTime(newest)}`,
    '',
    'All of it with backupctl (globals first, then each database into the database of its name):',
    indent(`${restore} --yes`),
    indent(`${restore} --target-url "<URL of any database on the new server>" --create`),
    '',
    'Or part by part, by hand:',
    ...found.map(({ part, entry }) => `\n${jobSection(part, entry, options, job)}`),
  ].join('\n');
}

/** One job's section; `parent` is set for a part of a whole-server job, whose file entry is the parent's. */
function jobSection(job: LoadedJob, entry: JobBackups, options: RestoreHelpOptions, parent?: LoadedJob): string {
  const newest = entry.backups[0];
  const heading = parent ? `${entry.title} (job ${parent.name}, part ${job.name})` : `${entry.title} (job ${job.name})`;
  if (!newest) return `${heading}: no backups in ${entry.location} yet.`;

  const describe = (step: LoadedStep): RestoreHelpContext => helpContext(step, job, parent, options.raw);
  const steps: { title: string; lines: string[] }[] = [{ title: 'Download backup', lines: downloadLines(job, entry, newest, describe) }];
  const undone = undoLines(job, baseName(newest.key), describe);
  if (undone.lines.length) steps.push({ title: undone.title, lines: undone.lines });
  const load = loadLines(job, parent ?? job, undone.file, describe, options.raw);
  steps.push({ title: 'Restore', lines: load.lines });

  const restore = 'backupctl restore';
  const oneStep = `${restore} ${shellWord(job.name)} --key ${shellWord(newest.key)}`;
  return [
    `${heading}: newest backup ${newest.key} in ${entry.location} (${formatSize(newest.size)}, ${formatUtcTime(newest.time)})`,
    ...steps.flatMap((step, index) => ['', `${index + 1}. ${step.title}`, ...step.lines.map(indent)]),
    // A part is restored with its whole run (above): --key names one object of a single-database job.
    ...(parent
      ? []
      : [
          '',
          'Or all of it with backupctl:',
          indent(oneStep),
          ...(load.newTarget ? [indent(`${oneStep} --target-url ${load.newTarget} --create`)] : []),
        ]),
  ].join('\n');
}

function indent(line: string): string {
  return line ? `  ${line}` : '';
}

// --- The stages' steps ------------------------------------------------------

function downloadLines(job: LoadedJob, entry: JobBackups, newest: BackupEntry, describe: (step: LoadedStep) => RestoreHelpContext): string[] {
  const copies = copiesOf(job);
  if (copies.length < 2) return downloadFrom(job.sink, newest.key, entry.location, describe);
  // Several copies: how to fetch it from each copy that holds it, the primary first.
  const holding = copies.filter((copy) => newest.places?.[copy.name]);
  return holding.flatMap((copy, index) => {
    const place = newest.places![copy.name]!;
    return [...(index ? [''] : []), `# ${index ? 'Or from' : 'From'} copy ${copy.name} (${place.location}):`, ...downloadFrom(copy.sink, place.key, place.location, describe)];
  });
}

function downloadFrom(sink: LoadedStep | undefined, key: string, location: string, describe: (step: LoadedStep) => RestoreHelpContext): string[] {
  const file = baseName(key);
  const help = sink && ask(sink, () => helpOf(sink, 'sink')?.download({ key, file }, describe(sink)));
  if (help?.answer) return commandLines(help.answer);
  return [
    ...(help?.failed ?? []),
    `# Copy ${key} from ${location} to ./${file} with the tools of the "${sink?.use ?? '?'}" sink,`,
    '# or use backupctl restore (below).',
  ];
}

/** Undoes the transforms, last first; returns the step's title, its lines and the file they leave. */
function undoLines(job: LoadedJob, downloaded: string, describe: (step: LoadedStep) => RestoreHelpContext): { title: string; lines: string[]; file: string } {
  const titles: string[] = [];
  const lines: string[] = [];
  let file = downloaded;
  for (const transform of [...job.transforms].reverse()) {
    const help = helpOf(transform, 'transform');
    const undone = ask(transform, () => help?.undo(file, describe(transform)));
    if (help && undone?.answer) {
      titles.push(help.title);
      lines.push(...commandLines(undone.answer));
      file = undone.answer.file;
    } else {
      titles.push(`Undo ${transform.use}`);
      lines.push(
        ...(undone?.failed ?? []),
        `# Undo the "${transform.use}" transform (${transform.path}) with its own tools, or use backupctl restore (below).`,
      );
    }
  }
  return { title: joinTitles(titles), lines, file };
}

/**
 * Loads the decoded file. A job skipped for want of its database has no
 * loaded source: its plugin is still asked, with the options as written
 * (LoadedJob.uncheckedSource).
 */
function loadLines(
  job: LoadedJob,
  entryJob: LoadedJob,
  file: string,
  describe: (step: LoadedStep) => RestoreHelpContext,
  raw: unknown,
): { lines: string[]; newTarget?: string } {
  const source = job.source ?? job.uncheckedSource;
  const help = source && ask(source, () => helpOf(source, 'source')?.load(file, describe(source)));
  if (help?.answer?.ways.length) {
    return {
      lines: help.answer.ways.flatMap((way, index) => [...(index ? [''] : []), ...commandLines(way)]),
      newTarget: help.answer.newTarget,
    };
  }
  const use = source?.use ?? String(rawAt(raw, ['jobs', entryJob.name, 'source', 'use']) ?? '?');
  return { lines: [...(help?.failed ?? []), `# Restore ${file} with the tools of the "${use}" source, or use backupctl restore (below).`] };
}

type HelpedKind = Exclude<keyof RestoreHelpByKind, 'hook'>;

/** The step's restoreHelp for its kind, when its plugin has one. */
function helpOf<K extends HelpedKind>(step: LoadedStep, kind: K): RestoreHelpByKind[K] | undefined {
  return step.kind === kind ? (step.plugin.restoreHelp as RestoreHelpByKind[K] | undefined) : undefined;
}

/**
 * What a plugin's restoreHelp answered; a plugin that throws gets the
 * generic line, after a note (not its message, which could hold an option's value).
 */
function ask<T>(step: LoadedStep, call: () => T | undefined): { answer?: T; failed?: string[] } {
  try {
    return { answer: call() };
  } catch {
    return { failed: [`# (The "${step.use}" plugin failed to describe this step.)`] };
  }
}

/**
 * What a stage's plugin is told: its options, and the variable each option
 * is read from in the file as written (the file's job entry: a part's is its
 * parent's).
 */
function helpContext(step: LoadedStep, job: LoadedJob, parent: LoadedJob | undefined, raw: unknown): RestoreHelpContext {
  const at = ['jobs', (parent ?? job).name, ...stepAt(step), 'with'];
  return {
    options: step.options,
    job: job.name,
    ...(parent ? { partOf: parent.name } : {}),
    use: step.use,
    path: step.path,
    variable: (option) => referencedVariable(rawAt(raw, [...at, option])),
  };
}

/** Where a step is in its job's entry: `source`, `sink`, `sinks`, `<index>`, `transforms`, `<index>`. */
function stepAt(step: LoadedStep): string[] {
  const copy = /\.sinks\[(\d+)\]$/.exec(step.path);
  if (step.kind === 'sink' && copy) return ['sinks', copy[1]!];
  if (step.kind !== 'transform') return [step.kind];
  return ['transforms', /\[(\d+)\]$/.exec(step.path)?.[1] ?? '-1'];
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `# text`, then each command (its lines), each preceded by the env assignments (variable references only). */
function commandLines(help: RestoreHelpCommands): string[] {
  const lines = help.text ? [`# ${help.text.replace(/\s*\n\s*/g, ' ')}`] : [];
  const env = Object.entries(help.env ?? {})
    .filter(([name, variable]) => VARIABLE_NAME.test(name) && VARIABLE_NAME.test(variable))
    .map(([name, variable]) => `${name}="$${variable}"`);
  for (const command of help.commands) {
    if (env.length && !command.startsWith('#')) lines.push(`${env.join(' ')} \\`);
    lines.push(...command.split('\n'));
  }
  return lines;
}

/** `Decrypt, then decompress`. */
function joinTitles(titles: readonly string[]): string {
  const distinct = [...new Set(titles)];
  return distinct.map((title, index) => (index ? title.charAt(0).toLowerCase() + title.slice(1) : title)).join(', then ');
}

// --- Helpers ----------------------------------------------------------------

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/;

/** `DATABASE_URL` for a raw value that is exactly `${DATABASE_URL}` (or `${DATABASE_URL:-...}`). */
function referencedVariable(value: unknown): string | undefined {
  return typeof value === 'string' ? WHOLE_REFERENCE.exec(value.trim())?.[1] : undefined;
}

function rawAt(raw: unknown, path: readonly string[]): unknown {
  let node = raw;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
