import { serverParts, type SourcePart } from '@backupctl/plugin-api';
import { urlWithDatabase } from './connection-url.js';

/** The part that holds the server's accounts and their grants. */
export const USERS_PART = 'users';

/** What `expand` reads of the source's options. */
export interface WholeServerOptions {
  url: string;
  /** `all`, or the names of the databases to back up; unset: the URL's database only. */
  databases?: 'all' | string[];
  /** Also back up the accounts and their grants. */
  users?: boolean;
  /** Set on a part by `expand`: what this source instance dumps. */
  dump?: 'database' | 'users';
}

/** True when the options ask for more than the URL's one database. */
export function expands(options: WholeServerOptions): boolean {
  return options.dump === undefined && (options.databases !== undefined || options.users === true);
}

/**
 * The parts of a whole-server source: `users` first (when asked for), then
 * one per database, each with the source's options, its URL naming that
 * database and `dump` saying what it dumps. `listDatabases` is called only
 * when the list depends on the server; with `known` (restore, ls) the
 * server is not asked at all.
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
  const { databases: _databases, users: _users, ...common } = options;
  const usersPart: SourcePart = { name: USERS_PART, options: { ...common, dump: 'users' } };
  const databasePart = (name: string): SourcePart => ({ name, options: { ...common, url: urlWithDatabase(options.url, name), dump: 'database' } });

  return serverParts({
    databases: options.databases,
    ownDatabases: ownDatabase === '' ? [] : [ownDatabase],
    ...(options.users === true ? { serverPart: usersPart } : {}),
    databasePart,
    listDatabases,
    ...(known ? { known } : {}),
    missingBecause: (count) => `the account cannot see ${count === 1 ? 'it' : 'them'}`,
    foundLabel: 'databases the account sees',
  });
}
