import type { RowDataPacket } from 'mysql2';
import type { RowCounts } from '@backupctl/plugin-api';
import { quoteIdentifier, type Connection } from './mysql-client.js';
import { parseServerVersion, type EngineVersion } from './server-version.js';

// What the source, restore and verify ask the server, each one query or a few.

type Rows<T> = Array<T & RowDataPacket>;

/** The databases a whole server's backup leaves out: the server's own. */
export const SYSTEM_DATABASES = ['information_schema', 'performance_schema', 'mysql', 'sys'];

export async function readServerVersion(connection: Connection): Promise<EngineVersion> {
  const [rows] = await connection.query<Rows<{ version: string }>>('SELECT VERSION() AS version');
  const text = String(rows[0]?.version ?? '');
  const version = parseServerVersion(text);
  if (!version) throw new Error(`unexpected VERSION() ${JSON.stringify(text)}`);
  return version;
}

/** The database's data and index size in bytes (information_schema's figures: an estimate, for the sink's planning). */
export async function readDatabaseSize(connection: Connection, database: string): Promise<number | undefined> {
  const [rows] = await connection.query<Rows<{ size: string | null }>>(
    'SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS size FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [database],
  );
  const size = Number(rows[0]?.size ?? 0);
  return Number.isFinite(size) && size > 0 ? size : undefined;
}

/** The tables of a database that hold rows (BASE TABLE: views and sequences left out), by name. */
export async function listTables(connection: Connection, database: string): Promise<string[]> {
  const [rows] = await connection.query<Rows<{ name: string }>>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  return rows.map((row) => row.name);
}

/** Everything a database holds that a restore would collide with: tables, views, routines, events (`view v`, `procedure p`). */
export async function listObjects(connection: Connection, database: string): Promise<string[]> {
  const [rows] = await connection.query<Rows<{ name: string }>>(
    `SELECT CONCAT(IF(TABLE_TYPE = 'VIEW', 'view ', ''), TABLE_NAME) AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?
     UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
     UNION ALL SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [database, database, database],
  );
  return rows.map((row) => row.name).sort();
}

/** Exact row counts (`SELECT COUNT(*)`) of every table of `database`, keyed by table name as the dump's manifest is. */
export async function countTableRows(connection: Connection, database: string, signal?: AbortSignal): Promise<RowCounts> {
  const counts: RowCounts = {};
  for (const table of await listTables(connection, database)) {
    signal?.throwIfAborted();
    const [rows] = await connection.query<Rows<{ count: string | number }>>(
      `SELECT COUNT(*) AS count FROM ${quoteIdentifier(database)}.${quoteIdentifier(table)}`,
    );
    counts[table] = Number(rows[0]?.count ?? 0);
  }
  return counts;
}

/** Whether a database of that name exists. */
export async function databaseExists(connection: Connection, database: string): Promise<boolean> {
  const [rows] = await connection.query<Rows<{ found: number }>>('SELECT 1 AS found FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  return rows.length > 0;
}

/** The databases of the server (the system ones left out) the account can see. */
export async function listServerDatabases(connection: Connection): Promise<string[]> {
  const [rows] = await connection.query<Rows<{ name: string }>>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
  return rows.map((row) => row.name).filter((name) => !SYSTEM_DATABASES.includes(name));
}

/** The character set and collation a database was created with, to create it again alike. */
export async function readDatabaseCharset(connection: Connection, database: string): Promise<{ charset: string; collation: string } | undefined> {
  const [rows] = await connection.query<Rows<{ charset: string; collation: string }>>(
    'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    [database],
  );
  return rows[0] ? { charset: rows[0].charset, collation: rows[0].collation } : undefined;
}

/** `CREATE DATABASE` with utf8mb4 (or the given character set), failing when it exists. */
export async function createDatabase(connection: Connection, database: string, charset?: { charset: string; collation: string }): Promise<void> {
  const set = charset ?? { charset: 'utf8mb4', collation: '' };
  await connection.query(
    `CREATE DATABASE ${quoteIdentifier(database)} CHARACTER SET ${set.charset}${set.collation ? ` COLLATE ${set.collation}` : ''}`,
  );
}

export async function dropDatabase(connection: Connection, database: string): Promise<void> {
  await connection.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`);
}
