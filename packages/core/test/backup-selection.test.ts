import { describe, expect, it } from 'vitest';
import { chooseBackup, parseAt, pickBackup } from '../src/catalog/backup-selection.js';
import { createMemoryStore } from '@backupctl/plugin-api/testing';

const iso = (date: Date | undefined) => date?.toISOString();

describe('parseAt (--at)', () => {
  it('reads latest as no bound', () => {
    expect(parseAt('latest')).toBeUndefined();
    expect(parseAt(' LATEST ')).toBeUndefined();
  });

  it('reads a backup timestamp as that second, UTC', () => {
    expect(iso(parseAt('20260201_030000'))).toBe('2026-02-01T03:00:00.000Z');
  });

  it('reads a day as its last moment, so the day\'s last backup is taken', () => {
    expect(iso(parseAt('2026-02-01'))).toBe('2026-02-01T23:59:59.999Z');
    expect(iso(parseAt('20260201'))).toBe('2026-02-01T23:59:59.999Z');
  });

  it('reads ISO times, UTC unless a zone is given', () => {
    expect(iso(parseAt('2026-02-01T03:00'))).toBe('2026-02-01T03:00:00.000Z');
    expect(iso(parseAt('2026-02-01 03:00:05'))).toBe('2026-02-01T03:00:05.000Z');
    expect(iso(parseAt('2026-02-01T03:00:05.5Z'))).toBe('2026-02-01T03:00:05.500Z');
    expect(iso(parseAt('2026-02-01T04:00:00+01:00'))).toBe('2026-02-01T03:00:00.000Z');
    expect(iso(parseAt('2026-02-01T00:30:00-0230'))).toBe('2026-02-01T03:00:00.000Z');
  });

  it('refuses anything else, and impossible dates, with USAGE and a hint', () => {
    for (const text of ['yesterday', '2026-13-01', '20260230_000000', '2026-02-01T25:00', '1706756400', '']) {
      expect(() => parseAt(text), text).toThrow(expect.objectContaining({ code: 'USAGE', message: `--at "${text}" is not a time backupctl understands` }));
    }
  });
});

const backup = (key: string, time: string) => ({ key, size: 1, lastModified: new Date(0), time: new Date(time) });

describe('pickBackup', () => {
  const backups = [
    backup('b/clara_20260201_030000.sql.gz', '2026-02-01T03:00:00Z'),
    backup('b/clara_20260203_030000.sql.gz', '2026-02-03T03:00:00Z'),
    backup('b/clara_20260202_030000.sql.gz', '2026-02-02T03:00:00Z'),
  ];

  it('takes the newest without a bound, whatever the listing order', () => {
    expect(pickBackup(backups, undefined)?.key).toBe('b/clara_20260203_030000.sql.gz');
  });

  it('takes the newest at or before the bound, the bound itself included', () => {
    expect(pickBackup(backups, new Date('2026-02-02T03:00:00Z'))?.key).toBe('b/clara_20260202_030000.sql.gz');
    expect(pickBackup(backups, new Date('2026-02-02T02:59:59Z'))?.key).toBe('b/clara_20260201_030000.sql.gz');
    expect(pickBackup(backups, new Date('2026-01-31T00:00:00Z'))).toBeUndefined();
  });

  it('breaks a tie of the same second by the greater key, as ls orders them', () => {
    const tie = [backup('b/clara_20260201_030000.sql', '2026-02-01T03:00:00Z'), backup('b/clara_20260201_030000.sql.gz', '2026-02-01T03:00:00Z')];
    expect(pickBackup(tie, undefined)?.key).toBe('b/clara_20260201_030000.sql.gz');
    expect(pickBackup([...tie].reverse(), undefined)?.key).toBe('b/clara_20260201_030000.sql.gz');
  });
});

describe('chooseBackup', () => {
  const job = { name: 'clara', nameTemplate: '{job}_{timestamp}{ext}', extension: '.sql.gz' };
  function store() {
    const memory = createMemoryStore({ prefix: 'backups/clara/', location: 'bucket' });
    for (const key of [
      'backups/clara/clara_20260201_030000.sql.gz',
      'backups/clara/clara_20260202_030000.sql.gz',
      'backups/clara/clara_x_20260209_030000.sql.gz', // another job's
      'backups/clara/notes.txt',
    ]) {
      memory.objects.set(key, { body: Buffer.from(key), lastModified: new Date() });
    }
    return memory;
  }

  it('takes the newest of the job\'s own backups by default, ignoring other objects under the prefix', async () => {
    const chosen = await chooseBackup(store(), job, {});
    expect(chosen.key).toBe('backups/clara/clara_20260202_030000.sql.gz');
    expect(chosen.time?.toISOString()).toBe('2026-02-02T03:00:00.000Z');
    expect((await chooseBackup(store(), job, { at: '2026-02-01' })).key).toBe('backups/clara/clara_20260201_030000.sql.gz');
  });

  it('finds --key as a full key or as a name under the prefix, even one the template does not match', async () => {
    expect((await chooseBackup(store(), job, { key: 'backups/clara/clara_20260201_030000.sql.gz' })).key).toBe('backups/clara/clara_20260201_030000.sql.gz');
    expect((await chooseBackup(store(), job, { key: 'clara_20260201_030000.sql.gz' })).size).toBe('backups/clara/clara_20260201_030000.sql.gz'.length);
    const byHand = await chooseBackup(store(), job, { key: 'notes.txt' });
    expect(byHand).toMatchObject({ key: 'backups/clara/notes.txt', time: undefined });
  });

  it('says where it looked when nothing matches', async () => {
    await expect(chooseBackup(store(), job, { key: 'clara_20200101_000000.sql.gz' })).rejects.toMatchObject({
      code: 'BACKUP_NOT_FOUND',
      message: 'no object clara_20200101_000000.sql.gz in bucket under backups/clara/',
    });
    await expect(chooseBackup(store(), job, { at: '2026-01-31' })).rejects.toMatchObject({
      code: 'BACKUP_NOT_FOUND',
      message: 'job clara has no backup taken at or before 2026-01-31 23:59:59 UTC in bucket under backups/clara/; the oldest is 20260201_030000',
    });
    await expect(chooseBackup(createMemoryStore({ location: 'bucket', prefix: 'p/' }), job, {})).rejects.toMatchObject({
      code: 'BACKUP_NOT_FOUND',
      message: 'job clara has no backups in bucket under p/',
    });
  });

  it('refuses --key with --at', async () => {
    await expect(chooseBackup(store(), job, { key: 'a', at: 'latest' })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
