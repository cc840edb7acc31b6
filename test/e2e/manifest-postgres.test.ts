import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowCounts, SourceInstance, SourceManifest } from '@backupctl/plugin-api';
import plugin from '../../packages/plugin-postgres/src/index.js';
import { fakeContext } from '../../packages/plugin-postgres/test/fake-context.js';
import { uniqueName, usePostgres } from '../harness/index.js';

// SourceStream.manifest() of the postgres source against the harness's
// server: its row counts equal count(*) in the dump's own snapshot, for a
// database with what could trip a count (partitions, quoted names, large
// objects, rows holding newlines, backslashes and a value that is `\.`),
// also while another connection inserts rows during the dump.

type Options = Parameters<typeof plugin.create>[0];

const postgres = usePostgres();
const database = uniqueName('manifest');
const databases = [database];
const signal = new AbortController().signal;

// Hash partitions of an enum are loaded through their root (pg_dump forces
// it): a restore routes their rows by the new database's enum OIDs.
const ENUM_HASH_PARTITIONS = ['public.mood_0', 'public.mood_1'];

const SCHEMA = String.raw`
  CREATE SCHEMA "My ""Schema""";
  CREATE TABLE "My ""Schema"""."Order ""Items""" (id int PRIMARY KEY, "Note" text);
  INSERT INTO "My ""Schema"""."Order ""Items""" VALUES
    (1, E'line1\nline2'), (2, E'back\\slash'), (3, '\.'), (4, E'tab\there'), (5, E'\\.'), (6, E'cr\rlf'), (7, NULL), (8, E'\n\\.\n');
  CREATE TABLE public."Mixed Case" (v text);
  INSERT INTO public."Mixed Case" SELECT 'row ' || g FROM generate_series(1, 3) g;
  CREATE TABLE public."odd
name" (a int);
  INSERT INTO public."odd
name" VALUES (1), (2);

  CREATE TABLE public.events (id int, at date, payload text) PARTITION BY RANGE (at);
  CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE TABLE public.events_other PARTITION OF public.events DEFAULT;
  -- ~300 KB: several of pg_dump's 64 KiB chunks.
  INSERT INTO public.events SELECT g, date '2025-06-01' + (g % 700), repeat(md5(g::text), 2) FROM generate_series(1, 4000) g;

  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TABLE public.moods (m mood) PARTITION BY HASH (m);
  CREATE TABLE public.mood_0 PARTITION OF public.moods FOR VALUES WITH (MODULUS 2, REMAINDER 0);
  CREATE TABLE public.mood_1 PARTITION OF public.moods FOR VALUES WITH (MODULUS 2, REMAINDER 1);
  INSERT INTO public.moods SELECT (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood FROM generate_series(1, 30) g;

  CREATE TABLE public.docs (id int, body oid);
  INSERT INTO public.docs VALUES
    (1, lo_from_bytea(0, convert_to(E'COPY public.docs (id) FROM stdin;\n1\n\\.\n', 'UTF8'))),
    (2, lo_from_bytea(0, '\x00ff0a5c2e0a'::bytea));

  CREATE TABLE public.empty (a int);
  CREATE TABLE public.no_columns ();
  INSERT INTO public.no_columns DEFAULT VALUES;
  INSERT INTO public.no_columns DEFAULT VALUES;
  CREATE TABLE public.animals (name text);
  CREATE TABLE public.dogs (breed text) INHERITS (public.animals);
  INSERT INTO public.animals VALUES ('cat');
  INSERT INTO public.dogs VALUES ('rex', 'collie'), ('fido', 'pug');
  CREATE UNLOGGED TABLE public.scratchpad (n int);
  INSERT INTO public.scratchpad VALUES (1);
  CREATE TABLE public.gate (n int);

  CREATE FUNCTION public.looks_like_copy() RETURNS int LANGUAGE sql AS $$
COPY public.empty (a) FROM stdin;
SELECT 1;
$$;
  COMMENT ON TABLE public.empty IS 'nothing
COPY public.empty (a) FROM stdin;
here';
`;

function options(overrides: Partial<Options> = {}): Options {
  return { url: postgres.url(database), format: 'plain', retryAttempts: 2, retryDelaySeconds: 0.1, pgDumpPath: '', args: [], ...overrides };
}

interface Backup {
  bytes: Buffer;
  manifest: SourceManifest;
  expectedSize?: number;
  warnings: string[];
}

/** Backs up as backupctl would: open, read the stream to its end, await done, then ask for the manifest. */
async function backUp(overrides: Partial<Options> = {}, duringDump?: () => Promise<void>): Promise<Backup> {
  const fake = fakeContext();
  const source = plugin.create(options(overrides), fake.context) as SourceInstance;
  try {
    const opened = await source.open(signal);
    const bytes = buffer(opened.stream);
    await duringDump?.();
    const result = { bytes: await bytes, expectedSize: fake.context.artifact.expectedSize };
    await opened.done;
    const manifest = await opened.manifest!();
    return { ...result, manifest, warnings: fake.logger.lines.filter((line) => line.level === 'warn').map((line) => line.message) };
  } finally {
    await source.close?.();
  }
}

/** What verify compares with: the source's own countRows, on this database or another one. */
async function countRows(url = postgres.url(database)): Promise<RowCounts> {
  const source = plugin.create(options(), fakeContext().context) as SourceInstance;
  return source.countRows!({ url }, signal);
}

/** Restores a backup into a new database with the source's own restore (psql, or pg_restore | psql); returns its URL. */
async function restore(bytes: Buffer): Promise<string> {
  const name = uniqueName('manifest_restored');
  databases.push(name);
  const url = postgres.url(name);
  const source = plugin.create(options(), fakeContext().context) as SourceInstance;
  await source.restore!(Readable.from([bytes]), { url, create: true, replace: false, exactDatabase: true }, signal);
  return url;
}

/** The counts with the enum-hash partitions summed, as a restore (which routes their rows anew) can be compared. */
function routedAnew(counts: RowCounts): RowCounts {
  const result: RowCounts = { ...counts };
  let sum = 0;
  for (const table of ENUM_HASH_PARTITIONS) {
    sum += result[table] ?? 0;
    delete result[table];
  }
  return { ...result, 'public.moods (partitions summed)': sum };
}

/** Holds an ACCESS EXCLUSIVE lock on public.gate, so pg_dump waits there with its snapshot already taken. */
async function holdGate(): Promise<{ pgDumpWaiting(): Promise<void>; release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: postgres.url(database) });
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE public.gate IN ACCESS EXCLUSIVE MODE');
  return {
    async pgDumpWaiting() {
      for (let tries = 0; tries < 400; tries++) {
        const waiting = await postgres.query(database, "SELECT 1 FROM pg_locks WHERE relation = 'public.gate'::regclass AND NOT granted");
        if (waiting.length > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error('pg_dump never waited for public.gate');
    },
    async release() {
      await client.query('COMMIT').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

let live: RowCounts;

beforeAll(async () => {
  await postgres.createDatabase(database);
  await postgres.psql(database, SCHEMA);
  live = await countRows();
});

afterAll(async () => {
  for (const name of databases) await postgres.dropDatabase(name);
});

describe('postgres source manifest', () => {
  it("plain: every table with count(*), counted in the dump's COPY blocks, beside the versions and the database size", async () => {
    const backup = await backUp();
    const [setting] = await postgres.query<{ version: string }>(database, "SELECT current_setting('server_version') AS version");
    expect(live).toMatchObject({
      'My "Schema".Order "Items"': 8,
      'public.odd\nname': 2,
      'public.events_2025': expect.any(Number),
      'public.no_columns': 2,
      'public.animals': 1,
      'public.dogs': 2,
      'public.empty': 0,
    });
    expect(backup.manifest).toEqual({
      engine: 'PostgreSQL',
      serverVersion: setting!.version.split(' ')[0],
      dumpTool: expect.stringMatching(/^pg_dump 1\d\.\d+$/),
      databaseSize: backup.expectedSize,
      format: 'plain SQL',
      tables: live,
      rowCounts: 'exact',
      countedBy: "counted in the dump's COPY blocks",
    });
    expect(backup.manifest.databaseSize).toBeGreaterThan(0);
    expect(backup.warnings).toEqual([]);
  });

  it("custom: every table with count(*) in the dump's snapshot", async () => {
    const backup = await backUp({ format: 'custom' });
    expect(backup.bytes.subarray(0, 5).toString()).toBe('PGDMP');
    expect(backup.manifest).toMatchObject({
      format: 'custom archive',
      tables: live,
      rowCounts: 'exact',
      countedBy: "count(*) in the dump's snapshot (one extra scan)",
    });
    expect(backup.warnings).toEqual([]);
  });

  it("custom with --serializable-deferrable: the snapshot is waited for by backupctl's transaction, and pg_dump dumps it", async () => {
    const backup = await backUp({ format: 'custom', args: ['--serializable-deferrable'] });
    expect(backup.manifest).toMatchObject({ tables: live, rowCounts: 'exact' });
    expect(backup.warnings).toEqual([]);
  });

  it("custom with the user's own --snapshot: that snapshot is counted, the one pg_dump dumps", async () => {
    const holder = new pg.Client({ connectionString: postgres.url(database) });
    await holder.connect();
    try {
      await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const [exported] = (await holder.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows;
      const backup = await backUp({ format: 'custom', args: [`--snapshot=${exported!.id}`] });
      expect(backup.manifest).toMatchObject({ tables: live, rowCounts: 'exact' });
      expect(backup.warnings).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it('manifest: false counts nothing: versions and sizes only', async () => {
    const backup = await backUp({ manifest: false });
    expect(backup.manifest).toMatchObject({ engine: 'PostgreSQL', format: 'plain SQL' });
    expect(backup.manifest.tables).toBeUndefined();
    expect(backup.warnings).toEqual([]);
  });

  it.each([
    [['--inserts'], "counted in the dump's INSERT statements"],
    [['--column-inserts', '--rows-per-insert=7'], "counted in the dump's INSERT statements"],
    [['--load-via-partition-root'], "counted in the dump's COPY blocks"],
  ])('plain with %j: the same counts', async (args, countedBy) => {
    expect((await backUp({ args })).manifest).toMatchObject({ tables: live, rowCounts: 'exact', countedBy });
  });

  it('without data (--schema-only) or a table\'s data left out: those tables with 0, in both formats', async () => {
    const zeros = Object.fromEntries(Object.keys(live).map((table) => [table, 0]));
    for (const format of ['plain', 'custom'] as const) {
      expect((await backUp({ format, args: ['--schema-only'] })).manifest.tables).toEqual(zeros);
      const leftOut = await backUp({ format, args: ['--exclude-table-data=public.events_2025', '--exclude-table=public.empty'] });
      const { 'public.empty': _empty, ...rest } = live;
      expect(leftOut.manifest.tables).toEqual({ ...rest, 'public.events_2025': 0 });
    }
  });

  it.each(['plain', 'custom'] as const)(
    '%s: rows inserted while pg_dump runs are in neither the dump nor its counts, and a restore of it has the counted rows',
    async (format) => {
      const before = live['My "Schema".Order "Items"']!;
      const gate = await holdGate();
      const writer = new pg.Client({ connectionString: postgres.url(database) });
      await writer.connect();
      let backup: Backup;
      try {
        backup = await backUp({ format }, async () => {
          await gate.pgDumpWaiting();
          for (let id = 1000; id < 1025; id++) await writer.query(`INSERT INTO "My ""Schema"""."Order ""Items""" VALUES ($1, 'during the dump')`, [id]);
          const now = await writer.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM "My ""Schema"""."Order ""Items"""`);
          expect(now.rows[0]!.rows).toBe(before + 25);
          await gate.release();
        });
      } finally {
        await gate.release();
        await writer.query(`DELETE FROM "My ""Schema"""."Order ""Items""" WHERE "Note" = 'during the dump'`);
        await writer.end();
      }
      expect(backup.manifest.tables).toEqual(live);
      expect(backup.manifest.tables!['My "Schema".Order "Items"']).toBe(before);
      const restored = await countRows(await restore(backup.bytes));
      expect(routedAnew(restored)).toEqual(routedAnew(backup.manifest.tables!));
    },
  );

  it('globals (a whole server): the versions, and no tables', async () => {
    const backup = await backUp({ dump: 'globals' });
    expect(backup.bytes.toString()).toContain('CREATE ROLE');
    expect(backup.manifest).toEqual({
      engine: 'PostgreSQL',
      serverVersion: expect.stringMatching(/^1\d\.\d+$/),
      dumpTool: expect.stringMatching(/^pg_dumpall 1\d\.\d+$/),
      format: 'plain SQL',
    });
  });
});
