import { serverParts, type SourcePart } from '@backupctl/plugin-api';
import type { Client } from 'pg';

/** The part that holds the server's globals (roles, tablespaces). */
export const GLOBALS_PART = 'globals';

/** What `expand` reads of the source's options. */
export interface WholeServerOptions {
  url: string;
  /** `all`, or the names of the databases to back up; unset: the URL's database only. */
  databases?: 'all' | string[];
  globals?: boolean;
  globalsWithPasswords?: boolean;
  /** Set on a part by `expand`: what this source instance dumps. */
  dump?: 'database' | 'globals';
  /** Where the advisory lock is taken, when not on `url`'s server; moved to each part's database as `url` is. */
  lockUrl?: string;
}

/** Every database a whole-server backup takes: those one can connect to, templates left out. */
export const LIST_DATABASES_SQL = 'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1';

/**
 * The same connection URL naming another database: its path replaced, and a
 * `dbname` query parameter (which would override the path) removed. The
 * user, password and other parameters stay as written.
 */
export function urlWithDatabase(url: string, database: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  // The authority ends at the first '/' or '?' (a password holding them must be percent-encoded).
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  const queryStart = afterAuthority.indexOf('?');
  const query = queryStart < 0 ? '' : afterAuthority.slice(queryStart + 1);
  const kept = query.split('&').filter((pair) => pair !== '' && decodeURIComponent(pair.split('=')[0] ?? '') !== 'dbname');
  return `${scheme}${authority}/${encodeURIComponent(database)}${kept.length ? `?${kept.join('&')}` : ''}`;
}

/** True when the options ask for more than the URL's one database. */
export function expands(options: WholeServerOptions): boolean {
  return options.dump === undefined && (options.databases !== undefined || options.globals === true);
}

/**
 * The parts of a whole-server source: `globals` first (when asked for),
 * then one per database, each with the source's options, its URL naming
 * that database and `dump` saying what it dumps. `listDatabases` is called
 * only when the list depends on the server (`all`, or names to check);
 * with `known` (restore) the server is not asked at all.
 *
 * @throws BackupctlError SOURCE_FAILED naming a listed database the server does not have.
 */
export async function wholeServerParts(
  options: WholeServerOptions & Record<string, unknown>,
  ownDatabase: string,
  listDatabases: () => Promise<string[]>,
  known?: readonly string[],
): Promise<SourcePart[] | undefined> {
  if (!expands(options)) return undefined;
  const { databases: _databases, globals: _globals, globalsWithPasswords, ...common } = options;
  const globalsPart: SourcePart = {
    name: GLOBALS_PART,
    options: { ...common, dump: 'globals', ...(globalsWithPasswords === undefined ? {} : { globalsWithPasswords }) },
  };
  const databasePart = (name: string): SourcePart => ({
    name,
    options: {
      ...common,
      url: urlWithDatabase(options.url, name),
      ...(options.lockUrl ? { lockUrl: urlWithDatabase(options.lockUrl, name) } : {}),
      dump: 'database',
    },
  });

  return serverParts({
    databases: options.databases,
    ownDatabases: [ownDatabase],
    ...(options.globals === true ? { serverPart: globalsPart } : {}),
    databasePart,
    listDatabases,
    ...(known ? { known } : {}),
    missingBecause: () => 'cannot be connected to',
    foundLabel: 'databases on the server',
  });
}

/** The databases of the server `client` is connected to (see LIST_DATABASES_SQL). */
export async function listServerDatabases(client: Client): Promise<string[]> {
  const result = await client.query<{ datname: string }>(LIST_DATABASES_SQL);
  return result.rows.map((row) => row.datname);
}

/** pg_dumpall's arguments for the globals part: never prompt, roles and tablespaces only, and no password hashes unless asked. */
export function buildGlobalsArgs(database: string, withPasswords: boolean): string[] {
  return ['--no-password', '--globals-only', `--database=${database}`, ...(withPasswords ? [] : ['--no-role-passwords'])];
}
