import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  BackupctlError,
  ErrorCodes,
  formatTimestamp,
  isBackupctlError,
  type PluginContext,
  type RestoreResult,
  type RestoreTarget,
  type RowCounts,
  type ScratchDatabase,
  type SourceInstance,
} from '@backupctl/plugin-api';
import { connectWithRetry } from './connect-with-retry.js';
import { describeSettings, MAX_DATABASE_NAME, parseConnectionUrl, urlWithDatabase, type ConnectionSettings } from './connection-url.js';
import { requireTool } from './find-tool.js';
import { connectClient, endQuietly, type Connection } from './mysql-client.js';
import { writeOptionFile } from './option-file.js';
import { runRestoreProcess } from './restore-process.js';
import {
  countTableRows,
  createDatabase,
  databaseExists,
  dropDatabase,
  listObjects,
  readDatabaseCharset,
  readServerVersion,
} from './server-queries.js';
import { describeVersion } from './server-version.js';

/** What restore needs from the source: its connection, retry options and seams. */
export interface RestoreContext {
  /** The source's own URL (secret) and its settings: the default target. */
  url: string;
  settings: ConnectionSettings;
  retryAttempts: number;
  retryDelaySeconds: number;
  context: PluginContext;
  /** The environment the client inherits and MYSQL_CLIENT_PATH / PATH are read from. */
  env?: NodeJS.ProcessEnv;
}

/** RESTORE_FAILED for whatever went wrong while reaching or changing a restore target. */
export function restoreFailed(error: unknown, what: string): BackupctlError {
  if (isBackupctlError(error)) {
    if (error.code !== ErrorCodes.SOURCE_FAILED) return error;
    // requireTool speaks as the source; here the tool is for a restore target.
    return new BackupctlError(ErrorCodes.RESTORE_FAILED, error.message, { hint: error.hint, cause: error.cause });
  }
  return new BackupctlError(ErrorCodes.RESTORE_FAILED, `${what}: ${(error as Error).message ?? String(error)}`, { cause: error });
}

/** `clara_verify_20260201_031500_k3x9`, cut to MySQL's 64 characters. */
export function scratchDatabaseName(database: string, now: Date, random = randomBytes(2).toString('hex')): string {
  const suffix = `_verify_${formatTimestamp(now)}_${random}`;
  return (database || 'backupctl').slice(0, MAX_DATABASE_NAME - suffix.length) + suffix;
}

/** `users, orders, view recent and 3 more` */
export function listSome(names: readonly string[], shown = 8): string {
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/**
 * The mysql source's restore side: `restore` into a new database
 * (`--create`) or an existing one (empty, or emptied with `--yes`), and for
 * `verify` a scratch database and exact row counts. MySQL and MariaDB
 * commit DDL implicitly, so a restore cannot be one transaction: a failed
 * restore drops the database it created, or empties the one it was given
 * (which was empty, or which --yes allowed to replace), leaving nothing half
 * restored behind.
 */
export function createRestoreCapability(source: RestoreContext): Required<Pick<SourceInstance, 'restore' | 'createScratch' | 'countRows'>> {
  const { context } = source;
  const { logger } = context;
  const secrets = new Set(source.settings.secrets);

  const settingsOf = (url: string | undefined): ConnectionSettings => {
    if (url === undefined) return source.settings;
    context.secrets.add(url);
    const settings = parseConnectionUrl(url);
    for (const secret of settings.secrets) {
      context.secrets.add(secret);
      secrets.add(secret);
    }
    return settings;
  };
  /** A connection to the server (no database: the target may not exist yet), retried like the source's. */
  const connectServer = (settings: ConnectionSettings, signal: AbortSignal, database = '') =>
    connectWithRetry(() => connectClient(settings, signal, database), {
      attempts: source.retryAttempts,
      delaySeconds: source.retryDelaySeconds,
      target: describeSettings(settings),
      code: ErrorCodes.RESTORE_FAILED,
      logger,
      signal,
    });
  const withServer = async <T>(settings: ConnectionSettings, signal: AbortSignal, use: (connection: Connection) => Promise<T>, database = ''): Promise<T> => {
    const connection = await connectServer(settings, signal, database);
    try {
      return await use(connection);
    } finally {
      await endQuietly(connection);
    }
  };

  async function restore(input: Readable, target: RestoreTarget, signal: AbortSignal): Promise<RestoreResult> {
    const settings = settingsOf(target.url);
    const where = describeSettings(settings);
    const database = settings.database;
    if (database === '') {
      throw new BackupctlError(ErrorCodes.USAGE, `the restore target ${where} names no database`, {
        hint: 'name one at the end of the URL (mysql://user:password@host:3306/database)',
      });
    }
    // What a failure must undo: a database created here is dropped, one given is emptied again (it was empty, or --yes allowed replacing it).
    let undo: 'drop' | 'empty' | undefined;
    let charset: { charset: string; collation: string } | undefined;
    const undoRestore = async (why: string) => {
      if (!undo) return;
      const action = undo;
      undo = undefined;
      try {
        await withServer(settings, AbortSignal.timeout(30_000), async (connection) => {
          await dropDatabase(connection, database);
          if (action === 'empty') await createDatabase(connection, database, charset);
        });
        logger.info(action === 'drop' ? `Dropped ${where} again: ${why}` : `Emptied ${where} again: ${why}`);
      } catch (error) {
        logger.warn(`Could not ${action === 'drop' ? 'drop' : 'empty'} ${where} after ${why}: ${(error as Error).message}`);
      }
    };

    const ready = await withServer(settings, signal, async (connection) => {
      const server = await readServerVersion(connection);
      const exists = await databaseExists(connection, database);
      const client = requireTool('client', server, where, { env: source.env }).catch((error: unknown) => {
        throw restoreFailed(error, 'the client');
      });
      client.catch(() => {});
      if (target.create) {
        if (exists) {
          throw new BackupctlError(ErrorCodes.USAGE, `database ${where} already exists`, {
            hint: 'leave out --create to restore into it (with --yes if it has tables), or name a new database',
          });
        }
        await createDatabase(connection, database).catch((error: unknown) => {
          throw restoreFailed(error, `could not create database ${where}`);
        });
        undo = 'drop';
        return { server, client: await client, replaced: [] as string[] };
      }
      if (!exists) {
        throw new BackupctlError(ErrorCodes.USAGE, `database ${where} does not exist`, { hint: 'add --create to create it, or fix the name in the URL' });
      }
      const objects = await listObjects(connection, database);
      charset = await readDatabaseCharset(connection, database);
      if (objects.length > 0 && !target.replace) {
        throw new BackupctlError(
          ErrorCodes.USAGE,
          `${where} already holds ${objects.length} object${objects.length === 1 ? '' : 's'} (${listSome(objects)}); restoring would drop and replace everything in it`,
          {
            hint:
              'add --yes to replace them (not in one transaction: MySQL commits DDL implicitly, so if the restore fails the database is left empty), ' +
              'or restore into a new database with --target-url URL --create',
          },
        );
      }
      const tool = await client;
      if (objects.length > 0) {
        logger.warn(`Replacing everything in ${where}: ${objects.length} objects (${listSome(objects)})`);
        await dropDatabase(connection, database);
        await createDatabase(connection, database, charset);
      }
      undo = 'empty';
      return { server, client: tool, replaced: objects };
    }).catch(async (error: unknown) => {
      await undoRestore(signal.aborted && signal.reason instanceof Error ? signal.reason.message : 'the restore could not start');
      throw error;
    });

    const optionFile = await writeOptionFile(settings);
    try {
      if (undo === 'drop') logger.info(`Created database ${where}`);
      logger.info(
        `Restoring into ${describeVersion(ready.server)} at ${where} with ${ready.client.name}, stopping at the first error; ` +
          `not one transaction (DDL commits implicitly): on failure the database is ${undo === 'drop' ? 'dropped' : 'emptied'} again`,
      );
      await runRestoreProcess(input, {
        binary: ready.client.path,
        name: ready.client.name,
        args: [optionFile.argument, '--default-character-set=utf8mb4', `--database=${database}`],
        env: source.env ?? process.env,
        target: where,
        logger,
        signal,
        secrets: [...secrets],
      });
      undo = undefined;
      return { target: where, format: `SQL (${ready.client.name})`, replaced: ready.replaced };
    } catch (error) {
      await undoRestore('the restore failed');
      throw error;
    } finally {
      await optionFile.remove();
    }
  }

  async function createScratch(target: { url?: string }, signal: AbortSignal): Promise<ScratchDatabase> {
    const server = settingsOf(target.url);
    const name = scratchDatabaseName(source.settings.database, new Date());
    const where = describeSettings({ ...server, database: name });
    await withServer(server, signal, (connection) =>
      createDatabase(connection, name).catch((error: unknown) => {
        throw restoreFailed(error, `could not create database ${where}`);
      }),
    );
    let dropped: Promise<void> | undefined;
    return {
      url: urlWithDatabase(target.url ?? source.url, name),
      target: where,
      drop: () =>
        (dropped ??= withServer(server, AbortSignal.timeout(30_000), (connection) => dropDatabase(connection, name)).catch((error: unknown) => {
          throw restoreFailed(error, `could not drop ${where}`);
        })),
    };
  }

  async function countRows(target: { url?: string }, signal: AbortSignal): Promise<RowCounts> {
    const settings = settingsOf(target.url);
    return withServer(settings, signal, (connection) =>
      countTableRows(connection, settings.database, signal).catch((error: unknown) => {
        throw restoreFailed(error, `could not count the rows of ${describeSettings(settings)}`);
      }),
    );
  }

  return { restore, createScratch, countRows };
}
