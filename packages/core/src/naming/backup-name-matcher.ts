import { parseObjectTimestamp } from './object-name.js';

/** What identifies a job's backups: its name, its object name template and the extension its stages give them. */
export interface BackupNaming {
  name: string;
  /** e.g. `{job}_{timestamp}{ext}` */
  nameTemplate: string;
  /**
   * What fills `{ext}` in this pipeline (`.sql.gz`): its source's and
   * transforms' extension. Undefined when a stage is not configured here,
   * so only the job's records tell its backups (see job-backups.ts).
   */
  extension?: string;
}

/** A key shaped like one of the job's backups: the time in its name and what stands in for `{ext}`. */
export interface BackupName {
  time: Date;
  extension: string;
}

const PLACEHOLDER = /\{(job|timestamp|ext)\}/g;
const STAMP = String.raw`(\d{8}_\d{6})`;
// Stages only ever append extensions (.sql, .gz, .dump...), each starting with a dot.
const EXTENSION = String.raw`((?:\.[^/]*)?)`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The shape of a job's backups: the key must be the sink's prefix followed
 * by the job's name template filled with this job's name, a valid
 * timestamp and some extension. Returns the time and the extension, or
 * undefined when the key has another shape, such as another job's backups
 * under a shared prefix (`clara_x_...` is not `clara`'s) or metadata.
 *
 * The shape alone does not make a backup: `clara_20200101_000000.sql.gz.bak`,
 * a copy made by hand, has it too. Which extensions are the job's is
 * decided by listJobBackups (job-backups.ts), the one rule every reader uses.
 */
export function backupNameMatcher(job: Pick<BackupNaming, 'name' | 'nameTemplate'>, prefix: string): (key: string) => BackupName | undefined {
  const parts = job.nameTemplate.split(PLACEHOLDER);
  const groups: ('timestamp' | 'ext')[] = [];
  // split() with a capturing group alternates literal text and placeholder names.
  const pattern = parts
    .map((part, index) => {
      if (index % 2 === 0) return escapeRegExp(part);
      if (part === 'job') return escapeRegExp(job.name);
      groups.push(part as 'timestamp' | 'ext');
      return part === 'timestamp' ? STAMP : EXTENSION;
    })
    .join('');
  const name = new RegExp(`^${escapeRegExp(prefix)}${pattern}$`);
  return (key) => {
    const match = name.exec(key);
    if (!match) return undefined;
    const stamp = match[groups.indexOf('timestamp') + 1];
    const extension = groups.includes('ext') ? match[groups.indexOf('ext') + 1] ?? '' : '';
    // parseObjectTimestamp reads `_YYYYMMDD_HHMMSS` and refuses impossible dates (month 13, hour 25).
    const time = stamp === undefined ? undefined : parseObjectTimestamp(`_${stamp}`);
    return time && { time, extension };
  };
}
