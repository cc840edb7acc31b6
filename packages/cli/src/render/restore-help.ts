import type { LoadedJob, LoadedStep } from '@backupctl/core';
import { formatSize } from '@backupctl/plugin-api';
import type { BackupEntry, JobBackups } from '@backupctl/core';
import { formatUtcTime } from '@backupctl/core';
import { formatTimestamp } from '@backupctl/core';

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
 * The restore procedure of the reference service (download, decompress,
 * restore with psql, or into a new database first), for the newest backup
 * of each job, adapted to the job's pipeline (gzip or not, plain SQL or
 * pg_restore's custom format, S3 or a directory), then the same with
 * `backupctl restore`. Names buckets, endpoints and keys, never a password,
 * a key or a connection URL: databases and credentials are referred to by
 * the environment variable the pipeline reads them from.
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

  const fileJob = parent ?? job;
  const globals = parent !== undefined && job.source?.options.dump === 'globals';
  const database = databaseReference(fileJob, options.raw, parent ? (globals ? 'postgres' : job.name) : undefined);
  const steps: { title: string; lines: string[] }[] = [{ title: 'Download backup', lines: downloadLines(job, fileJob, entry, newest, options.raw) }];
  const decoded = decodeLines(job, baseName(newest.key));
  if (decoded.lines.length) steps.push({ title: 'Decompress', lines: decoded.lines });
  steps.push({ title: 'Restore', lines: globals ? globalsLines(decoded.file, database) : restoreLines(job, fileJob, decoded.file, database, options.raw) });

  const restore = 'backupctl restore';
  const oneStep = `${restore} ${shellWord(job.name)} --key ${shellWord(newest.key)}`;
  return [
    `${heading}: newest backup ${newest.key} in ${entry.location} (${formatSize(newest.size)}, ${formatUtcTime(newest.time)})`,
    ...steps.flatMap((step, index) => ['', `${index + 1}. ${step.title}`, ...step.lines.map(indent)]),
    // A part is restored with its whole run (above): --key names one object of a single-database job.
    ...(parent ? [] : ['', 'Or all of it with backupctl:', indent(oneStep), indent(`${oneStep} --target-url ${database.fresh} --create`)]),
  ].join('\n');
}

function indent(line: string): string {
  return line ? `  ${line}` : '';
}

// --- Download ---------------------------------------------------------------

function downloadLines(job: LoadedJob, fileJob: LoadedJob, entry: JobBackups, newest: BackupEntry, raw: unknown): string[] {
  const sink = job.sink;
  const file = baseName(newest.key);
  if (sink?.plugin.name === 's3') return s3Download(fileJob, sink, newest.key, raw);
  if (sink?.plugin.name === 'file') return [`cp ${shellWord(`${entry.location}/${newest.key}`)} .`];
  return [`# Copy ${newest.key} from ${entry.location} to ./${file} with the tools of the "${sink?.use ?? '?'}" sink,`, '# or use backupctl restore (below).'];
}

function s3Download(job: LoadedJob, sink: LoadedStep, key: string, raw: unknown): string[] {
  const bucket = stringOption(sink, 'bucket');
  const endpoint = stringOption(sink, 'endpoint').trim();
  const region = stringOption(sink, 'region').trim();
  const lines = ['# Using the AWS CLI'];
  const credentials = s3Credentials(job, sink, raw);
  if (credentials) lines.push(credentials);
  const location = endpoint ? `--endpoint-url=${shellWord(endpoint)}` : `--region ${shellWord(region || 'us-east-1')}`;
  lines.push(`aws s3 cp ${shellWord(`s3://${bucket}/${key}`)} . \\`, `  ${location}`);
  return lines;
}

const AWS_VARIABLES = [
  ['accessKeyId', 'AWS_ACCESS_KEY_ID'],
  ['secretAccessKey', 'AWS_SECRET_ACCESS_KEY'],
  ['sessionToken', 'AWS_SESSION_TOKEN'],
] as const;

/**
 * The AWS CLI reads its credentials from AWS_*: map the pipeline's
 * variables onto them (`AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" ... \`). Empty
 * credentials mean the default chain, which the AWS CLI shares.
 */
function s3Credentials(job: LoadedJob, sink: LoadedStep, raw: unknown): string | undefined {
  const given = AWS_VARIABLES.filter(([option]) => stringOption(sink, option).trim() !== '');
  if (!given.length) return undefined;
  const assignments: string[] = [];
  for (const [option, awsName] of given) {
    const variable = referencedVariable(rawAt(raw, ['jobs', job.name, 'sink', 'with', option]));
    if (!variable) return `# Credentials: set ${given.map(([, name]) => name).join(', ')} to the key of ${sink.path} (not shown here)`;
    assignments.push(`${awsName}="$${variable}"`);
  }
  return `${assignments.join(' ')} \\`;
}

// --- Decompress -------------------------------------------------------------

/** Undoes the transforms, last first; returns the commands and the file they leave. */
function decodeLines(job: LoadedJob, downloaded: string): { lines: string[]; file: string } {
  const lines: string[] = [];
  let file = downloaded;
  for (const transform of [...job.transforms].reverse()) {
    if (transform.plugin.name === 'gzip') {
      if (file.endsWith('.gz')) {
        lines.push(`gunzip ${shellWord(file)}`);
        file = file.slice(0, -'.gz'.length);
      } else {
        lines.push(`gzip -dc ${shellWord(file)} > ${shellWord(`${file}.out`)}`);
        file = `${file}.out`;
      }
    } else {
      lines.push(`# Undo the "${transform.use}" transform (${transform.path}) with its own tools, or use backupctl restore (below).`);
    }
  }
  return { lines, file };
}

// --- Restore ----------------------------------------------------------------

/** How the commands name a database: shell words that never hold its URL. */
interface DatabaseReference {
  /** The job's database, e.g. `"$DATABASE_URL"`. */
  current: string;
  /** A new database on the same server, e.g. `"${DATABASE_URL%/*}/clara_restore"`. */
  fresh: string;
  /** Its name, e.g. clara_restore. */
  freshName: string;
  /** Why `fresh` may need a manual touch. */
  note?: string;
}

/**
 * `database`, for a part of a whole-server job: the database of that name on
 * the server the job's URL points at (`"${URL%/*}/crm"`).
 */
function databaseReference(job: LoadedJob, raw: unknown, database?: string): DatabaseReference {
  const name = database ?? job.name;
  const freshName = `${name}_restore`;
  const variable = referencedVariable(rawAt(raw, ['jobs', job.name, 'source', 'with', 'url']));
  if (!variable) {
    return { current: `"<URL of the ${name} database>"`, fresh: `"<URL of the new ${freshName} database>"`, freshName };
  }
  const current = database === undefined ? `"$${variable}"` : `"\${${variable}%/*}/${database}"`;
  const reference: DatabaseReference = { current, fresh: `"\${${variable}%/*}/${freshName}"`, freshName };
  // The value itself is only inspected, never printed: `${VAR%/*}` swaps the
  // database name only in URLs that end with it.
  const value = job.source ? stringOption(job.source, 'url') : '';
  const url = parseUrl(value);
  if (url && (url.pathname === '' || url.pathname === '/')) {
    return database === undefined
      ? { ...reference, fresh: `"<URL of the new ${freshName} database>"` }
      : { current: `"<URL of the ${name} database>"`, fresh: `"<URL of the new ${freshName} database>"`, freshName };
  }
  if (url?.search) return { ...reference, note: `# \${${variable}%/*} drops the ?parameters of ${variable}: add them back (e.g. sslmode) if needed.` };
  return reference;
}

/** The globals part of a whole server: roles and tablespaces, before any database; not one transaction, so existing roles are reported and skipped. */
function globalsLines(file: string, database: DatabaseReference): string[] {
  return ['# Roles and tablespaces first; those that exist already fail with "already exists" and are kept', `psql ${database.current} < ${shellWord(file)}`];
}

function restoreLines(job: LoadedJob, fileJob: LoadedJob, file: string, database: DatabaseReference, raw: unknown): string[] {
  // A job skipped for want of its database (MEM0_DATABASE_URL unset) has no
  // loaded source: read its plugin and options from the file as written.
  const use = job.source?.use ?? String(rawAt(raw, ['jobs', fileJob.name, 'source', 'use']) ?? '?');
  const isPostgres = job.source ? job.source.plugin.name === 'postgres' : ['postgres', '@backupctl/plugin-postgres'].includes(use);
  if (!isPostgres) {
    return [`# Restore ${file} with the tools of the "${use}" source, or use backupctl restore (below).`];
  }
  const sourceOptions = job.source?.options ?? ((rawAt(raw, ['jobs', fileJob.name, 'source', 'with']) ?? {}) as Record<string, unknown>);
  const createdb = `createdb --maintenance-db=${database.current} ${database.freshName}`;
  const extraArgs = Array.isArray(sourceOptions.args) ? sourceOptions.args.map(String) : [];
  if (sourceOptions.format === 'custom') {
    return [
      '# Full restore (WARNING: drops and recreates the objects in the backup)',
      `pg_restore --clean --if-exists --exit-on-error --single-transaction --dbname=${database.current} ${shellWord(file)}`,
      '',
      '# Or restore to a new database first',
      createdb,
      ...(database.note ? [database.note] : []),
      `pg_restore --exit-on-error --single-transaction --dbname=${database.fresh} ${shellWord(file)}`,
    ];
  }
  const psql = 'psql -v ON_ERROR_STOP=1 --single-transaction';
  const dropsFirst = extraArgs.some((arg) => arg === '-c' || arg === '--clean');
  return [
    dropsFirst
      ? '# Full restore (WARNING: the dump drops and recreates its objects)'
      : '# Full restore (the database must be empty: this dump does not drop existing objects)',
    `${psql} ${database.current} < ${shellWord(file)}`,
    '',
    '# Or restore to a new database first',
    createdb,
    ...(database.note ? [database.note] : []),
    `${psql} ${database.fresh} < ${shellWord(file)}`,
  ];
}

// --- Helpers ----------------------------------------------------------------

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

function stringOption(step: LoadedStep, name: string): string {
  const value = step.options[name];
  return typeof value === 'string' ? value : '';
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
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

const PLAIN_WORD = /^[\w@%+=:,./-]+$/;

/** A value as one shell word: as is when safe, else single-quoted. */
function shellWord(value: string): string {
  return PLAIN_WORD.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
