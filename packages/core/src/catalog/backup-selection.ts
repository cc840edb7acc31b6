import { BackupctlError, ErrorCodes, type Store, type StoredObject } from '@backupctl/plugin-api';
import { backupNameMatcher, type BackupNaming } from '../naming/backup-name-matcher.js';
import { listJobBackups, type DatedBackup } from './job-backups.js';
import { formatUtcTime } from '../log/logger.js';
import { formatTimestamp } from '../naming/object-name.js';

/** Which backup `restore` and `verify` take: by key, or the newest at or before a time. */
export interface BackupSelection {
  /** A full key (`backups/clara/clara_20260201_030000.sql.gz`) or a name under the job's prefix. */
  key?: string;
  /** `latest` (the default) or a time, see {@link parseAt}. */
  at?: string;
}

/** A backup chosen for restore: the object and the time in its name (absent for a key given by hand that carries none). */
export interface ChosenBackup extends StoredObject {
  time?: Date;
}

const STAMP = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/;
const DAY = /^(\d{4})-?(\d{2})-?(\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:?\d{2})?$/i;

function usage(text: string): BackupctlError {
  return new BackupctlError(ErrorCodes.USAGE, `--at "${text}" is not a time backupctl understands`, {
    hint: 'use latest, a backup timestamp (20260201_030000), a day (2026-02-01) or an ISO time (2026-02-01T03:00:00Z); times without a zone are UTC',
  });
}

function utc(year: string, month: string, day: string, hour = '0', minute = '0', second = '0', ms = 0): Date | undefined {
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), ms));
  // Date.UTC rolls 2026-02-30 over to March: refuse instead.
  const valid = date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day) && date.getUTCHours() === Number(hour) &&
    date.getUTCMinutes() === Number(minute) && date.getUTCSeconds() === Number(second);
  return valid ? date : undefined;
}

/**
 * Reads `--at`: undefined for `latest`, else the latest moment a backup may
 * have been taken. Backup names are UTC, so are times given without a zone.
 * - `20260201_030000` (as in object names): that second;
 * - `2026-02-01` or `20260201`: the end of that day, so the day's last backup is taken;
 * - `2026-02-01T03:00`, `2026-02-01 03:00:00`, `2026-02-01T03:00:00+01:00`: that time.
 *
 * @throws BackupctlError USAGE for anything else.
 */
export function parseAt(text: string): Date | undefined {
  const value = text.trim();
  if (value.toLowerCase() === 'latest') return undefined;
  let match = STAMP.exec(value);
  if (match) {
    const [, year, month, day, hour, minute, second] = match as unknown as string[];
    return utc(year!, month!, day!, hour, minute, second) ?? fail();
  }
  match = DAY.exec(value);
  if (match) {
    const [, year, month, day] = match as unknown as string[];
    const start = utc(year!, month!, day!) ?? fail();
    return new Date(start.getTime() + 86_400_000 - 1);
  }
  match = DATE_TIME.exec(value);
  if (match) {
    const [, date, time, zone] = match as unknown as [string, string, string, string | undefined];
    const [year, month, day] = date.split('-') as [string, string, string];
    const [hms, fraction = '0'] = time.split('.') as [string, string?];
    const [hour, minute, second = '0'] = hms.split(':') as [string, string, string?];
    const local = utc(year, month, day, hour, minute, second, Number(fraction.padEnd(3, '0'))) ?? fail();
    return new Date(local.getTime() - zoneOffsetMs(zone));
  }
  return fail();

  function fail(): never {
    throw usage(text);
  }
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/** Newest first; the same second ordered by key (greater first), so the order never depends on listing order. */
export function newestFirst(a: { key: string; time: Date }, b: { key: string; time: Date }): number {
  return b.time.getTime() - a.time.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0);
}

/**
 * The newest backup taken at or before `until` (any, when undefined). Two
 * backups of the same second: the greater key wins, as `ls` orders them.
 */
export function pickBackup<T extends { key: string; time: Date }>(backups: readonly T[], until: Date | undefined): T | undefined {
  let best: T | undefined;
  for (const backup of backups) {
    if (until !== undefined && backup.time.getTime() > until.getTime()) continue;
    if (!best || newestFirst(backup, best) < 0) best = backup;
  }
  return best;
}

/** The job's backups in the store (listJobBackups' rule), in listing order. */
export async function listDatedBackups(store: Store, job: BackupNaming, signal?: AbortSignal): Promise<DatedBackup[]> {
  return (await listJobBackups(store, job, signal)).backups;
}

/** The first of `names` the store holds, each as a full key or a name under its prefix (the order given, the key as written first). */
export async function findKey(store: Store, job: BackupNaming, names: readonly string[], signal?: AbortSignal): Promise<ChosenBackup | undefined> {
  const candidates = [...new Set(names.flatMap((name) => [name, `${store.prefix}${name}`]))];
  for (const key of candidates) {
    for await (const object of store.list(key, signal)) {
      if (object.key === key) return { ...object, time: backupNameMatcher(job, store.prefix)(key)?.time };
    }
  }
  return undefined;
}

/** `--key` or `--at` (never both); undefined: the key, or the newest of all. */
export function readSelection(selection: BackupSelection): Date | undefined {
  if (selection.key !== undefined && selection.at !== undefined) {
    throw new BackupctlError(ErrorCodes.USAGE, 'give either --key or --at, not both');
  }
  return selection.key === undefined ? parseAt(selection.at ?? 'latest') : undefined;
}

/**
 * What was asked of `candidates`: with `--key`, the first of them (the ones
 * found under that key); otherwise the newest taken at or before `until`.
 * Throws the not-found errors, naming `where` the candidates were looked for.
 *
 * @throws BackupctlError BACKUP_NOT_FOUND
 */
export function pickAsked<T extends { key: string; time?: Date }>(
  candidates: readonly T[],
  selection: BackupSelection,
  until: Date | undefined,
  job: BackupNaming,
  where: string,
): T {
  const hint = `list the job's backups with: backupctl ls --job ${job.name}`;
  if (selection.key !== undefined) {
    if (candidates[0]) return candidates[0];
    throw new BackupctlError(ErrorCodes.BACKUP_NOT_FOUND, `no object ${selection.key} in ${where}`, { job: job.name, hint });
  }
  const dated = candidates.filter((candidate): candidate is T & { time: Date } => candidate.time !== undefined);
  const chosen = pickBackup(dated, until);
  if (chosen) return chosen;
  if (dated.length === 0) {
    throw new BackupctlError(ErrorCodes.BACKUP_NOT_FOUND, `job ${job.name} has no backups in ${where}`, {
      job: job.name,
      hint: `run one with: backupctl run --job ${job.name}`,
    });
  }
  const oldest = dated.reduce((a, b) => (a.time.getTime() <= b.time.getTime() ? a : b));
  throw new BackupctlError(
    ErrorCodes.BACKUP_NOT_FOUND,
    `job ${job.name} has no backup taken at or before ${formatUtcTime(until!)} in ${where}; the oldest is ${formatTimestamp(oldest.time)}`,
    { job: job.name, hint },
  );
}

/**
 * Finds the backup a restore or verify asked for. `--key` may be the full
 * key or a name under the sink's prefix, and need not follow the name
 * template (an object copied there by hand); otherwise the newest backup at
 * or before `--at` (default latest).
 *
 * @throws BackupctlError BACKUP_NOT_FOUND naming where it looked; USAGE for both flags or a bad `--at`.
 */
export async function chooseBackup(store: Store, job: BackupNaming, selection: BackupSelection, signal?: AbortSignal): Promise<ChosenBackup> {
  const until = readSelection(selection);
  const candidates =
    selection.key !== undefined
      ? [await findKey(store, job, [selection.key], signal)].filter((found) => found !== undefined)
      : await listDatedBackups(store, job, signal);
  return pickAsked(candidates, selection, until, job, `${store.location}${store.prefix ? ` under ${store.prefix}` : ''}`);
}
