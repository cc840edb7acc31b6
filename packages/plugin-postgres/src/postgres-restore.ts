import { randomBytes } from 'node:crypto';
import {
  BackupctlError,
  ErrorCodes,
  formatTimestamp,
  type PluginContext,
  type RestoreResult,
  type RestoreTarget,
  type ScratchDatabase,
  type SourceInstance,
} from '@backupctl/plugin-api';
import type { Readable } from 'node:stream';
import type { Client } from 'pg';
import { detectArchiveFormat } from './archive-format.js';
import { describeSettings, parseConnectionUrl, type ConnectionSettings } from './connection-url.js';
import { requirePgTool } from './find-pg-tool.js';
import { childEnv, toLibpqEnv } from './libpq-env.js';
import { runRestoreProcess } from './restore-process.js';
import { countTableRows } from './row-counts.js';
import {
  createDatabase,
  dropDatabase,
  inspectTarget,
  listSome,
  readServerVersion,
  replaceStatements,
  restoreFailed,
  withClient,
  withServerClient,
  type ConnectOptions,
  type TargetContents,
} from './target-database.js';
import type { PostgresVersion } from './server-version.js';

/** What restore needs from the source: its connection, retry options and seams. */
export interface RestoreContext {
  /** The source's own database URL (secret) and its parsed settings: the default target. */
  url: string;
  settings: ConnectionSettings;
  retryAttempts: number;
  retryDelaySeconds: number;
  context: PluginContext;
  /** The environment psql inherits (without PG*) and PSQL_PATH / PG_RESTORE_PATH / PATH are read from. */
  env?: NodeJS.ProcessEnv;
  /** Where versioned client directories are searched (default /usr/lib/postgresql). */
  searchRoots?: readonly string[];
}

/** What a database created from template0 holds: the `public` schema, empty. */
const NEW_DATABASE_CONTENTS: TargetContents = { tables: [], schemas: ['public'] };

/** Both results, once both settled (neither left running unwatched); the first one's error wins. */
async function bothSettled<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

/** PostgreSQL limits identifiers to 63 bytes. */
const MAX_IDENTIFIER_BYTES = 63;

/** `clara_main_verify_20260201_031500_k3x9`, cut to fit PostgreSQL's 63 bytes. */
export function scratchDatabaseName(database: string, now: Date, random = randomBytes(2).toString('hex')): string {
  const suffix = `_verify_${formatTimestamp(now)}_${random}`;
  let base = database;
  while (Buffer.byteLength(base + suffix) > MAX_IDENTIFIER_BYTES) base = base.slice(0, -1);
  return base + suffix;
}

/** The same URL naming another database (libpq's `dbname` parameter overrides the path). */
function withDatabase(url: string, database: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}dbname=${encodeURIComponent(database)}`;
}

/**
 * The postgres source's restore side: `restore` into its own database or a
 * URL's (creating it, refusing or replacing what it holds), and for
 * `verify` a scratch database and exact row counts.
 */
export function createRestoreCapability(
  source: RestoreContext,
): Required<Pick<SourceInstance, 'restore' | 'createScratch' | 'countRows'>> {
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
  const connectOptions = (signal: AbortSignal): ConnectOptions => ({
    attempts: source.retryAttempts,
    delaySeconds: source.retryDelaySeconds,
    logger,
    signal,
  });

  /**
   * Restores `input` into `target`: first readies it (creates it with
   * `create`, refuses one holding tables without `replace`, finds psql),
   * then streams into psql in one transaction. backupctl calls this only
   * once the backup was found and its record read. What it creates, a
   * failed restore drops again: such a database holds nothing worth keeping.
   */
  async function restore(input: Readable, target: RestoreTarget, signal: AbortSignal): Promise<RestoreResult> {
    const settings = settingsOf(target.url);
    const where = describeSettings(settings);
    let created = false;
    // "Created database" is said when the restore starts: one that then fails to start says it once, with the drop.
    let announced = false;
    const dropCreated = async (why: string) => {
      if (!created) return;
      created = false;
      try {
        await withServerClient(settings, connectOptions(AbortSignal.timeout(30_000)), (client) => dropDatabase(client, settings.database));
        logger.info(announced ? `Dropped ${where} again: ${why}` : `Created database ${where} and dropped it again: ${why}`);
      } catch (error) {
        logger.warn(`Could not drop ${where} after ${why}: ${(error as Error).message}`);
      }
    };
    const toolOptions = { env: source.env, searchRoots: source.searchRoots };
    // psql is looked for (its `--version` run) while the server works on the target.
    const findPsql = (server: PostgresVersion) =>
      requirePgTool('psql', server, where, toolOptions).catch((error: unknown) => {
        throw restoreFailed(error, 'psql');
      });

    // Copied from template0, which no one can change, a new database needs no look inside.
    const createTarget = async (client: Client): Promise<TargetContents> => {
      await createDatabase(client, settings.database, where);
      created = true;
      return NEW_DATABASE_CONTENTS;
    };
    const ready = async () => {
      // --create connects to the server (the database does not exist yet), else to the target itself.
      const { server, contents, psql } = await (target.create ? withServerClient : withClient)(settings, connectOptions(signal), async (client) => {
        const server = await readServerVersion(client);
        const [contents, psql] = await bothSettled(target.create ? createTarget(client) : inspectTarget(client), findPsql(server));
        return { server, contents, psql };
      });
      const { tables, schemas } = contents;
      if (tables.length > 0 && !target.replace) {
        throw new BackupctlError(
          ErrorCodes.USAGE,
          `${where} already has ${tables.length} table${tables.length === 1 ? '' : 's'} (${listSome(tables)}); ` +
            `restoring would drop and replace everything in schema${schemas.length === 1 ? '' : 's'} ${schemas.join(', ')}`,
          { hint: 'add --yes to replace them (in one transaction: if the restore fails, nothing changes), or restore into a new database with --target-url URL --create' },
        );
      }
      return { server, psql, tables, schemas };
    };
    const { server, psql, tables, schemas } = await ready().catch(async (error: unknown) => {
      // Aborted: backupctl says why (a cancel).
      await dropCreated(signal.aborted && signal.reason instanceof Error ? signal.reason.message : 'the restore could not start');
      throw error;
    });
    const replacing = target.replace && (tables.length > 0 || schemas.some((schema) => schema !== 'public'));

    try {
      if (created) logger.info(`Created database ${where}`);
      announced = true;
      if (replacing) {
        const schemaWord = schemas.length === 1 ? 'schema' : 'schemas';
        logger.warn(`Replacing everything in ${schemaWord} ${schemas.join(', ')} of ${where}${tables.length ? `: ${tables.length} tables (${listSome(tables)})` : ''}`);
      }
      const { format, stream } = await detectArchiveFormat(input);
      const pgRestore =
        format === 'custom'
          ? await requirePgTool('pg_restore', server, where, toolOptions).catch((error: unknown) => {
              throw restoreFailed(error, 'pg_restore');
            })
          : undefined;
      logger.info(
        `Restoring into PostgreSQL ${server.text} at ${where}: ${format === 'custom' ? 'pg_restore | psql' : 'psql'}, one transaction, stopping at the first error`,
      );
      await runRestoreProcess(stream, {
        format,
        psql: psql.path,
        pgRestore: pgRestore?.path,
        psqlEnv: childEnv({ PGAPPNAME: 'backupctl-restore', ...toLibpqEnv(settings) }, source.env),
        toolEnv: childEnv({}, source.env),
        preamble: replacing ? replaceStatements(schemas, server) : [],
        target: where,
        logger,
        signal,
        secrets: [...secrets],
      });
      return {
        target: where,
        format: format === 'custom' ? 'custom archive (pg_restore)' : 'plain SQL (psql)',
        replaced: replacing ? tables : [],
      };
    } catch (error) {
      await dropCreated('the restore failed');
      throw error;
    }
  }

  async function createScratch(target: { url?: string }, signal: AbortSignal): Promise<ScratchDatabase> {
    const server = settingsOf(target.url);
    const name = scratchDatabaseName(source.settings.database, new Date());
    const scratch: ConnectionSettings = { ...server, database: name };
    const where = describeSettings(scratch);
    // Connect through the database the URL names (the source's own by default): a backup user may not reach `postgres`.
    await withClient(server, connectOptions(signal), (client) => createDatabase(client, name, where));
    let dropped: Promise<void> | undefined;
    return {
      url: withDatabase(target.url ?? source.url, name),
      target: where,
      drop: () =>
        (dropped ??= withClient(server, connectOptions(AbortSignal.timeout(30_000)), (client) => dropDatabase(client, name)).catch(
          (error: unknown) => {
            throw restoreFailed(error, `could not drop ${where}`);
          },
        )),
    };
  }

  async function countRows(target: { url?: string }, signal: AbortSignal) {
    const settings = settingsOf(target.url);
    return withClient(settings, connectOptions(signal), (client) =>
      countTableRows(client, signal).catch((error: unknown) => {
        throw restoreFailed(error, `could not count the rows of ${describeSettings(settings)}`);
      }),
    );
  }

  return { restore, createScratch, countRows };
}
