/** A PostgreSQL release, as the server or a client tool reports it. */
export interface PostgresVersion {
  /** The major release pg_dump compatibility is judged by: 15, 16, ... (9.6 before version 10). */
  major: number;
  /** Human form: `15.18`, `9.6.24`. */
  text: string;
}

/**
 * Reads `SHOW server_version_num` (e.g. `150018` → 15.18, `90624` → 9.6.24).
 * Undefined when the value is not such a number.
 */
export function parseServerVersionNum(value: string): PostgresVersion | undefined {
  if (!/^\d{5,}$/.test(value.trim())) return undefined;
  const num = Number(value);
  if (num >= 100_000) {
    const major = Math.floor(num / 10_000);
    return { major, text: `${major}.${num % 10_000}` };
  }
  const first = Math.floor(num / 10_000);
  const second = Math.floor(num / 100) % 100;
  return { major: Number(`${first}.${second}`), text: `${first}.${second}.${num % 100}` };
}

/**
 * Reads a client tool's `--version` line, e.g.
 * `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → major 15.
 * Undefined when no version is found.
 */
export function parseToolVersion(output: string): PostgresVersion | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output) ?? /\b(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  const text = match.slice(1).filter((part) => part !== undefined).join('.');
  // Before version 10 the major release had two parts (9.6).
  const major = first >= 10 || match[2] === undefined ? first : Number(`${first}.${match[2]}`);
  return { major, text };
}

/** The directory name under /usr/lib/postgresql (`15`, `9.6`) as a major release, or undefined. */
export function parseMajorDirectory(name: string): number | undefined {
  return /^\d+(?:\.\d+)?$/.test(name) ? Number(name) : undefined;
}
