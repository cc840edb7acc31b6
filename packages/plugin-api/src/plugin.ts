import type { Duplex, Readable } from 'node:stream';
import type { Static, TObject } from '@sinclair/typebox';
import type { Logger, PluginContext } from './context.js';
import type { Store } from './store.js';
import type { Notification } from './notification.js';

/** The plugin API this backupctl serves. A plugin declaring another version is refused. */
export const API_VERSION = 1;

export type PluginKind = 'source' | 'transform' | 'sink' | 'hook';

/** Members every instance may have. */
export interface Lifecycle {
  /** Connectivity only (reach the database, the bucket); used by `validate --connect`. */
  check?(): Promise<void>;
  /** Always runs once the job ends, in reverse creation order, with the job's error if it failed. */
  close?(error?: unknown): Promise<void>;
}

/** What a source's `open` returns. */
export interface SourceStream {
  /** The backup bytes. */
  stream: Readable;
  /**
   * Settles when the producer has really finished: resolves on success
   * (e.g. pg_dump exited 0), rejects otherwise. backupctl commits nothing
   * before it resolves, so a stream that merely ended is never taken as a
   * whole backup.
   */
  done: Promise<void>;
  /**
   * What the backup holds, as the source saw it while producing it: called
   * once `done` resolved, before anything is recorded. backupctl stores it as
   * `metadata/manifests/<key>.json`, `verify` compares a restore with it and
   * the anomaly guard compares it with the previous backup's. Optional: a
   * source without it still backs up; `verify` then compares with the live
   * database.
   */
  manifest?(): Promise<SourceManifest>;
}

/**
 * What a backup holds (a source's `SourceStream.manifest`). Row counts are
 * of the backup itself (counted as the bytes streamed past, or in the dump's
 * own snapshot), never of the database a moment later.
 */
export interface SourceManifest {
  /** The engine, e.g. `PostgreSQL`. */
  engine: string;
  /** The server's version, e.g. `15.8`. */
  serverVersion?: string;
  /** The dump tool and its version, e.g. `pg_dump 15.8`. */
  dumpTool?: string;
  /** The database's size on the server when the dump started, in bytes. */
  databaseSize?: number;
  /** The backup's format, e.g. `plain SQL`. */
  format?: string;
  /**
   * Rows of every table the backup holds, by qualified name (`public.users`),
   * as `countRows` names them after a restore, so the two compare. A table
   * the backup holds without rows is listed with 0. Undefined when the
   * source cannot tell.
   */
  tables?: RowCounts;
  /**
   * How exact `tables` is: `exact` (counted from the backup's own bytes or
   * in the dump's snapshot: any difference after a restore is a defect) or
   * `estimated` (statistics: verify then fails only on a table missing from
   * the restore). Absent: exact. Key and cover tables exactly as your
   * `countRows` does after a restore (the postgres source: partitions one
   * by one, each table's own rows, extensions' tables left out).
   */
  rowCounts?: 'exact' | 'estimated';
  /** How the counts were taken, one line for `inspect`, e.g. `counted in the dump's COPY blocks`. */
  countedBy?: string;
}

/**
 * A source: required `open`, optional `beforeRun`. What else a source can do
 * is a named capability below (restore, verify, parts), each with one guard
 * that every caller uses, so a third-party source is recognised by what it
 * implements, the same way as the official one.
 */
export interface SourceInstance extends Lifecycle, Partial<RestoreCapability>, Partial<VerifyCapability>, Partial<PartsCapability> {
  /**
   * Runs first, before every hook's `beforeRun`. A source uses it to make
   * the job exclusive (the postgres source takes an advisory lock on the
   * database, held until `close`), and answers a skip when another run
   * holds it.
   */
  beforeRun?(signal: AbortSignal): Promise<SkipDecision | void>;
  open(signal: AbortSignal): Promise<SourceStream>;
}

/** Capability: the source can restore its backups (`backupctl restore`). */
export interface RestoreCapability {
  /**
   * Restores a backup (`backupctl restore`, `verify`). `input` is the stored
   * object already decoded (every transform's inverse applied). It ends only
   * after every check of the stored bytes passed (SHA-256, gzip's CRC); when
   * one fails it errors instead. So commit nothing before `input` ended, and
   * on an error or an aborted signal roll back, leave the target as it was
   * and reject. An engine that cannot roll back (one whose DDL commits
   * implicitly, as MySQL's) restores only into a target it may throw away
   * (one it created, one that was empty, or one `replace` let it empty
   * first), drops or empties it again on any failure, and says so in its
   * log. A source without it cannot be restored by backupctl.
   * backupctl calls it only once the backup was found and its record read
   * (the object already being fetched), so a missing backup never reaches
   * the target: ready the target here (create it, check what it holds),
   * e.g. while the first bytes arrive.
   */
  restore(input: Readable, target: RestoreTarget, signal: AbortSignal): Promise<RestoreResult>;
}

/** Capability: `backupctl verify` (with RestoreCapability): a scratch database to restore into, and exact row counts to compare. */
export interface VerifyCapability {
  /**
   * Creates an empty database to restore into for `verify`: on the source's
   * own server, or on the server `target.url` names. The caller always calls
   * `drop()`, also after a failure.
   */
  createScratch(target: { url?: string }, signal: AbortSignal): Promise<ScratchDatabase>;
  /**
   * The exact row count of every user table of a database: the source's own,
   * or the one `target.url` names (a scratch database). `verify` compares the
   * two.
   */
  countRows(target: { url?: string }, signal: AbortSignal): Promise<RowCounts>;
}

/** Capability: the source stands for several parts (a whole server's databases), each backed up as its own sub-job. */
export interface PartsCapability {
  /**
   * Whole servers: a source that stands for several databases (the postgres
   * source's `databases: all`) returns one part per database, and one for
   * what the server holds outside them (`globals`). backupctl then runs
   * each part as its own sub-job, in the order returned (so globals come
   * first), and `restore` restores them in that order. `undefined` or `[]`:
   * no expansion, the job runs as it is.
   *
   * `known` (restore, ls): the part names found in the store. Return the
   * parts for exactly those names without checking the source: the
   * databases may be gone, which is why one restores. A source that does
   * not expand returns `undefined` whatever `known` holds, so backupctl
   * asks with `[]` first and reads the store only for one that does.
   */
  expand(signal: AbortSignal, known?: readonly string[]): Promise<SourcePart[] | undefined>;
}

/** True when the source can restore (RestoreCapability). */
export function canRestore(source: SourceInstance): source is SourceInstance & RestoreCapability {
  return typeof source.restore === 'function';
}

/** True when the source can be verified: it restores, makes scratch databases and counts rows. */
export function canVerify(source: SourceInstance): source is SourceInstance & RestoreCapability & VerifyCapability {
  return canRestore(source) && typeof source.createScratch === 'function' && typeof source.countRows === 'function';
}

/** True when the source may stand for several parts (PartsCapability); it may still answer with none. */
export function hasParts(source: SourceInstance): source is SourceInstance & PartsCapability {
  return typeof source.expand === 'function';
}

/** One part of an expanding source: its own sub-job, named after the part. */
export interface SourcePart {
  /** The sub-job's name (a database's name, or `globals`): its objects go under `<prefix><name>/`. */
  name: string;
  /** The source options of this part, checked against the plugin's schema again. */
  options: Record<string, unknown>;
}

/** Where and how a source restores a backup. */
export interface RestoreTarget {
  /** The database to restore into, as the source's plugin understands it (a connection URL). Default: the source's own. */
  url?: string;
  /** Create the target database first (it must not exist yet). */
  create: boolean;
  /**
   * Replace what the target already holds (`--yes`). Without it a target that
   * has tables is refused, with a message saying what would be overwritten.
   * Where the engine allows, in the restore's own transaction (a failed
   * restore keeps the old data); otherwise emptied first (see `restore`).
   */
  replace: boolean;
  /**
   * Restore into exactly the database `url` names. Set by `verify`, whose
   * scratch database stands in for the real one: a part of a whole-server
   * job otherwise goes to the database of its own name on `url`'s server.
   */
  exactDatabase?: boolean;
}

/** What a source reports once a restore committed. */
export interface RestoreResult {
  /** The target as logs may show it (`host:port/database`): never credentials. */
  target: string;
  /** The restore's format, e.g. `plain SQL (psql)` or `custom archive (pg_restore)`. */
  format: string;
  /** Tables that were dropped and replaced (only with `replace`). */
  replaced: string[];
}

/** A throwaway database for `verify`. */
export interface ScratchDatabase {
  /** How `restore` and `countRows` reach it (a connection URL: may hold a password, never print it). */
  url: string;
  /** The database as logs may show it (`host:port/database`). */
  target: string;
  /** Removes it, ending its connections. Safe to call twice. */
  drop(): Promise<void>;
}

/** Exact row counts by qualified table name (`public.users`). */
export type RowCounts = Record<string, number>;

export interface TransformInstance extends Lifecycle {
  /** The forward direction used when backing up (compress, encrypt). A new stream on each call. */
  encode(): Duplex;
  /** The inverse used when restoring (decompress, decrypt). A new stream on each call. */
  decode(): Duplex;
}

/** What a sink reports once the object is committed. */
export interface WrittenObject {
  key: string;
  /** Bytes stored. */
  size: number;
}

/**
 * A sink writes the stream and is also the store it writes to.
 * `write` must make the object visible only when the stream ends without
 * error, and must leave nothing behind (abort the upload, remove the temp
 * file) when the stream errors or the signal aborts.
 */
export interface SinkInstance extends Store, Lifecycle {
  write(stream: Readable, name: string, signal: AbortSignal): Promise<WrittenObject>;
}

/** A committed backup, as hooks and the CLI see it. */
export interface Artifact {
  job: string;
  key: string;
  /** Bytes stored (after transforms). */
  size: number;
  /** Bytes the source produced (before transforms). */
  sourceSize: number;
  /** SHA-256 of the stored bytes, hex. */
  sha256: string;
  startedAt: Date;
  finishedAt: Date;
  /** What the backup holds, when the source provides it (SourceStream.manifest). */
  manifest?: SourceManifest;
  /** Set when the anomaly guard flagged this backup against the previous one. */
  anomaly?: Anomaly;
}

/** Why the anomaly guard flagged a backup (see the job's `anomaly:` settings). */
export interface Anomaly {
  /** The backup it was compared with. */
  previousKey: string;
  /** One line each, e.g. `stored size shrank by 62% (1.2 GiB -> 460 MiB)`, `public.orders: 10400 rows -> empty`. */
  reasons: string[];
  /** True when older backups are held by retention until someone accepts it (`backupctl accept`). */
  held: boolean;
}

/** What a verification found: restored, counted, compared (`metadata/verified/<key>.json`). */
export interface Verification {
  key: string;
  job: string;
  /** `passed`: every table as expected; `failed`: a difference, or the backup did not restore. */
  result: 'passed' | 'failed';
  /** What the restore was compared with: the backup's manifest, or the live database (no manifest, or --against-source). */
  against: 'manifest' | 'source';
  /** When it ended (ISO 8601). */
  verifiedAt: string;
  /** Where it was restored (`host:port/database`, never credentials). */
  where?: string;
  /** The whole verification, and the restore alone (what a real recovery of this backup takes). */
  durationMs: number;
  restoreMs?: number;
  /** Tables that differ (all of them in the record; the first few in messages). */
  differences: { table: string; expected?: number; restored?: number }[];
  /** How many tables were compared. */
  tables: number;
  /** Why it failed when it did not get as far as comparing (a checksum mismatch, a restore error). */
  error?: { code: string; message: string };
}

/** What every hook call receives. */
export interface HookRun {
  job: string;
  /** The job's label (`title:` in the file, e.g. `Clara DB`); backupctl always sets it. */
  title?: string;
  /**
   * How the job names its objects (`name:` in the file, default
   * `{job}_{timestamp}{ext}`), so hooks can tell its backups from other
   * objects; see backupNameMatcher. backupctl always sets it.
   */
  nameTemplate?: string;
  /**
   * What fills `{ext}` in this pipeline (`.sql.gz`): an object named by the
   * template with another extension is the job's only when backupctl
   * recorded writing it (see listJobBackups). backupctl always sets it.
   */
  extension?: string;
  /** The job's sink, as a store. */
  store: Store;
  logger: Logger;
  signal: AbortSignal;
  /** When the run started; hooks use it instead of the clock so a run is consistent. */
  now: Date;
  /**
   * Verifies one of the job's backups now (as `backupctl verify --key`):
   * restores it into a scratch database (on `scratchUrl`'s server, or the
   * source's) with fresh instances of the job's stages, compares it with its
   * manifest (without one: the live database, failing only on a missing
   * table, unless `againstSource`), records the result and resolves with it:
   * differing counts and a damaged object resolve with `result: failed`. It
   * rejects when it could not verify (the store or the scratch server
   * failed, a restore error, the run cancelled); nothing is recorded then.
   * Failing the run on a failed result is the caller's choice (the built-in
   * `verify` hook throws VERIFY_FAILED). Set when the job's source can verify.
   */
  verify?(key: string, options?: { scratchUrl?: string; againstSource?: boolean }): Promise<Verification>;
}

/** `beforeRun` may answer this to skip the job (exit 0). */
export interface SkipDecision {
  skip: true;
  /** One line for the log: why, and when the next run is allowed. */
  reason: string;
  /**
   * The job is not done but taken: another run holds it right now (a
   * source's lock: postgres's advisory lock, mysql's GET_LOCK). A worker sharing a server's parts
   * with others (`backupctl run --worker`) comes back to it after the rest,
   * and backs it up if that run died before its backup was recorded.
   */
  busy?: boolean;
}

/**
 * Hooks attached to a sink. Order: every `beforeRun` in file order (the
 * first skip wins and stops the rest), then the pipeline, then on success
 * every `afterCommit` in file order, or on failure every `onError` in file
 * order. `close` always runs last, in reverse order.
 */
export interface HookInstance extends Lifecycle {
  beforeRun?(run: HookRun): Promise<SkipDecision | void>;
  afterCommit?(run: HookRun & { artifact: Artifact }): Promise<void>;
  onError?(run: HookRun & { error: unknown }): Promise<void>;
  /**
   * `backupctl prune`: applies now, without a backup, what this hook deletes
   * after a commit (retention does). With `dryRun`, logs what would go and
   * deletes nothing. A hook without it has nothing to prune.
   */
  prune?(run: HookRun & { dryRun: boolean }): Promise<PruneOutcome>;
  /**
   * Notifiers (see defineNotifier): one event of the job (a run's start and
   * result, a skip, a failed copy, an anomaly, a verification, staleness, a
   * test). Resolves true when it sent something, false when `on:` left the
   * event out; rejects when sending failed. backupctl bounds the wait and
   * turns a rejection into a warning: a notification never changes a
   * backup's result. Called for the notifiers under the job's `notify:` and
   * for any among a sink's hooks.
   */
  notify?(notification: Notification, signal: AbortSignal): Promise<boolean>;
  /** Where a notifier sends, for log lines (an origin, a host), never a credential. */
  target?: string;
}

/** What a hook's `prune` did. */
export interface PruneOutcome {
  /** Keys deleted (in a dry run: that would be), oldest first. */
  expired: string[];
  /** How many of the job's backups stay. */
  kept: number;
}

// --- restore-help ------------------------------------------------------------

/**
 * What `backupctl restore-help` tells a plugin about the step it describes
 * (see {@link RestoreHelpByKind}). Nothing is created or contacted: restore
 * help works from the pipeline file alone.
 */
export interface RestoreHelpContext<Options = Record<string, unknown>> {
  /**
   * The step's options, validated with defaults filled in, as `create` gets
   * them. They may hold secrets (passwords, keys, URLs with credentials):
   * inspect them, never print them; name them with {@link variable}. For the
   * source of a job skipped here (`requiresEnv` unmet) they did not pass the
   * schema, their variables being unset: read them defensively.
   */
  options: Options;
  /** The job, e.g. `clara`; for a part of a whole-server job (SourceInstance.expand), the part's name, e.g. `crm`. */
  job: string;
  /** Set for a part of a whole-server job: the name of the job in the file, e.g. `server`. */
  partOf?: string;
  /** The plugin as named in `use:`. */
  use: string;
  /** The step's path in the pipeline file, for messages, e.g. `jobs.clara.sink`. */
  path: string;
  /**
   * The environment variable an option is read from, when the pipeline file
   * writes its whole value as `${NAME}` (or `${NAME:-default}`): `url:
   * "${DATABASE_URL}"` -> `DATABASE_URL`. Commands refer to it (`"$DATABASE_URL"`)
   * instead of the value. Undefined when the option is written any other
   * way (a literal, text around the reference, or set by backupctl): then
   * print a placeholder (`"<URL of the clara database>"`), never the value.
   */
  variable(option: string): string | undefined;
}

/**
 * Shell lines for one thing a person does by hand, with what they are for.
 * Printed indented under the step's heading: `text` as a `# ` comment, then
 * the commands, each preceded by the `env` assignments.
 */
export interface RestoreHelpCommands {
  /** One paragraph (no newline) saying what the commands do or need, e.g. `Using the AWS CLI`. Printed as a `# ` comment above them. */
  text?: string;
  /**
   * Variables the commands' program reads, each set from the variable the
   * pipeline reads the value from: `{ AWS_ACCESS_KEY_ID: 'S3_ACCESS_KEY' }`
   * prints `AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" \` on the line before each
   * command. Variable names on both sides (letters, digits, `_`), never
   * values; entries that are not are left out.
   */
  env?: Readonly<Record<string, string>>;
  /**
   * Shell lines, run in order in the directory the backup is downloaded to.
   * Quote every word that comes from a key or an option with `shellWord`. A
   * line starting with `#` is a comment (a warning, a credential note); one
   * command continued over several lines is one entry with ` \` and a
   * newline inside: `'aws s3 cp s3://b/k . \\\n  --endpoint-url=...'`.
   */
  commands: readonly string[];
}

/** A sink's part of restore-help: step 1, getting the stored object. */
export interface SinkRestoreHelp<Options = Record<string, unknown>> {
  /**
   * How to copy the stored object `key` into the current directory, as
   * `file` (the key's last segment), e.g. `aws s3 cp s3://bucket/<key> .`
   * or `cp /srv/backups/<key> .`. Credentials only as `env` or `$VARIABLE`
   * references.
   */
  download(object: { key: string; file: string }, context: RestoreHelpContext<Options>): RestoreHelpCommands;
}

/** A transform's part of restore-help: undoing it by hand on the downloaded file (the transforms are undone last first). */
export interface TransformRestoreHelp<Options = Record<string, unknown>> {
  /** The step's heading, a verb: `Decompress`, `Decrypt`. */
  title: string;
  /**
   * How to undo the transform on `file` (what the previous step left, e.g.
   * `clara_20260201_030000.sql.gz`), and the `file` that leaves
   * (`clara_20260201_030000.sql`), which the next step gets.
   */
  undo(file: string, context: RestoreHelpContext<Options>): RestoreHelpCommands & { file: string };
}

/** What a source says about loading a decoded backup by hand. */
export interface SourceRestoreSteps {
  /**
   * The ways to load the file, printed in order with a blank line between:
   * the first into the job's own target, saying what it overwrites (`Full
   * restore (WARNING: ...)`), then, say, into a new target first.
   */
  ways: readonly RestoreHelpCommands[];
  /**
   * A new target for `backupctl restore <job> --key <key> --target-url <it>
   * --create`, as one shell word that holds no secret: a variable
   * reference (`"${DATABASE_URL%/*}/clara_restore"`) or a placeholder
   * (`"<URL of the new clara_restore database>"`). Without it that line is
   * left out.
   */
  newTarget?: string;
}

/** A source's part of restore-help: the last step, loading what the transforms' undoing left. */
export interface SourceRestoreHelp<Options = Record<string, unknown>> {
  /** How to load `file` (e.g. `clara_20260201_030000.sql`) into the job's target, or a new one. */
  load(file: string, context: RestoreHelpContext<Options>): SourceRestoreSteps;
}

/**
 * `restoreHelp` by kind: what `backupctl restore-help` prints for a step
 * comes from its plugin, so a third-party sink or transform gets the same
 * manual steps as the official ones. Hooks have none.
 */
export interface RestoreHelpByKind<Options = Record<string, unknown>> {
  source: SourceRestoreHelp<Options>;
  transform: TransformRestoreHelp<Options>;
  sink: SinkRestoreHelp<Options>;
  hook: never;
}

export interface PluginInstances {
  source: SourceInstance;
  transform: TransformInstance;
  sink: SinkInstance;
  hook: HookInstance;
}

/**
 * The JSON Schema of a plugin's `with:` options, built with TypeBox's
 * `Type.Object(...)` (re-exported as `Type`), so the options' TypeScript type
 * is inferred from it rather than written twice.
 */
export type OptionsSchema = TObject;

export interface PluginDefinition<K extends PluginKind = PluginKind, Options = unknown> {
  /** The plugin API the plugin was written for; see API_VERSION. */
  apiVersion: number;
  /** Short name, e.g. `postgres`. */
  name: string;
  kind: K;
  /** One line for `backupctl plugins` and docs. */
  description?: string;
  /** JSON Schema of `with:`. Give every option a `description` and, where sensible, a `default`. */
  schema: OptionsSchema;
  /**
   * Problems with the options that the schema cannot express (a password
   * without a user, a certificate file that cannot be read), as one line;
   * called when the pipeline loads, after the schema passed, so they are
   * bad input (exit 2, `validate` reports them) rather than a failed run.
   * Keep it free of network I/O.
   */
  checkOptions?(options: Options): string | undefined;
  /** Called once per job, with options already validated and defaults filled in. */
  create(options: Options, context: PluginContext): PluginInstances[K] | Promise<PluginInstances[K]>;
  /**
   * Sinks: this sink's options for one part of a whole-server job (a
   * database), keeping its objects apart from the other parts' and from the
   * job's own, e.g. under `<prefix><part>/` (the store lists that prefix).
   * A sink without it cannot hold a job with parts.
   */
  partOptions?(options: Options, part: string): Options;
  /**
   * The most bytes one running instance holds in buffers of its own
   * (upload parts in flight, compression blocks), from its options: a run
   * with `concurrency` holds this once per backup in flight, and the
   * planner of `memoryBudgetMiB` adds it up to choose how many fit. Leave
   * it out when it is under 1 MiB (a stream's own buffers are counted by
   * backupctl). Keep it free of I/O.
   */
  bufferBytes?(options: Options): number;
  /**
   * The step's manual restore steps for `backupctl restore-help`: a sink's
   * `download`, a transform's `undo`, a source's `load` (see
   * {@link RestoreHelpByKind}). Plain functions of the options, called
   * without `create`: keep them free of I/O. Without it, restore-help
   * prints a generic line for the step ("with the tools of the ... sink",
   * "or use backupctl restore").
   */
  restoreHelp?: RestoreHelpByKind<Options>[K];
}

/**
 * Declares a plugin. An identity helper: it stamps the API version and
 * infers the options' type from the schema, so it is written once.
 *
 * @example
 * export default definePlugin({
 *   name: 'gzip', kind: 'transform',
 *   schema: Type.Object({ level: Type.Integer({ minimum: 0, maximum: 9, default: 6 }) }, { additionalProperties: false }),
 *   create: (options) => ({ encode: () => createGzip({ level: options.level }), decode: () => createGunzip() }),
 * });
 */
export function definePlugin<S extends OptionsSchema, K extends PluginKind>(definition: {
  name: string;
  kind: K;
  description?: string;
  apiVersion?: number;
  schema: S;
  checkOptions?(options: Static<S>): string | undefined;
  create(options: Static<S>, context: PluginContext): PluginInstances[K] | Promise<PluginInstances[K]>;
  partOptions?(options: Static<S>, part: string): Static<S>;
  bufferBytes?(options: Static<S>): number;
  restoreHelp?: RestoreHelpByKind<Static<S>>[K];
}): PluginDefinition<K, Static<S>> {
  return { ...definition, apiVersion: definition.apiVersion ?? API_VERSION };
}
