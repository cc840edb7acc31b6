import { BackupctlError, ErrorCodes } from './errors.js';
import type { SourcePart } from './plugin.js';

/** What an engine tells {@link serverParts} about a whole-server source. */
export interface ServerPartsPlan {
  /** `all`, the names of the databases to back up, or unset: `ownDatabases` only. */
  databases: 'all' | readonly string[] | undefined;
  /** The databases backed up when `databases` is unset (the URL's one, or none). */
  ownDatabases: readonly string[];
  /** The part for what belongs to the server rather than a database (postgres's roles, mysql's accounts), when asked for; it is named after the option that asks for it (`globals`, `users`). */
  serverPart?: SourcePart;
  /** The part that dumps one database. */
  databasePart(name: string): SourcePart;
  /** The server's databases (only called when the list depends on it). */
  listDatabases(): Promise<string[]>;
  /** Restore and ls: the parts already stored; the server is not asked. */
  known?: readonly string[];
  /** Why a named database may be missing, for the error line: "cannot be connected to", "the account cannot see it". */
  missingBecause: (count: number) => string;
  /** How the hint introduces the databases found: "databases on the server". */
  foundLabel: string;
}

/**
 * The parts of a whole-server source, for every engine alike: the server
 * part first (when asked for), then one per database; with `known`, the
 * stored parts as they are.
 *
 * @throws BackupctlError SOURCE_FAILED naming a listed database the server does not have;
 *   CONFIG_INVALID when a database has the server part's name.
 */
export async function serverParts(plan: ServerPartsPlan): Promise<SourcePart[]> {
  const { serverPart, databasePart } = plan;
  if (plan.known) {
    const names = [...plan.known].sort();
    const hasServerPart = serverPart !== undefined && names.includes(serverPart.name);
    return [...(hasServerPart ? [serverPart] : []), ...names.filter((name) => !(hasServerPart && name === serverPart.name)).map(databasePart)];
  }
  const names = await databaseNames(plan);
  if (serverPart && names.includes(serverPart.name)) {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `a database is named "${serverPart.name}", which is also the name of the ${serverPart.name} part`, {
      hint: `leave out ${serverPart.name}: true, or back that database up in a job of its own`,
    });
  }
  return [...(serverPart ? [serverPart] : []), ...names.map(databasePart)];
}

async function databaseNames(plan: ServerPartsPlan): Promise<string[]> {
  if (plan.databases === undefined) return [...plan.ownDatabases];
  const onServer = await plan.listDatabases();
  if (plan.databases === 'all') return onServer;
  const missing = plan.databases.filter((name) => !onServer.includes(name));
  if (missing.length) {
    const one = missing.length === 1;
    throw new BackupctlError(
      ErrorCodes.SOURCE_FAILED,
      `database${one ? '' : 's'} ${missing.join(', ')} named in databases ${one ? 'does' : 'do'} not exist on the server (or ${plan.missingBecause(missing.length)})`,
      { hint: `${plan.foundLabel}: ${onServer.join(', ') || 'none'}` },
    );
  }
  return [...new Set(plan.databases)];
}
