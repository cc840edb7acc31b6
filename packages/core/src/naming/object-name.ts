import { formatTimestamp } from '@backupctl/plugin-api';

export { formatTimestamp };
const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = new Set(['job', 'timestamp', 'ext']);

/** Why a name template is unusable, or undefined when it is fine. */
export function checkNameTemplate(template: string): string | undefined {
  const unknown = [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '').filter((name) => !KNOWN.has(name));
  if (unknown.length) return `unknown placeholder {${unknown[0]}} (known: {job}, {timestamp}, {ext})`;
  // Without a timestamp every run would overwrite the last backup, and
  // respawn protection and retention could not date the objects.
  if (!template.includes('{timestamp}')) return 'must contain {timestamp}';
  if (template.startsWith('/') || template.split('/').includes('..')) return 'must be a relative name without ".."';
  return undefined;
}

/** The object name of one run: `{job}_{timestamp}{ext}` -> `clara_20260201_030000.sql.gz`. */
export function renderObjectName(template: string, values: { job: string; startedAt: Date; ext: string }): string {
  const replacements: Record<string, string> = {
    job: values.job,
    timestamp: formatTimestamp(values.startedAt),
    ext: values.ext,
  };
  return template.replace(PLACEHOLDER, (match, name: string) => replacements[name] ?? match);
}

const KEY_TIMESTAMP = /_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:\.[^/]*)?$/;

/**
 * The UTC time in a backup's name (`backups/clara/clara_20260201_030000.sql.gz`
 * -> 2026-02-01T03:00:00Z), or undefined when the name carries none. When
 * `job` is given, the file name must also start with `<job>_`.
 */
export function parseObjectTimestamp(key: string, job?: string): Date | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (job !== undefined && !name.startsWith(`${job}_`)) return undefined;
  const match = KEY_TIMESTAMP.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
  // Reject 20261341_250000 and the like rather than roll them over.
  return formatTimestamp(date) === match.slice(1, 4).join('') + '_' + match.slice(4, 7).join('') ? date : undefined;
}
