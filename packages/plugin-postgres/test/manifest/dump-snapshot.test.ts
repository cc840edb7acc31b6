import { describe, expect, it } from 'vitest';
import type { Client } from 'pg';
import { shareDumpSnapshot } from '../../src/manifest/dump-snapshot.js';

/** A client that records its statements and answers the few this module asks. */
function fakeClient(tables: Array<{ schema: string; name: string }>, rows: Record<string, number> = {}) {
  const statements: string[] = [];
  let ended = 0;
  const client = {
    async query(sql: string) {
      statements.push(sql);
      if (sql.includes('pg_export_snapshot')) return { rows: [{ id: '00000003-0000001B-1' }] };
      if (sql.includes('FROM pg_class')) return { rows: tables };
      const counted = /FROM ONLY (.*)$/.exec(sql)?.[1];
      if (counted !== undefined) return { rows: [{ rows: String(rows[counted] ?? 0) }] };
      return { rows: [] };
    },
    async end() {
      ended++;
    },
  };
  return { client: client as unknown as Client, statements, ended: () => ended };
}

const signal = new AbortController().signal;

describe('shareDumpSnapshot', () => {
  it('exports a snapshot from a read-only transaction without timeouts, for pg_dump --snapshot', async () => {
    const { client, statements } = fakeClient([]);
    const snapshot = await shareDumpSnapshot(client);
    expect(statements).toEqual([
      'SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0',
      'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY',
      'SELECT pg_export_snapshot() AS id',
    ]);
    expect(snapshot.dumpArgs(['--no-owner'])).toEqual(['--no-owner', '--snapshot=00000003-0000001B-1']);
  });

  it("waits for a safe snapshot itself for --serializable-deferrable, which pg_dump cannot combine with --snapshot", async () => {
    const { client, statements } = fakeClient([]);
    const snapshot = await shareDumpSnapshot(client, { serializableDeferrable: true });
    expect(statements[1]).toBe('BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE');
    expect(snapshot.dumpArgs(['--serializable-deferrable', '-Z9'])).toEqual(['-Z9', '--snapshot=00000003-0000001B-1']);
  });

  it("imports the user's own --snapshot and leaves pg_dump's arguments as they are", async () => {
    const { client, statements } = fakeClient([]);
    const snapshot = await shareDumpSnapshot(client, { imported: "0000-1'x" });
    expect(statements.slice(1)).toEqual(['BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY', "SET TRANSACTION SNAPSHOT '0000-1''x'"]);
    expect(snapshot.dumpArgs(['--snapshot=0000-1'])).toEqual(['--snapshot=0000-1']);
  });

  it("counts the archive's ordinary tables with data ONLY, after locking them NOWAIT; 0 for those without", async () => {
    const tables = [
      { schema: 'My "Schema"', name: 'Order Items' },
      { schema: 'public', name: 'p1' },
      { schema: 'public', name: 'no_data' },
      { schema: 'public', name: 'not_dumped' },
    ];
    const { client, statements, ended } = fakeClient(tables, { '"My ""Schema"""."Order Items"': 5, '"public"."p1"': 99 });
    const snapshot = await shareDumpSnapshot(client);
    const counts = await snapshot.countTables(
      [
        { desc: 'TABLE', tag: 'Order Items', namespace: 'My "Schema"' },
        { desc: 'TABLE', tag: 'parent', namespace: 'public' },
        { desc: 'TABLE', tag: 'p1', namespace: 'public' },
        { desc: 'TABLE', tag: 'no_data', namespace: 'public' },
        { desc: 'TABLE DATA', tag: 'Order Items', namespace: 'My "Schema"' },
        { desc: 'TABLE DATA', tag: 'p1', namespace: 'public' },
        { desc: 'TABLE DATA', tag: 'remote', namespace: 'public' },
      ],
      signal,
    );
    expect(counts).toEqual({ 'My "Schema".Order Items': 5, 'public.p1': 99, 'public.no_data': 0 });
    expect(statements.slice(4)).toEqual([
      'LOCK TABLE ONLY "My ""Schema"""."Order Items", ONLY "public"."p1" IN ACCESS SHARE MODE NOWAIT',
      'SELECT count(*)::text AS rows FROM ONLY "My ""Schema"""."Order Items"',
      'SELECT count(*)::text AS rows FROM ONLY "public"."p1"',
    ]);
    await snapshot.release();
    await snapshot.release();
    expect(ended()).toBe(1);
  });
});
