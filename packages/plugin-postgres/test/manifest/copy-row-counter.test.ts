import { describe, expect, it } from 'vitest';
import { CopyRowCounter } from '../../src/manifest/copy-row-counter.js';
import { plainDumpTables } from '../../src/manifest/plain-dump-tables.js';
import { SAMPLE_DUMP, SAMPLE_TABLES } from './sample-dump.js';

/** Feeds the chunks through a counter; returns what came out and what it counted. */
function count(chunks: Buffer[]) {
  const counter = new CopyRowCounter();
  const out: Buffer[] = [];
  counter.on('data', (chunk: Buffer) => out.push(chunk));
  for (const chunk of chunks) counter.write(chunk);
  counter.end();
  return { out, counter, tables: plainDumpTables(counter.contents) };
}

function split(text: string | Buffer, ...at: number[]): Buffer[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((end, index) => bytes.subarray(bounds[index], end));
}

function tablesOf(text: string): unknown {
  return count([Buffer.from(text)]).tables;
}

describe('CopyRowCounter on a plain dump', () => {
  it('counts every COPY block as countRows would count the restored tables', () => {
    expect(tablesOf(SAMPLE_DUMP)).toEqual({ tables: SAMPLE_TABLES });
  });

  it('counts the same whatever byte two chunks meet at (inside \\., a COPY header, a quoted name, a dollar quote)', () => {
    const bytes = Buffer.from(SAMPLE_DUMP);
    for (let at = 1; at < bytes.length; at++) {
      expect(count(split(bytes, at)).tables, `split at byte ${at}`).toEqual({ tables: SAMPLE_TABLES });
    }
  });

  it('counts the same in chunks of every size from 1 to 64 bytes', () => {
    const bytes = Buffer.from(SAMPLE_DUMP);
    for (let size = 1; size <= 64; size++) {
      const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, index) => bytes.subarray(index * size, (index + 1) * size));
      expect(count(chunks).tables, `chunks of ${size}`).toEqual({ tables: SAMPLE_TABLES });
    }
  });

  it('passes every chunk on as it is: the same buffers, unchanged', () => {
    const chunks = split(SAMPLE_DUMP, 100, 2000, 2001, 3000);
    const { out } = count(chunks);
    expect(out).toHaveLength(chunks.length);
    out.forEach((chunk, index) => expect(chunk).toBe(chunks[index]));
    expect(Buffer.concat(out).toString()).toBe(SAMPLE_DUMP);
  });

  it('takes a line that is exactly \\. as the end only at the start of a line, and \\\\. as a row', () => {
    const dump = 'CREATE TABLE public.t (\n    a text\n);\nCOPY public.t (a) FROM stdin;\nx\\.\n\\\\.\n\\.y\n \\.\n\\.\nSELECT 1;\n';
    expect(tablesOf(dump)).toEqual({ tables: { 'public.t': 4 } });
  });

  it('counts a block the dump ends in (pg_dump failed, and done says so) with its last unterminated line', () => {
    expect(tablesOf('COPY public.t (a) FROM stdin;\n1\n2')).toEqual({ tables: { 'public.t': 2 } });
  });

  it('adds up the blocks of one table and keeps apart tables whose names only differ by case or quoting', () => {
    const dump = [
      'COPY public.t (a) FROM stdin;\n1\n\\.\n',
      'COPY public."T" (a) FROM stdin;\n1\n2\n\\.\n',
      'COPY "public"."t" (a) FROM stdin;\n3\n\\.\n',
      'COPY public."t.x" (a) FROM stdin;\n4\n\\.\n',
    ].join('\n');
    expect(tablesOf(dump)).toEqual({ tables: { 'public.t': 2, 'public.T': 2, 'public.t.x': 1 } });
  });

  it('reads names in the encoding the dump names (LATIN1 here)', () => {
    const dump = Buffer.concat([
      Buffer.from("SET client_encoding = 'LATIN1';\n"),
      Buffer.from('COPY public."Gr\xfc\xdfe" (a) FROM stdin;\n1\n\\.\n', 'latin1'),
    ]);
    expect(count([dump]).tables).toEqual({ tables: { 'public.Grüße': 1 } });
  });
});

describe('CopyRowCounter: what psql would not run as a COPY', () => {
  it.each([
    ['a dollar-quoted body with its own tag', "CREATE FUNCTION public.f() RETURNS void AS $fn$\nCOPY public.x (a) FROM stdin;\n$fn$;\n"],
    ['a block comment, nested', '/* one /* two */\nCOPY public.x (a) FROM stdin;\n*/\n'],
    ['an escape string with \\\'', "COMMENT ON TABLE public.t IS E'it\\'s\nCOPY public.x (a) FROM stdin;\n';\n"],
    ['a string without standard_conforming_strings', "SET standard_conforming_strings = off;\nCOMMENT ON TABLE public.t IS 'it\\'s\nCOPY public.x (a) FROM stdin;\n';\n"],
    ['a statement not ended yet', 'SELECT 1\nCOPY public.x (a) FROM stdin;\n;\n'],
    ['COPY to stdout', 'COPY public.x (a) TO stdout;\n1\n'],
  ])('%s', (_what, sql) => {
    expect(tablesOf(sql)).toEqual({ tables: {} });
  });

  it('follows $1 parameters and names holding $ without taking them for dollar quotes', () => {
    const dump = 'PREPARE p AS SELECT $1, a$b$c FROM t;\nCOPY public.t (a) FROM stdin;\n1\n\\.\n';
    expect(tablesOf(dump)).toEqual({ tables: { 'public.t': 1 } });
  });

  it('ignores indented statements inside a BEGIN ATOMIC body', () => {
    const dump = 'CREATE FUNCTION public.f() RETURNS void\n    LANGUAGE sql\n    BEGIN ATOMIC\n INSERT INTO public.t VALUES (1);\n INSERT INTO public.t VALUES (2);\nEND;\n';
    expect(tablesOf(dump)).toEqual({ tables: {} });
  });

  it('leaves large objects (lo_create, lowrite) alone', () => {
    const dump = "SELECT pg_catalog.lo_create('1');\nBEGIN;\nSELECT pg_catalog.lowrite(0, '\\x0a5c2e0a');\nCOMMIT;\n";
    expect(count([Buffer.from(dump)]).counter.contents.loads).toEqual([]);
  });
});

describe('CopyRowCounter on INSERT statements (--inserts, --column-inserts, --rows-per-insert)', () => {
  it('counts a row per VALUES list, whatever its values hold', () => {
    const dump = [
      '-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: app',
      "INSERT INTO public.t VALUES (1, 'a (b), c');",
      "INSERT INTO public.t VALUES (2, 'line1\nline2 VALUES (3);');",
      "INSERT INTO public.t (id, v) VALUES (3, 'it''s');",
      "INSERT INTO public.t (id, v) OVERRIDING SYSTEM VALUE VALUES (4, NULL);",
      "INSERT INTO public.t VALUES\n\t(5, 'x'),\n\t(6, ARRAY[1,2]),\n\t(7, (SELECT 1));",
      '-- Data for Name: nocols; Type: TABLE DATA; Schema: public; Owner: app',
      'INSERT INTO public.nocols DEFAULT VALUES;',
      'INSERT INTO public.nocols DEFAULT VALUES;',
      '-- Data for Name: t 2; Type: TABLE DATA; Schema: public; Owner: app',
      'INSERT INTO public."t 2" VALUES (1);',
    ].join('\n');
    const { tables, counter } = count(split(dump, 90, 91, 200));
    expect(tables).toEqual({ tables: { 'public.t': 7, 'public.nocols': 2, 'public.t 2': 1 } });
    expect(counter.contents.loads.map((load) => load.via)).toEqual(['insert', 'insert', 'insert']);
  });

  it('reads a quoted name that spans lines', () => {
    expect(tablesOf('INSERT INTO public."a\nb" VALUES (1);\nINSERT INTO public."a\nb" VALUES (2);\n')).toEqual({ tables: { 'public.a\nb': 2 } });
  });
});

describe('plainDumpTables', () => {
  const created = (...lines: string[]) => lines.join('\n') + '\n';

  it('lists created tables without data with 0, and leaves out partitioned and foreign tables', () => {
    const dump = created(
      'CREATE TABLE public.parent (\n    id integer\n)\nPARTITION BY RANGE (id);',
      'CREATE TABLE public.p1 (\n    id integer\n);',
      "CREATE TABLE public.ranged (\n    note text DEFAULT '\nPARTITION BY x'\n);",
      'CREATE FOREIGN TABLE public.remote (\n    a integer\n)\nSERVER s;',
      'COPY public.remote (a) FROM stdin;\n1\n\\.',
    );
    expect(tablesOf(dump)).toEqual({ tables: { 'public.p1': 0, 'public.ranged': 0 } });
  });

  it('takes rows loaded without their table created (an extension table, --data-only) under the COPY target', () => {
    expect(tablesOf('COPY public.spatial_ref_sys (srid) FROM stdin;\n900913\n\\.\n')).toEqual({ tables: { 'public.spatial_ref_sys': 1 } });
  });

  it('gives no tables when a partition loaded through its root cannot be told (--data-only)', () => {
    const dump = created('-- Data for Name: p1; Type: TABLE DATA; Schema: public; Owner: app', 'COPY public.parent (id) FROM stdin;\n1\n\\.');
    expect(tablesOf(dump)).toEqual({ unknown: expect.stringContaining('rows loaded through public.parent could not be told apart by partition') });
  });

  it('gives no tables when a COPY names its table unqualified, and still skips its data lines', () => {
    const dump = 'COPY t (a) FROM stdin;\nCREATE TABLE public.x (\n);\n\\.\n';
    const { tables, counter } = count([Buffer.from(dump)]);
    expect(tables).toEqual({ unknown: expect.stringContaining('not understood') });
    expect(counter.contents.created.size).toBe(0);
  });
});
