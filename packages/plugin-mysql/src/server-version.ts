/** A server or a tool: which engine, and its version. */
export interface EngineVersion {
  flavor: 'MariaDB' | 'MySQL';
  major: number;
  minor: number;
  /** `10.11.19`, `8.0.36`. */
  text: string;
}

/** `SELECT VERSION()`: `10.11.19-MariaDB-0+deb12u1`, `8.0.36`, `8.4.0-log`. */
export function parseServerVersion(version: string): EngineVersion | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) return undefined;
  return {
    flavor: /mariadb/i.test(version) ? 'MariaDB' : 'MySQL',
    major: Number(match[1]),
    minor: Number(match[2]),
    text: `${match[1]}.${match[2]}.${match[3]}`,
  };
}

/**
 * A client tool's `--version` line: MariaDB's `mariadb-dump  Ver 10.19
 * Distrib 10.11.19-MariaDB, for ...` or `mariadb-dump from 11.4.2-MariaDB,
 * client 10.19 ...`; MySQL's `mysqldump  Ver 8.0.36 for Linux ...`.
 */
export function parseToolVersion(line: string): EngineVersion | undefined {
  const mariadb = /(?:Distrib|from) (\d+)\.(\d+)\.(\d+)-MariaDB/i.exec(line);
  if (mariadb) return { flavor: 'MariaDB', major: Number(mariadb[1]), minor: Number(mariadb[2]), text: `${mariadb[1]}.${mariadb[2]}.${mariadb[3]}` };
  const mysql = /\bVer (\d+)\.(\d+)\.(\d+)/.exec(line);
  if (mysql) return { flavor: 'MySQL', major: Number(mysql[1]), minor: Number(mysql[2]), text: `${mysql[1]}.${mysql[2]}.${mysql[3]}` };
  return undefined;
}

/** `MariaDB 10.11.19` */
export function describeVersion(version: EngineVersion): string {
  return `${version.flavor} ${version.text}`;
}
