import { describe, expect, it } from 'vitest';
import { ArchiveTocReader } from '../../src/manifest/custom-archive-toc.js';

// A custom-format archive's start, written field by field as pg_dump's
// WriteHead and WriteToc do (pg_backup_archiver.c), for archive versions
// 1.14 (pg_dump 12-15), 1.15 (16) and 1.16 (17-18).

const INT_SIZE = 4;
const OFFSET_SIZE = 8;

function int(value: number): Buffer {
  const bytes = Buffer.alloc(1 + INT_SIZE);
  bytes[0] = value < 0 ? 1 : 0;
  bytes.writeUInt32LE(Math.abs(value), 1);
  return bytes;
}

function str(value: string | Buffer | null): Buffer {
  if (value === null) return int(-1);
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
  return Buffer.concat([int(bytes.length), bytes]);
}

interface Entry {
  desc: string;
  tag: string | Buffer;
  namespace: string | Buffer | null;
  defn?: string;
}

function archive(minor: number, entries: Entry[], trailer = Buffer.from('data blocks follow')): Buffer {
  const head = [
    Buffer.from('PGDMP'),
    Buffer.from([1, minor, 0, INT_SIZE, OFFSET_SIZE, 1]),
    minor >= 15 ? Buffer.from([1]) : int(-1),
    ...[0, 1, 2, 3, 4, 125, 0].map(int),
    str('clara'),
    str('15.18'),
    str('15.18'),
    int(entries.length),
  ];
  const toc = entries.flatMap((entry, index) => [
    int(index + 1),
    int(entry.desc === 'TABLE DATA' ? 1 : 0),
    str('1259'),
    str(String(16000 + index)),
    str(entry.tag),
    str(entry.desc),
    int(entry.desc === 'TABLE DATA' ? 2 : 1),
    str(entry.defn ?? ''),
    str(''),
    str(entry.desc === 'TABLE DATA' ? 'COPY x FROM stdin;\n' : ''),
    str(entry.namespace),
    str(''),
    str('heap'),
    ...(minor >= 16 ? [int(114)] : []),
    str('app'),
    str('false'),
    str('1'),
    str(null),
    Buffer.from([1]),
    Buffer.alloc(OFFSET_SIZE),
  ]);
  return Buffer.concat([...head, ...toc, trailer]);
}

const ENTRIES: Entry[] = [
  { desc: 'ENCODING', tag: 'ENCODING', namespace: null, defn: "SET client_encoding = 'UTF8';\n" },
  { desc: 'SCHEMA', tag: 'My "Schema"', namespace: null },
  { desc: 'TABLE', tag: 'Order Items', namespace: 'My "Schema"' },
  { desc: 'TABLE', tag: 'weird\nname', namespace: 'public' },
  { desc: 'INDEX', tag: 'weird_idx', namespace: 'public' },
  { desc: 'TABLE DATA', tag: 'Order Items', namespace: 'My "Schema"' },
];
const TABLES = [
  { desc: 'TABLE', tag: 'Order Items', namespace: 'My "Schema"' },
  { desc: 'TABLE', tag: 'weird\nname', namespace: 'public' },
  { desc: 'TABLE DATA', tag: 'Order Items', namespace: 'My "Schema"' },
];

async function readToc(bytes: Buffer, chunkSize = bytes.length) {
  const reader = new ArchiveTocReader();
  const out: Buffer[] = [];
  reader.on('data', (chunk: Buffer) => out.push(chunk));
  for (let at = 0; at < bytes.length; at += chunkSize) reader.write(bytes.subarray(at, at + chunkSize));
  reader.end();
  const toc = await reader.toc.catch((error: unknown) => error);
  return { toc, out: Buffer.concat(out) };
}

describe('ArchiveTocReader', () => {
  it.each([14, 15, 16])('reads the table entries of an archive version 1.%i and passes every byte on', async (minor) => {
    const bytes = archive(minor, ENTRIES);
    const { toc, out } = await readToc(bytes, 7);
    expect(toc).toEqual(TABLES);
    expect(out.equals(bytes)).toBe(true);
  });

  it('reads it whatever byte two chunks meet at', async () => {
    const bytes = archive(14, ENTRIES);
    for (let at = 1; at < bytes.length; at++) {
      const reader = new ArchiveTocReader();
      reader.resume();
      reader.write(bytes.subarray(0, at));
      reader.end(bytes.subarray(at));
      expect(await reader.toc, `split at ${at}`).toEqual(TABLES);
    }
  });

  it('reads a large table of contents while the data still streams past', async () => {
    const many: Entry[] = Array.from({ length: 3000 }, (_, index) => ({ desc: 'TABLE', tag: `t${index}`, namespace: 'public', defn: 'x'.repeat(100) }));
    const bytes = archive(16, [...ENTRIES, ...many], Buffer.alloc(4 * 1024 * 1024));
    const reader = new ArchiveTocReader();
    reader.resume();
    let read: unknown;
    void reader.toc.then((entries) => (read = entries));
    for (let at = 0; at < bytes.length; at += 64 * 1024) reader.write(bytes.subarray(at, at + 64 * 1024));
    await new Promise((resolve) => setImmediate(resolve));
    expect(read).toHaveLength(TABLES.length + many.length);
    reader.end();
  });

  it('reads names in the encoding the archive names', async () => {
    const entries: Entry[] = [
      { desc: 'ENCODING', tag: 'ENCODING', namespace: null, defn: "SET client_encoding = 'LATIN1';\n" },
      { desc: 'TABLE', tag: Buffer.from('Gr\xfc\xdfe', 'latin1'), namespace: 'public' },
    ];
    expect((await readToc(archive(14, entries))).toc).toEqual([{ desc: 'TABLE', tag: 'Grüße', namespace: 'public' }]);
  });

  it('rejects toc for an archive cut short, a newer archive version or no archive, and still passes the bytes', async () => {
    const cut = archive(14, ENTRIES).subarray(0, 200);
    expect((await readToc(cut)).toc).toMatchObject({ message: 'the archive ended before its table of contents did' });
    expect((await readToc(archive(17, ENTRIES))).toc).toMatchObject({ message: 'archive version 1.17 is not one this reader knows' });
    const sql = Buffer.from('--\n-- PostgreSQL database dump\n');
    const { toc, out } = await readToc(sql);
    expect(toc).toMatchObject({ message: 'not a custom-format archive (no PGDMP)' });
    expect(out.equals(sql)).toBe(true);
  });
});
