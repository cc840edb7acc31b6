import type { Client } from 'pg';
import type { RowCounts } from '@backupctl/plugin-api';
import { EXTENSION_MEMBER, quoteIdentifier, USER_SCHEMA } from './target-database.js';

/** A table as the catalog names it: its schema and its name, unquoted. */
export interface TableName {
  schema: string;
  name: string;
}

/** `schema.table`, unquoted: how row counts are keyed (`My "Schema".Order Items`). */
export function tableKey(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

/** `"schema"."table"`, for a statement. */
export function quoteTable(table: TableName): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

/** The ordinary tables (relkind r: partitions one by one, partitioned parents left out) that `condition` keeps. */
async function listTables(client: Pick<Client, 'query'>, condition: string): Promise<TableName[]> {
  const result = await client.query<TableName>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND ${condition}
      ORDER BY 1, 2`,
  );
  return result.rows;
}

/**
 * Every user table of the connected database that holds rows of its own:
 * ordinary tables, partitions one by one; partitioned parents (which hold
 * none), views, foreign tables, the catalogs and the tables of extensions
 * left out. An extension's table (PostGIS's spatial_ref_sys) is made and
 * filled by CREATE EXTENSION on restore, while pg_dump holds at most the
 * rows a filter lets through: its counts before and after never match.
 */
export function listUserTables(client: Pick<Client, 'query'>): Promise<TableName[]> {
  return listTables(client, `${USER_SCHEMA} AND NOT ${EXTENSION_MEMBER('pg_class', 'c')}`);
}

/** The tables extensions created, keyed as row counts are: a manifest leaves them out as listUserTables does. */
export async function listExtensionTables(client: Pick<Client, 'query'>): Promise<Set<string>> {
  return new Set((await listTables(client, EXTENSION_MEMBER('pg_class', 'c'))).map(tableKey));
}

/**
 * The exact row count of each table, keyed `schema.table`. Counted `ONLY`:
 * a table's own rows, as pg_dump dumps them, so the rows of an inheritance
 * child are not counted again in its parent.
 */
export async function countRowsOf(client: Pick<Client, 'query'>, tables: readonly TableName[], signal?: AbortSignal): Promise<RowCounts> {
  const counts: RowCounts = {};
  for (const table of tables) {
    signal?.throwIfAborted();
    const result = await client.query<{ rows: string }>(`SELECT count(*)::text AS rows FROM ONLY ${quoteTable(table)}`);
    counts[tableKey(table)] = Number(result.rows[0]?.rows ?? 0);
  }
  return counts;
}

/** The exact row count of every user table of the connected database (see listUserTables, countRowsOf). */
export async function countTableRows(client: Client, signal?: AbortSignal): Promise<RowCounts> {
  return countRowsOf(client, await listUserTables(client), signal);
}
