import type { Client } from 'pg';
import type { RowCounts } from '@backupctl/plugin-api';
import { quoteIdentifier } from './target-database.js';

/**
 * The exact row count (`count(*)`) of every user table of the connected
 * database, keyed `schema.table`. Partitions are counted one by one and
 * their partitioned parents left out, so no row is counted twice; views,
 * foreign tables and the catalogs are left out.
 */
export async function countTableRows(client: Client, signal?: AbortSignal): Promise<RowCounts> {
  const tables = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
      ORDER BY 1, 2`,
  );
  const counts: RowCounts = {};
  for (const { schema, name } of tables.rows) {
    signal?.throwIfAborted();
    const result = await client.query<{ rows: string }>(`SELECT count(*)::text AS rows FROM ${quoteIdentifier(schema)}.${quoteIdentifier(name)}`);
    counts[`${schema}.${name}`] = Number(result.rows[0]?.rows ?? 0);
  }
  return counts;
}
