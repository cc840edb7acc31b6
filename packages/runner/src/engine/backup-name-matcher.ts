import { parseObjectTimestamp } from './object-name.js';

/** What identifies a job's backups: its name and its object name template. */
export interface BackupNaming {
  name: string;
  /** e.g. `{job}_{timestamp}{ext}` */
  nameTemplate: string;
}

const PLACEHOLDER = /\{(job|timestamp|ext)\}/g;
const STAMP = String.raw`(\d{8}_\d{6})`;
// Stages only ever append extensions (.sql, .gz, .dump...), each starting with a dot.
const EXTENSION = String.raw`(?:\.[^/]*)?`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A test that tells a job's backups from anything else in its store: the
 * key must be the sink's prefix followed by the job's name template filled
 * with this job's name, a valid timestamp and an extension. Returns the
 * backup's time (from its name) or undefined when the key is not one of the
 * job's backups, such as another job's backups under a shared prefix
 * (`clara_x_...` is not `clara`'s), metadata or files put there by hand.
 */
export function backupNameMatcher(job: BackupNaming, prefix: string): (key: string) => Date | undefined {
  const parts = job.nameTemplate.split(PLACEHOLDER);
  // split() with a capturing group alternates literal text and placeholder names.
  const pattern = parts
    .map((part, index) => {
      if (index % 2 === 0) return escapeRegExp(part);
      if (part === 'job') return escapeRegExp(job.name);
      return part === 'timestamp' ? STAMP : EXTENSION;
    })
    .join('');
  const name = new RegExp(`^${escapeRegExp(prefix)}${pattern}$`);
  return (key) => {
    const stamp = name.exec(key)?.[1];
    // parseObjectTimestamp reads `_YYYYMMDD_HHMMSS` and refuses impossible dates (month 13, hour 25).
    return stamp === undefined ? undefined : parseObjectTimestamp(`_${stamp}`);
  };
}
