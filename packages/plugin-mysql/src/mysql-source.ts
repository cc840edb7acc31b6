import {
  BackupctlError,
  ErrorCodes,
  type PluginContext,
  type SkipDecision,
  type SourceInstance,
  type SourceManifest,
  type SourceStream,
} from '@backupctl/plugin-api';
import { connectWithRetry, type Sleep } from './connect-with-retry.js';
import { readGrants, silentlyMissing } from './dump-privileges.js';
import { describeSettings, parseConnectionUrl } from './connection-url.js';
import { buildDumpArgs } from './dump-args.js';
import { countingStream, DumpRowCounter } from './dump-row-counter.js';
import { requireTool } from './find-tool.js';
import { tryLockJob, type JobLock } from './job-lock.js';
import { connectClient, endQuietly, type Connection } from './mysql-client.js';
import { createRestoreCapability, type RestoreContext } from './mysql-restore.js';
import { writeOptionFile, type OptionFile } from './option-file.js';
import { listServerDatabases, readDatabaseSize, readServerVersion } from './server-queries.js';
import { describeVersion, type EngineVersion } from './server-version.js';
import { spawnDump, type RunningDump } from './spawn-dump.js';
import { dumpUsers, usersStream } from './users-dump.js';
import { wholeServerParts, type WholeServerOptions } from './whole-server.js';
import { wholeServerRestore } from './whole-server-restore.js';

/** The plugin's options, as the schema in index.ts validates and defaults them. */
export interface MysqlSourceOptions extends WholeServerOptions {
  url: string;
  retryAttempts: number;
  retryDelaySeconds: number;
  dumpPath: string;
  args: string[];
  lock?: boolean;
  manifest?: boolean;
}

/** Seams for tests; production uses the defaults. */
export interface MysqlSourceDependencies {
  sleep?: Sleep;
  /** The environment the tools inherit and MYSQLDUMP_PATH / MYSQL_CLIENT_PATH / PATH are read from. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The mysql source (MySQL 8, MariaDB 10.6+): registers the password as a
 * secret and names the artifact at once; `open` connects (with retries),
 * picks a dump tool able to dump the server, and streams its output,
 * counting each table's rows on the way for the manifest.
 */
export function createMysqlSource(options: MysqlSourceOptions, context: PluginContext, dependencies: MysqlSourceDependencies = {}): SourceInstance {
  context.secrets.add(options.url);
  const settings = parseConnectionUrl(options.url);
  for (const secret of settings.secrets) context.secrets.add(secret);
  context.artifact.extension = '.sql';
  context.artifact.contentType = 'application/sql';
  const dumpsUsers = options.dump === 'users';
  const target = describeSettings(settings);
  const { logger } = context;
  let dump: RunningDump | undefined;
  let lock: JobLock | undefined;
  let optionFile: OptionFile | undefined;

  const connect = (signal: AbortSignal, database = settings.database, attempts = options.retryAttempts) =>
    connectWithRetry(() => connectClient(settings, signal, database), {
      attempts,
      delaySeconds: options.retryDelaySeconds,
      target,
      logger,
      signal,
      sleep: dependencies.sleep,
    });

  const restoreContext: RestoreContext = {
    url: options.url,
    settings,
    retryAttempts: options.retryAttempts,
    retryDelaySeconds: options.retryDelaySeconds,
    context,
    env: dependencies.env,
  };
  const restoreCapability = createRestoreCapability(restoreContext);
  const { createScratch, countRows } = restoreCapability;

  /** The server's version, and the database's size (which the sink plans its upload with). */
  async function readServerFacts(connection: Connection): Promise<EngineVersion> {
    try {
      const version = await readServerVersion(connection);
      if (!dumpsUsers) context.artifact.expectedSize = await readDatabaseSize(connection, settings.database);
      return version;
    } catch (error) {
      throw new BackupctlError(ErrorCodes.SOURCE_FAILED, `could not read the server version of ${target}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** One warning when the account's grants let the dump tool leave triggers or routines out without an error (dump-privileges.ts). */
  async function warnAboutSilentGaps(connection: Connection, server: EngineVersion): Promise<void> {
    const grants = await readGrants(connection).catch(() => undefined);
    const missing = grants === undefined ? [] : silentlyMissing(grants, settings.database, server);
    if (missing.length) {
      logger.warn(`The account may not read the ${missing.join(' or ')} of ${target}: the dump tool leaves them out without an error`);
    }
  }

  /** The users part: accounts and grants read over the connection, as SQL (users-dump.ts). */
  async function openUsers(connection: Connection, server: EngineVersion): Promise<SourceStream> {
    let dumped: Awaited<ReturnType<typeof dumpUsers>>;
    try {
      dumped = await dumpUsers(connection);
    } catch (error) {
      throw new BackupctlError(ErrorCodes.SOURCE_FAILED, `could not read the accounts of ${target}: ${(error as Error).message}`, {
        hint: 'the users part needs SELECT on mysql.user (and mysql.* for SHOW GRANTS of other accounts)',
        cause: error,
      });
    }
    logger.info(`Read ${dumped.accounts} account${dumped.accounts === 1 ? '' : 's'} and their grants`);
    return {
      stream: usersStream(dumped.sql),
      done: Promise.resolve(),
      manifest: async () => ({ engine: server.flavor, serverVersion: server.text, format: 'SQL (accounts and grants)' }),
    };
  }

  return {
    restore: restoreCapability.restore,
    // The users part holds no tables: it restores, but cannot be verified in a scratch database.
    ...(dumpsUsers ? {} : { createScratch, countRows }),
    // Whole servers: a part restores into the target's server, into its own database (or, for users, the server).
    ...(options.dump ? wholeServerRestore(options.dump, restoreCapability, restoreContext) : {}),

    async expand(signal, known) {
      return wholeServerParts(options as MysqlSourceOptions & Record<string, unknown>, settings.database, async () => {
        const connection = await connect(signal, '');
        try {
          return await listServerDatabases(connection);
        } finally {
          await endQuietly(connection);
        }
      }, known);
    },

    // Two runs of one job at once must not both back up: the first takes
    // GET_LOCK on a connection of its own, held until close(), so a crash
    // frees it too; the other skips as busy (taken, not done), so a worker
    // sharing the server's databases comes back to it.
    async beforeRun(signal): Promise<SkipDecision | undefined> {
      if (options.lock === false) return undefined;
      lock = await tryLockJob(await connect(signal, ''), settings.database, context.job);
      if (!lock) return { skip: true, busy: true, reason: `another backup of this database is in progress (${target}, job ${context.job})` };
      logger.debug(`Holding lock ${lock.name} on ${target}`);
      return undefined;
    },

    async check() {
      const connection = await connect(context.signal, settings.database, 1);
      try {
        await connection.query('SELECT 1');
      } finally {
        await endQuietly(connection);
      }
    },

    async open(signal): Promise<SourceStream> {
      const connection = await connect(signal, dumpsUsers ? '' : settings.database);
      let server: EngineVersion;
      try {
        server = await readServerFacts(connection);
        logger.info(`Connected to ${describeVersion(server)} at ${target}`);
        if (dumpsUsers) return await openUsers(connection, server);
        await warnAboutSilentGaps(connection, server);
      } finally {
        await endQuietly(connection);
      }
      const tool = await requireTool('dump', server, target, { explicitPath: options.dumpPath, env: dependencies.env });
      if (tool.version && tool.version.flavor !== server.flavor) logger.debug(`Dumping ${describeVersion(server)} with ${describeVersion(tool.version)}'s ${tool.name}`);
      const dumpTool = tool.version ? `${tool.name} ${tool.version.text}` : tool.name;
      logger.debug(`Using ${dumpTool} at ${tool.path}`);
      optionFile = await writeOptionFile(settings);
      const counter = options.manifest === false ? undefined : new DumpRowCounter();
      dump = spawnDump({
        binary: tool.path,
        name: tool.name,
        args: [optionFile.argument, ...buildDumpArgs(settings.database, options.args, tool.version, server)],
        env: dependencies.env ?? process.env,
        target,
        logger,
        signal,
        secrets: settings.secrets,
      });
      const running = dump;
      // The option file is read when the tool starts; it goes once the tool ended, whatever the outcome.
      const file = optionFile;
      running.done.then(() => file.remove(), () => file.remove()).catch(() => {});
      return {
        stream: counter ? running.stream.pipe(countingStream(counter)) : running.stream,
        done: running.done,
        async manifest(): Promise<SourceManifest> {
          await running.done;
          return {
            engine: server.flavor,
            serverVersion: server.text,
            dumpTool,
            ...(context.artifact.expectedSize === undefined ? {} : { databaseSize: context.artifact.expectedSize }),
            format: 'SQL',
            ...(counter ? { tables: { ...counter.counts }, rowCounts: 'exact' as const, countedBy: "counted in the dump's INSERT statements" } : {}),
          };
        },
      };
    },

    async close() {
      dump?.stop();
      await optionFile?.remove();
      await lock?.release();
      lock = undefined;
    },
  };
}
