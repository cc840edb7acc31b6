import type { Client } from 'pg';
import { BackupctlError, ErrorCodes, isBackupctlError, type Logger } from '@backupctl/plugin-api';
import { connectWithRetry } from './connect-with-retry.js';
import { describeSettings, type ConnectionSettings } from './connection-url.js';
import { connectClient } from './pg-client.js';
import { parseServerVersionNum, type PostgresVersion } from './server-version.js';

/** How restore, verify and their helpers connect: retries as the source's options say. */
export interface ConnectOptions {
  attempts: number;
  delaySeconds: number;
  logger: Logger;
  signal: AbortSignal;
}

/** Double-quotes an SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// User schemas and tables: everything but the catalogs, TOAST and temp
// schemas, and what an extension owns (its own script recreates it).
export const USER_SCHEMA = `n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'`;
/** An object an extension created (deptype 'e'): `alias` is the row of `catalog` (pg_class, pg_namespace). */
export const EXTENSION_MEMBER = (catalog: string, alias: string) =>
  `EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${alias}.oid AND d.deptype = 'e')`;

/** RESTORE_FAILED for whatever went wrong while reaching or changing a restore target. */
export function restoreFailed(error: unknown, what: string): BackupctlError {
  if (isBackupctlError(error)) {
    if (error.code !== ErrorCodes.SOURCE_FAILED) return error;
    // requirePgTool speaks as the source; here the tool is for a restore target.
    return new BackupctlError(ErrorCodes.RESTORE_FAILED, error.message, { hint: error.hint, cause: error.cause });
  }
  const record = error as { message?: unknown; code?: unknown };
  const message = typeof record.message === 'string' ? record.message : String(error);
  const code = typeof record.code === 'string' && /^[0-9A-Z]{5}$/.test(record.code) ? ` (${record.code})` : '';
  return new BackupctlError(ErrorCodes.RESTORE_FAILED, `${what}: ${message}${code}`, { cause: error });
}

/** A connection to the database the settings name, retried like the source's; failures are RESTORE_FAILED. */
export async function connectTo(settings: ConnectionSettings, options: ConnectOptions): Promise<Client> {
  return connectWithRetry(() => connectClient(settings, options.signal), {
    attempts: options.attempts,
    delaySeconds: options.delaySeconds,
    target: describeSettings(settings),
    code: ErrorCodes.RESTORE_FAILED,
    logger: options.logger,
    signal: options.signal,
  });
}

/** Runs `use` on a connection to `settings`, always ending it. */
export async function withClient<T>(settings: ConnectionSettings, options: ConnectOptions, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectTo(settings, options);
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Runs `use` on a connection to the server of `settings` that does not need
 * the database to exist: to `postgres`, else `template1` (as createdb does).
 */
export async function withServerClient<T>(settings: ConnectionSettings, options: ConnectOptions, use: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await withClient({ ...settings, database: 'postgres' }, options, use);
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    if (cause?.code !== '3D000') throw error; // 3D000: no such database
    return withClient({ ...settings, database: 'template1' }, options, use);
  }
}

export async function readServerVersion(client: Client): Promise<PostgresVersion> {
  const result = await client.query<{ server_version_num: string }>('SHOW server_version_num');
  const version = parseServerVersionNum(String(result.rows[0]?.server_version_num ?? ''));
  if (!version) throw new Error(`unexpected server_version_num ${JSON.stringify(result.rows[0]?.server_version_num)}`);
  return version;
}

/** `CREATE DATABASE` from template0 (what pg_dump's output expects), refusing one that exists. */
export async function createDatabase(client: Client, name: string, where: string): Promise<void> {
  try {
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)} TEMPLATE template0`);
  } catch (error) {
    if ((error as { code?: unknown }).code === '42P04') {
      throw new BackupctlError(ErrorCodes.USAGE, `database ${where} already exists`, {
        hint: 'leave out --create to restore into it (with --yes if it has tables), or name a new database',
      });
    }
    throw restoreFailed(error, `could not create database ${where}`);
  }
}

/** Drops a database, ending its sessions first (a killed psql's backend may linger a moment). */
export async function dropDatabase(client: Client, name: string): Promise<void> {
  const server = await readServerVersion(client);
  if (server.major >= 13) {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    return;
  }
  await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`);
}

/** What a restore target already holds. */
export interface TargetContents {
  /** User tables, `schema.table`. */
  tables: string[];
  /** User schemas (public included when it exists). */
  schemas: string[];
}

export async function inspectTarget(client: Client): Promise<TargetContents> {
  const tables = await client.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA} AND NOT ${EXTENSION_MEMBER('pg_class', 'c')}
      ORDER BY n.nspname, c.relname`,
  );
  const schemas = await client.query<{ name: string }>(
    `SELECT n.nspname AS name FROM pg_namespace n WHERE ${USER_SCHEMA} AND NOT ${EXTENSION_MEMBER('pg_namespace', 'n')} ORDER BY 1`,
  );
  return { tables: tables.rows.map((row) => row.name), schemas: schemas.rows.map((row) => row.name) };
}

/**
 * The SQL that empties a target before the backup is restored into it, run
 * in the restore's own transaction (so a failed restore undoes it too):
 * every user schema dropped with what it holds, then `public` recreated as
 * a new database has it (pg_dump does not create `public`).
 */
export function replaceStatements(schemas: readonly string[], server: PostgresVersion): string[] {
  const statements = schemas.map((schema) => `DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  if (server.major >= 15) {
    statements.push('CREATE SCHEMA public AUTHORIZATION pg_database_owner', 'GRANT USAGE ON SCHEMA public TO PUBLIC');
  } else {
    statements.push('CREATE SCHEMA public', 'GRANT ALL ON SCHEMA public TO PUBLIC');
  }
  statements.push(`COMMENT ON SCHEMA public IS 'standard public schema'`);
  return statements;
}

/** `public.users, public.messages, audit.events and 3 more` */
export function listSome(names: readonly string[], shown = 8): string {
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}
