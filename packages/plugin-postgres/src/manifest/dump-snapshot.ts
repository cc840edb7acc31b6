import type { Client } from 'pg';
import type { RowCounts } from '@backupctl/plugin-api';
import { withoutDumpOption } from '../dump-args.js';
import { countRowsOf, listUserTables, quoteTable, tableKey, type TableName } from '../row-counts.js';
import type { ArchiveEntry } from './custom-archive-toc.js';

/** How the snapshot is had. */
export interface DumpSnapshotOptions {
  /** The user's own `--snapshot` for pg_dump: imported, rather than a new one exported. */
  imported?: string;
  /** pg_dump's `--serializable-deferrable`: wait for a snapshot free of serialization anomalies, as pg_dump would have. */
  serializableDeferrable?: boolean;
}

/** A transaction on its own connection holding the snapshot pg_dump dumps, open until released. */
export interface DumpSnapshot {
  /** pg_dump's arguments to dump this snapshot: the user's with `--snapshot=<id>`, or as they are when they give their own. */
  dumpArgs(args: readonly string[]): string[];
  /**
   * The tables the archive holds, with their exact rows in the snapshot:
   * every ordinary table it has a `TABLE` or `TABLE DATA` entry for, 0 for
   * one without data (--schema-only, --exclude-table-data). countRows counts
   * the same tables after a restore.
   */
  countTables(entries: readonly ArchiveEntry[], signal: AbortSignal): Promise<RowCounts>;
  /** Ends the transaction and its connection. Safe to call twice. */
  release(): Promise<void>;
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Opens a transaction on `client` whose snapshot pg_dump then dumps (its
 * `--snapshot`), so that counting rows in it counts exactly what the dump
 * holds. The transaction stays open until `release`: pg_dump imports the
 * snapshot when it starts, and the counts are taken while it runs.
 */
export async function shareDumpSnapshot(client: Client, options: DumpSnapshotOptions = {}): Promise<DumpSnapshot> {
  // As pg_dump does for its own session: a long count, or waiting idle for the archive's TOC, must not be cut short.
  await client.query('SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0');
  // pg_dump refuses to import a snapshot DEFERRABLE: then this transaction
  // waits for the safe snapshot instead, and pg_dump dumps it as it is.
  const deferrable = options.serializableDeferrable === true && options.imported === undefined;
  await client.query(deferrable ? 'BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE' : 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  let dumpArgs = (args: readonly string[]) => [...args];
  if (options.imported !== undefined) {
    await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(options.imported)}`);
  } else {
    const exported = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const snapshotArg = `--snapshot=${exported.rows[0]!.id}`;
    dumpArgs = (args) => [...(deferrable ? withoutDumpOption(args, 'serializable-deferrable') : args), snapshotArg];
  }

  let released: Promise<void> | undefined;
  return {
    dumpArgs,
    async countTables(entries, signal) {
      const ordinary = new Set((await listUserTables(client)).map(tableKey));
      const counts: RowCounts = {};
      const withData: TableName[] = [];
      for (const entry of entries) {
        if (entry.namespace === undefined) continue;
        const table = { schema: entry.namespace, name: entry.tag };
        const key = tableKey(table);
        if (!ordinary.has(key)) continue;
        counts[key] ??= 0;
        if (entry.desc === 'TABLE DATA') withData.push(table);
      }
      if (withData.length > 0) {
        // pg_dump has held these locks since it started, so no DDL changed the
        // tables since the snapshot. But a request queued behind a waiting
        // ALTER or TRUNCATE would be served only after pg_dump ends and that
        // DDL commits, and would count what it left: fail instead.
        await client.query(`LOCK TABLE ${withData.map((table) => `ONLY ${quoteTable(table)}`).join(', ')} IN ACCESS SHARE MODE NOWAIT`);
      }
      return Object.assign(counts, await countRowsOf(client, withData, signal));
    },
    // Ending the session ends its read-only transaction. No COMMIT first: it
    // would wait behind a count still running when the run is aborted.
    release: () => (released ??= client.end().catch(() => {})),
  };
}
