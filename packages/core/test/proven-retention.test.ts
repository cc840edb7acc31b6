import { describe, expect, it } from 'vitest';
import type { Logger } from '@backupctl/plugin-api';
import { createMemoryStore } from '@backupctl/plugin-api/testing';
import { acceptAnomaly, recordAnomaly } from '../src/catalog/anomaly-records.js';
import { recordVerification, readJobVerifications } from '../src/catalog/verification-records.js';
import { DEFAULT_ANOMALY, findAnomalies } from '../src/backup/anomaly-guard.js';
import { applyRetention } from '../src/hooks/retention.js';

const PREFIX = 'backups/clara/';
const key = (day: number) => `${PREFIX}clara_202602${String(day).padStart(2, '0')}_030000.sql.gz`;

function storeWithDays(days: readonly number[]) {
  const store = createMemoryStore({ prefix: PREFIX, location: 'bucket' });
  for (const day of days) store.objects.set(key(day), { body: Buffer.from('x'), lastModified: new Date() });
  return store;
}

function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { lines, debug: () => {}, info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

const pass = (store: ReturnType<typeof storeWithDays>, logger: Logger) => ({
  job: 'clara',
  extension: '.sql.gz',
  store,
  logger,
  now: new Date('2026-02-28T00:00:00Z'),
});

const verification = (day: number, result: 'passed' | 'failed') => ({
  key: key(day),
  job: 'clara',
  result,
  against: 'manifest' as const,
  verifiedAt: `2026-02-${String(day).padStart(2, '0')}T04:00:00.000Z`,
  durationMs: 1000,
  differences: [],
  tables: 3,
});

describe('findAnomalies', () => {
  it('flags a shrink beyond the limit and a table that emptied; not a dropped table, an ignored one or a small shrink', () => {
    const previous = { size: 1000, tables: { 'public.orders': 900, 'public.users': 100, 'public.queue': 5, 'public.old': 7 } };
    expect(findAnomalies(previous, { size: 600, tables: { 'public.orders': 500, 'public.users': 100, 'public.queue': 5 } }, DEFAULT_ANOMALY)).toEqual([]);
    expect(
      findAnomalies(previous, { size: 400, tables: { 'public.orders': 0, 'public.users': 100, 'public.queue': 0 } }, { ...DEFAULT_ANOMALY, ignoreTables: ['public.queue'] }),
    ).toEqual(['dump size shrank by 60% (1000 B -> 400 B)', 'total rows shrank by 90% (1012 -> 100)', 'public.orders: 900 rows -> empty']);
    expect(findAnomalies(previous, { size: 10 }, { ...DEFAULT_ANOMALY, maxShrinkPercent: 100 })).toEqual([]);
  });
});

describe('retention with verifications and anomaly flags', () => {
  it('keeps the newest backup that passed verification, even when newer ones failed, and says so', async () => {
    const store = storeWithDays([1, 2, 3, 4]);
    await recordVerification(store, verification(2, 'passed'));
    await recordVerification(store, verification(3, 'failed'));
    const logger = collectingLogger();
    const outcome = await applyRetention({ days: 0, keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, pass(store, logger));
    expect(outcome.expired).toEqual([key(1), key(3)]);
    expect([...store.objects.keys()].sort()).toEqual([key(2), key(4)]);
    expect(logger.lines).toContain(
      `WARN: Cleanup: keeping what the rules would delete: ${key(2)} is the newest backup that passed verification (2026-02-02T04:00:00.000Z)`,
    );
    // The records of what was deleted went with it.
    expect([...store.metadata.keys()].filter((name) => name.includes(key(3)))).toEqual([]);
    expect((await readJobVerifications(store, 'clara')).map((entry) => entry.key)).toEqual([key(3), key(2)]);
  });

  it('keeps the newest backup that passed, by its time, not the one verified last', async () => {
    const store = storeWithDays([1, 2, 3, 4]);
    await recordVerification(store, verification(3, 'passed'));
    // An operator then verifies an older backup: it passes too, and becomes the index's first entry.
    await recordVerification(store, { ...verification(1, 'passed'), verifiedAt: '2026-02-04T05:00:00.000Z' });
    const outcome = await applyRetention({ days: 0, keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, pass(store, collectingLogger()));
    expect(outcome.expired).toEqual([key(1), key(2)]);
    expect([...store.objects.keys()].sort()).toEqual([key(3), key(4)]);
  });

  it('an accept and a backup run flagging at the same moment lose neither write', async () => {
    const store = storeWithDays([1, 2, 3, 4]);
    const flag = (day: number) => ({
      key: key(day),
      job: 'clara',
      previousKey: key(day - 1),
      reasons: ['public.orders: 900 rows -> empty'],
      held: true,
      takenAt: `2026-02-0${day}T03:00:00.000Z`,
      flaggedAt: `2026-02-0${day}T03:01:00.000Z`,
    });
    await recordAnomaly(store, flag(2));
    // The run read the list (flag 2 open) before the accept, and writes it after.
    const staleList = store.metadata.get('job-anomalies/backups/clara/clara.json');
    await acceptAnomaly(store, 'clara', key(2), new Date('2026-02-04T00:00:00Z'));
    await recordAnomaly(store, flag(4));
    store.metadata.set('job-anomalies/backups/clara/clara.json', { open: [...(staleList as { open: unknown[] }).open, flag(4)] });
    const holds = collectingLogger();
    await applyRetention({ days: 0, keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, pass(store, holds));
    // Flag 2 stays accepted, flag 4 stands: everything up to day 4 is held.
    expect([...store.objects.keys()].sort()).toEqual([key(1), key(2), key(3), key(4)]);
    expect(holds.lines.filter((line) => line.includes('is not accepted')).map((line) => line.match(/anomaly of (\S+)/)![1])).toEqual([key(4)]);
  });

  it('holds the flagged backup and every older one until the flag is accepted', async () => {
    const store = storeWithDays([1, 2, 3, 4]);
    await recordAnomaly(store, {
      key: key(3),
      job: 'clara',
      previousKey: key(2),
      reasons: ['public.orders: 900 rows -> empty'],
      held: true,
      takenAt: '2026-02-03T03:00:00.000Z',
      flaggedAt: '2026-02-03T03:01:00.000Z',
    });
    const rules = { days: 0, keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 };
    const logger = collectingLogger();
    expect((await applyRetention(rules, pass(store, logger))).expired).toEqual([]);
    expect(logger.lines.some((line) => line.includes(`the anomaly of ${key(3)} (public.orders: 900 rows -> empty) is not accepted: holding it and 2 older backups`))).toBe(true);

    expect(await acceptAnomaly(store, 'clara', key(3), new Date('2026-02-05T00:00:00Z'))).toMatchObject({ acceptedAt: '2026-02-05T00:00:00.000Z' });
    expect(await acceptAnomaly(store, 'clara', key(3), new Date())).toBeUndefined();
    expect((await applyRetention(rules, pass(store, collectingLogger()))).expired).toEqual([key(1), key(2), key(3)]);
  });

  it('deletes nothing when the records cannot be read', async () => {
    const store = storeWithDays([1, 2]);
    store.metadata.set('job-verifications/backups/clara/clara.json', '{not json');
    const broken = { ...store, readMetadata: async (name: string) => (name.startsWith('job-verifications/') ? Promise.reject(new Error('not valid JSON')) : store.readMetadata(name)) };
    await expect(applyRetention({ days: 0, keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, pass(broken as typeof store, collectingLogger()))).rejects.toThrow('not valid JSON');
    expect(store.objects.size).toBe(2);
  });
});
