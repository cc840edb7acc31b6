import type { Client } from 'pg';
import {
  BackupctlError,
  ErrorCodes,
  type PluginContext,
  type SkipDecision,
  type SourceInstance,
  type SourceStream,
} from '@backupctl/plugin-api';
import { tryLockJob, type JobLock } from './advisory-lock.js';
import { connectWithRetry, type Sleep } from './connect-with-retry.js';
import { describeSettings, parseConnectionUrl } from './connection-url.js';
import { buildDumpArgs, dumpOption, type DumpFormat } from './dump-args.js';
import { readToolVersion, requirePgTool } from './find-pg-tool.js';
import { childEnv, toLibpqEnv } from './libpq-env.js';
import { connectClient } from './pg-client.js';
import { readDatabaseSize } from './database-size.js';
import { backupManifest } from './manifest/backup-manifest.js';
import { shareDumpSnapshot, type DumpSnapshot } from './manifest/dump-snapshot.js';
import { countInDumpSnapshot, countInPlainDump, type TableCounting } from './manifest/table-counting.js';
import { spawnPgDump, type RunningDump } from './pg-dump.js';
import type { PostgresVersion } from './server-version.js';
import { createRestoreCapability } from './postgres-restore.js';
import { readServerVersion as queryServerVersion } from './target-database.js';
import { listExtensionTables } from './row-counts.js';
import { buildGlobalsArgs, listServerDatabases, wholeServerParts, type WholeServerOptions } from './whole-server.js';
import { wholeServerRestore } from './whole-server-restore.js';

/** The plugin's options, as the schema in index.ts validates and defaults them. */
export interface PostgresSourceOptions extends WholeServerOptions {
  url: string;
  format: DumpFormat;
  retryAttempts: number;
  retryDelaySeconds: number;
  pgDumpPath: string;
  args: string[];
  /** Hold an advisory lock on the database for the job's run (default true). */
  lock?: boolean;
  /** Count the tables' rows for the manifest (default true). */
  manifest?: boolean;
}

/** Seams for tests; production uses the defaults. */
export interface PostgresSourceDependencies {
  sleep?: Sleep;
  /** Where versioned client directories are searched (default /usr/lib/postgresql). */
  searchRoots?: readonly string[];
  /** The environment pg_dump inherits (without PG*) and PG_DUMP_PATH / PATH are read from. */
  env?: NodeJS.ProcessEnv;
}

/** What each format stores: the object's extension and type, and its name in the manifest. */
const ARTIFACTS: Record<DumpFormat, { extension: string; contentType: string; name: string }> = {
  plain: { extension: '.sql', contentType: 'application/sql', name: 'plain SQL' },
  custom: { extension: '.dump', contentType: 'application/octet-stream', name: 'custom archive' },
};

/**
 * The postgres source: checks the options, registers the password as a
 * secret and names the artifact at once; `open` connects (with retries),
 * picks a pg_dump able to dump the server and streams its output.
 */
export function createPostgresSource(
  options: PostgresSourceOptions,
  context: PluginContext,
  dependencies: PostgresSourceDependencies = {},
): SourceInstance {
  context.secrets.add(options.url);
  const settings = parseConnectionUrl(options.url);
  for (const secret of settings.secrets) context.secrets.add(secret);
  const args = buildDumpArgs(options.format, options.args);
  // Whole servers: the globals part is pg_dumpall's plain SQL, whatever the format.
  const dumpsGlobals = options.dump === 'globals';
  const artifact = ARTIFACTS[dumpsGlobals ? 'plain' : options.format];
  context.artifact.extension = artifact.extension;
  context.artifact.contentType = artifact.contentType;

  const target = describeSettings(settings);
  // The lock's server: url's, or lockUrl's (a primary, while dumping from a replica).
  const lockSettings = options.lockUrl ? parseConnectionUrl(options.lockUrl) : settings;
  if (options.lockUrl) {
    context.secrets.add(options.lockUrl);
    for (const secret of lockSettings.secrets) context.secrets.add(secret);
  }
  const lockTarget = describeSettings(lockSettings);
  const { logger } = context;
  let dump: RunningDump | undefined;
  let lock: JobLock | undefined;
  let counting: TableCounting | undefined;

  const connect = (signal: AbortSignal) =>
    connectWithRetry(() => connectClient(settings, signal), {
      attempts: options.retryAttempts,
      delaySeconds: options.retryDelaySeconds,
      target,
      logger,
      signal,
      sleep: dependencies.sleep,
    });

  /** The server's version, and the database's size (which the sink plans its upload with), on `client`. */
  async function readServerFacts(client: Client): Promise<PostgresVersion> {
    try {
      const version = await queryServerVersion(client);
      if (!dumpsGlobals) context.artifact.expectedSize = await readDatabaseSize(client, logger);
      return version;
    } catch (error) {
      throw new BackupctlError(ErrorCodes.SOURCE_FAILED, `could not read the server version of ${target}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * How the manifest's tables are counted, on the connection `open` made: a
   * plain dump in its own bytes (the extensions' tables, asked here, left
   * out); a custom archive (compressed) by count(*) in the snapshot pg_dump
   * dumps, shared in a transaction on that connection, which the counting
   * then owns (`owned`). Failing to share it leaves the backup without
   * counts, never without a backup.
   */
  async function startTableCounting(client: Client, signal: AbortSignal): Promise<{ counting: TableCounting; owned: boolean }> {
    if (options.format === 'plain') return { counting: countInPlainDump(await listExtensionTables(client)), owned: false };
    let snapshot: DumpSnapshot | { failed: unknown };
    try {
      snapshot = await shareDumpSnapshot(client, {
        imported: dumpOption(args, 'snapshot') || undefined,
        serializableDeferrable: dumpOption(args, 'serializable-deferrable') !== undefined,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      snapshot = { failed: error };
    }
    return { counting: countInDumpSnapshot(snapshot, signal), owned: !('failed' in snapshot) };
  }

  const restoreContext = {
    url: options.url,
    settings,
    retryAttempts: options.retryAttempts,
    retryDelaySeconds: options.retryDelaySeconds,
    context,
    env: dependencies.env,
    searchRoots: dependencies.searchRoots,
  };
  const restoreCapability = createRestoreCapability(restoreContext);

  // The globals part (roles, tablespaces) is server-wide and has no tables:
  // it restores, but cannot be verified in a scratch database.
  const { createScratch, countRows } = restoreCapability;
  return {
    // restore, createScratch, countRows (backupctl restore / verify): postgres-restore.ts.
    restore: restoreCapability.restore,
    ...(dumpsGlobals ? {} : { createScratch, countRows }),
    // Whole servers: a part restores into the target's server, into its own database (or, for globals, `postgres`).
    ...(options.dump ? wholeServerRestore(options.dump, restoreCapability, restoreContext) : {}),

    // Whole servers (databases, globals): one part per database, globals first; whole-server.ts.
    async expand(signal, known) {
      return wholeServerParts(options as PostgresSourceOptions & Record<string, unknown>, settings.database, async () => {
        const client = await connect(signal);
        try {
          return await listServerDatabases(client);
        } finally {
          await client.end().catch(() => {});
        }
      }, known);
    },

    // Two runs of one job at once (a container restarted twice) must not
    // both back up: the first takes the lock, the other skips. Held on its
    // own connection until close(), so a crash frees it too.
    async beforeRun(signal): Promise<SkipDecision | undefined> {
      if (options.lock === false) return undefined;
      const client = options.lockUrl
        ? await connectWithRetry(() => connectClient(lockSettings, signal), {
            attempts: options.retryAttempts,
            delaySeconds: options.retryDelaySeconds,
            target: lockTarget,
            logger,
            signal,
            sleep: dependencies.sleep,
          })
        : await connect(signal);
      lock = await tryLockJob(client, context.job);
      if (!lock) return { skip: true, busy: true, reason: `another backup of this database is in progress (${lockTarget}, job ${context.job})` };
      logger.debug(`Holding advisory lock ${lock.key} on ${lockTarget}`);
      return undefined;
    },

    async check() {
      const client = await connectWithRetry(() => connectClient(settings, context.signal), {
        attempts: 1,
        delaySeconds: 0,
        target,
        logger,
        signal: context.signal,
      });
      try {
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => {});
      }
    },

    async open(signal): Promise<SourceStream> {
      // One connection for what the run asks the server: versions, size, and what the manifest's counting needs.
      const client = await connect(signal);
      let watching: TableCounting | undefined;
      let server: PostgresVersion;
      let dumpTool: string;
      let tool: Awaited<ReturnType<typeof requirePgTool>>;
      let clientOwned = false;
      try {
        server = await readServerFacts(client);
        logger.info(`Connected to PostgreSQL ${server.text} at ${target}`);
        // Whole servers: the globals part runs pg_dumpall (found like pg_dump; PG_DUMPALL_PATH names one).
        const toolName = dumpsGlobals ? 'pg_dumpall' : 'pg_dump';
        tool = await requirePgTool(toolName, server, target, {
          explicitPath: dumpsGlobals ? '' : options.pgDumpPath,
          env: dependencies.env,
          searchRoots: dependencies.searchRoots,
        });
        logger.debug(`Using ${toolName} ${tool.version?.text ?? '(version unknown)'} at ${tool.path}`);
        // Asked before the dump starts (once per process), so no other pg_dump runs beside it.
        const toolVersion = await readToolVersion(tool);
        dumpTool = toolVersion === undefined ? toolName : `${toolName} ${toolVersion}`;
        // The globals part holds no tables.
        if (!dumpsGlobals && options.manifest !== false) {
          const started = await startTableCounting(client, signal);
          watching = started.counting;
          clientOwned = started.owned;
        }
      } finally {
        if (!clientOwned) await client.end().catch(() => {});
      }
      counting = watching;
      try {
        dump = spawnPgDump({
          binary: tool.path,
          args: dumpsGlobals ? buildGlobalsArgs(settings.database, options.globalsWithPasswords === true) : (watching?.dumpArgs(args) ?? args),
          env: childEnv(toLibpqEnv(settings), dependencies.env),
          target,
          logger,
          signal,
          secrets: settings.secrets,
        });
      } catch (error) {
        await watching?.release();
        throw error;
      }
      const running = dump;
      return {
        stream: watching === undefined ? running.stream : watching.watch(running.stream),
        done: running.done,
        async manifest() {
          await running.done;
          return backupManifest({
            serverVersion: server.text,
            dumpTool,
            databaseSize: context.artifact.expectedSize,
            format: artifact.name,
            counting: watching,
            logger,
          });
        },
      };
    },

    async close() {
      dump?.stop();
      await counting?.release();
      await lock?.release();
      lock = undefined;
    },
  };
}
