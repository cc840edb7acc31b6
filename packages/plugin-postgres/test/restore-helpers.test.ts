import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectArchiveFormat } from '../src/archive-format.js';
import { scratchDatabaseName } from '../src/postgres-restore.js';
import { listSome, quoteIdentifier, replaceStatements } from '../src/target-database.js';

describe('detectArchiveFormat', () => {
  it('tells a custom archive by its PGDMP magic even when it arrives a byte at a time, and keeps every byte', async () => {
    const archive = Buffer.from('PGDMP\x01\x0e\x00rest of the archive');
    const { format, stream } = await detectArchiveFormat(Readable.from([...archive].map((byte) => Buffer.from([byte]))));
    expect(format).toBe('custom');
    expect(await text(stream)).toBe(archive.toString());
  });

  it('takes anything else as SQL, short inputs included', async () => {
    for (const sql of ['--\n-- PostgreSQL database dump\n--\n', 'SEL']) {
      const { format, stream } = await detectArchiveFormat(Readable.from([Buffer.from(sql)]));
      expect(format).toBe('plain');
      expect(await text(stream)).toBe(sql);
    }
  });

  it('refuses an empty backup and one still gzip-compressed', async () => {
    await expect(detectArchiveFormat(Readable.from([]))).rejects.toMatchObject({ code: 'RESTORE_FAILED', message: 'the backup is empty: there is nothing to restore' });
    await expect(detectArchiveFormat(Readable.from([gzipSync('SELECT 1;')]))).rejects.toMatchObject({
      message: 'the backup is still gzip-compressed after decoding',
    });
  });

  it('passes the input\'s error on', async () => {
    const input = new Readable({ read() {} });
    input.push(Buffer.from('-- SQL that never ends'));
    const detected = await detectArchiveFormat(input);
    const consumed = text(detected.stream);
    input.destroy(new Error('checksum mismatch'));
    await expect(consumed).rejects.toThrow('checksum mismatch');
  });
});

describe('scratchDatabaseName', () => {
  const now = new Date('2026-02-01T03:15:00Z');
  it('is <database>_verify_<timestamp>_<random>', () => {
    expect(scratchDatabaseName('clara_main', now, 'ab12')).toBe('clara_main_verify_20260201_031500_ab12');
  });

  it('cuts the database name to fit 63 bytes, counting multi-byte characters', () => {
    const name = scratchDatabaseName('ü'.repeat(40), now, 'ab12');
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(name.endsWith('_verify_20260201_031500_ab12')).toBe(true);
  });
});

describe('replaceStatements', () => {
  it('drops every user schema and recreates public as a new database has it', () => {
    expect(replaceStatements(['audit', 'public', 'we"ird'], { major: 15, text: '15.4' })).toEqual([
      'DROP SCHEMA IF EXISTS "audit" CASCADE',
      'DROP SCHEMA IF EXISTS "public" CASCADE',
      'DROP SCHEMA IF EXISTS "we""ird" CASCADE',
      'CREATE SCHEMA public AUTHORIZATION pg_database_owner',
      'GRANT USAGE ON SCHEMA public TO PUBLIC',
      "COMMENT ON SCHEMA public IS 'standard public schema'",
    ]);
    expect(replaceStatements([], { major: 14, text: '14.1' })).toContain('GRANT ALL ON SCHEMA public TO PUBLIC');
  });

  it('quotes identifiers and shortens long lists', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(listSome(['a', 'b', 'c'], 2)).toBe('a, b and 1 more');
  });
});
