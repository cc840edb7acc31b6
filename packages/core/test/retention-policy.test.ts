import { describe, expect, it } from 'vitest';
import { isoWeekOf, selectExpired, type DatedBackup, type RetentionRules } from '../src/hooks/retention-policy.js';

const OFF: RetentionRules = { days: 0, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 };
const now = new Date('2026-02-01T03:00:00Z');

/** A backup named as the engine names them, at the given UTC time. */
function backup(iso: string): DatedBackup {
  const time = new Date(iso);
  const stamp = iso.replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return { key: `backups/clara/clara_${stamp}.sql.gz`, time };
}

const expiredTimes = (backups: DatedBackup[], rules: Partial<RetentionRules>, protect: string[] = []) =>
  selectExpired(backups, { ...OFF, ...rules }, now, protect).map((expired) => expired.time.toISOString().slice(0, 16));

describe('selectExpired: days', () => {
  const backups = [
    backup('2026-01-20T03:00:00Z'),
    backup('2026-01-25T03:00:00Z'), // exactly 7 days old: kept
    backup('2026-01-24T02:59:59Z'), // a second over 7 days: expired
    backup('2026-01-31T03:00:00Z'),
    backup('2026-02-01T03:00:00Z'),
  ];

  it('expires the backups older than `days`, oldest first, and keeps those at most `days` old', () => {
    expect(expiredTimes(backups, { days: 7 })).toEqual(['2026-01-20T03:00', '2026-01-24T02:59']);
  });

  it('takes fractions of a day', () => {
    expect(expiredTimes(backups, { days: 0.5 })).toEqual([
      '2026-01-20T03:00',
      '2026-01-24T02:59',
      '2026-01-25T03:00',
      '2026-01-31T03:00',
    ]);
  });

  it('keeps backups dated in the future (a clock ahead of ours)', () => {
    expect(expiredTimes([backup('2026-01-01T00:00:00Z'), backup('2026-03-01T00:00:00Z')], { days: 7 })).toEqual(['2026-01-01T00:00']);
  });
});

describe('selectExpired: the newest and the protected are never deleted', () => {
  it('keeps the newest backup even when every backup is older than `days`', () => {
    const old = [backup('2025-12-01T03:00:00Z'), backup('2025-12-03T03:00:00Z'), backup('2025-12-02T03:00:00Z')];
    expect(expiredTimes(old, { days: 7 })).toEqual(['2025-12-01T03:00', '2025-12-02T03:00']);
  });

  it('keeps a protected key whatever its age', () => {
    const backups = [backup('2025-12-01T03:00:00Z'), backup('2025-12-02T03:00:00Z'), backup('2026-02-01T03:00:00Z')];
    expect(expiredTimes(backups, { days: 1 }, [backups[0]!.key])).toEqual(['2025-12-02T03:00']);
  });

  it('expires nothing when every rule is off', () => {
    expect(expiredTimes([backup('2020-01-01T00:00:00Z'), backup('2021-01-01T00:00:00Z')], {})).toEqual([]);
  });

  it('decides the same whatever the listing order', () => {
    const backups = [backup('2026-01-01T00:00:00Z'), backup('2026-01-02T00:00:00Z'), backup('2026-01-03T00:00:00Z'), backup('2026-01-04T00:00:00Z')];
    const forward = expiredTimes(backups, { keepLast: 2 });
    expect(expiredTimes([...backups].reverse(), { keepLast: 2 })).toEqual(forward);
    expect(forward).toEqual(['2026-01-01T00:00', '2026-01-02T00:00']);
  });
});

describe('selectExpired: restic-style keep rules', () => {
  // Newest first, the run's own backup on top.
  const history = [
    backup('2026-02-01T03:00:00Z'), // Sun, ISO week 2026-W05
    backup('2026-01-31T15:00:00Z'), // Sat, W05
    backup('2026-01-31T03:00:00Z'), // Sat, W05, older on the same day
    backup('2026-01-28T03:00:00Z'), // Wed, W05
    backup('2026-01-25T03:00:00Z'), // Sun, W04
    backup('2026-01-19T03:00:00Z'), // Mon, W04
    backup('2026-01-05T03:00:00Z'), // Mon, W02
    backup('2025-12-31T03:00:00Z'), // Wed, 2026-W01 (ISO year 2026), December
    backup('2025-11-15T03:00:00Z'), // November
    backup('2025-10-01T03:00:00Z'), // October
  ];
  const kept = (rules: Partial<RetentionRules>) => {
    const expired = new Set(selectExpired(history, { ...OFF, ...rules }, now).map((b) => b.key));
    return history.filter((b) => !expired.has(b.key)).map((b) => b.time.toISOString().slice(0, 16));
  };

  it('keepLast keeps the N newest', () => {
    expect(kept({ keepLast: 3 })).toEqual(['2026-02-01T03:00', '2026-01-31T15:00', '2026-01-31T03:00']);
  });

  it('keepDaily keeps the newest backup of each of the N newest days that have one', () => {
    expect(kept({ keepDaily: 3 })).toEqual(['2026-02-01T03:00', '2026-01-31T15:00', '2026-01-28T03:00']);
  });

  it('keepWeekly keeps the newest backup of each of the N newest ISO weeks that have one', () => {
    expect(kept({ keepWeekly: 4 })).toEqual(['2026-02-01T03:00', '2026-01-25T03:00', '2026-01-05T03:00', '2025-12-31T03:00']);
  });

  it('keepMonthly keeps the newest backup of each of the N newest months that have one', () => {
    expect(kept({ keepMonthly: 3 })).toEqual(['2026-02-01T03:00', '2026-01-31T15:00', '2025-12-31T03:00']);
  });

  it('keeps the union of all rules (grandfather-father-son)', () => {
    expect(kept({ days: 2, keepDaily: 2, keepWeekly: 2, keepMonthly: 4 })).toEqual([
      '2026-02-01T03:00', // newest, days, daily, weekly, monthly
      '2026-01-31T15:00', // days, daily, monthly (newest of January)
      '2026-01-31T03:00', // days: 1 day old
      '2026-01-25T03:00', // weekly (newest of W04)
      '2025-12-31T03:00', // monthly
      '2025-11-15T03:00', // monthly
    ]);
  });
});

describe('isoWeekOf', () => {
  it('numbers weeks as ISO 8601 does, across year ends', () => {
    expect(isoWeekOf(new Date('2026-01-01T12:00:00Z'))).toBe('2026-W01'); // Thursday
    expect(isoWeekOf(new Date('2025-12-29T00:00:00Z'))).toBe('2026-W01'); // Monday of that week
    expect(isoWeekOf(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53'); // Friday of 2026's last week
    expect(isoWeekOf(new Date('2026-02-01T23:59:59Z'))).toBe('2026-W05'); // Sunday
    expect(isoWeekOf(new Date('2026-02-02T00:00:00Z'))).toBe('2026-W06'); // Monday
  });
});
