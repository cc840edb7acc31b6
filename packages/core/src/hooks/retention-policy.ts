import { newestFirst } from '../catalog/backup-selection.js';

/** A backup as retention sees it: its key and the UTC time in its name. */
export interface DatedBackup {
  key: string;
  time: Date;
}

/**
 * What to keep, restic-style: a backup kept by any rule stays. A rule set
 * to 0 is off. With every rule off, nothing is deleted (as restic's
 * `forget` refuses to remove anything without a policy).
 */
export interface RetentionRules {
  /** Keep every backup at most this many days old (fractions allowed). */
  days: number;
  /** Keep the newest N backups. */
  keepLast: number;
  /** Keep the newest backup of each of the N newest UTC days that have one. */
  keepDaily: number;
  /** Keep the newest backup of each of the N newest ISO weeks that have one. */
  keepWeekly: number;
  /** Keep the newest backup of each of the N newest calendar months that have one. */
  keepMonthly: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** True when at least one rule is on; without one, retention deletes nothing. */
export function hasRetentionRule(rules: RetentionRules): boolean {
  return rules.days > 0 || rules.keepLast > 0 || rules.keepDaily > 0 || rules.keepWeekly > 0 || rules.keepMonthly > 0;
}

/**
 * The backups no rule keeps, oldest first. Whatever the rules, the newest
 * backup and the keys in `protect` (the backup just written) are kept, and
 * with no rule on nothing is expired. `now` is the run's start, so one run
 * decides consistently.
 */
export function selectExpired(
  backups: readonly DatedBackup[],
  rules: RetentionRules,
  now: Date,
  protect: readonly string[] = [],
): DatedBackup[] {
  if (!hasRetentionRule(rules)) return [];
  // Newest first; equal times ordered by key so the outcome never depends on listing order.
  const sorted = [...backups].sort(newestFirst);
  const kept = new Set<string>(protect);
  if (sorted[0]) kept.add(sorted[0].key);

  if (rules.days > 0) {
    const cutoff = now.getTime() - rules.days * DAY_MS;
    for (const backup of sorted) if (backup.time.getTime() >= cutoff) kept.add(backup.key);
  }
  for (const backup of sorted.slice(0, rules.keepLast)) kept.add(backup.key);
  keepNewestPerPeriod(sorted, rules.keepDaily, dayOf, kept);
  keepNewestPerPeriod(sorted, rules.keepWeekly, isoWeekOf, kept);
  keepNewestPerPeriod(sorted, rules.keepMonthly, monthOf, kept);

  return sorted.filter((backup) => !kept.has(backup.key)).reverse();
}

/** Walks newest first: the first backup seen in a period is that period's newest. */
function keepNewestPerPeriod(sorted: readonly DatedBackup[], count: number, periodOf: (time: Date) => string, kept: Set<string>): void {
  let periods = 0;
  let previous: string | undefined;
  for (const backup of sorted) {
    if (periods >= count) return;
    const period = periodOf(backup.time);
    if (period === previous) continue;
    previous = period;
    periods++;
    kept.add(backup.key);
  }
}

function dayOf(time: Date): string {
  return time.toISOString().slice(0, 10);
}

function monthOf(time: Date): string {
  return time.toISOString().slice(0, 7);
}

/** `2026-W05`: the ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday), in UTC. */
export function isoWeekOf(time: Date): string {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const weekday = day.getUTCDay() || 7; // Monday 1 ... Sunday 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const year = day.getUTCFullYear();
  const week = Math.floor((day.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}
