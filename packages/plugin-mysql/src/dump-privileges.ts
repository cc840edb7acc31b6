import type { RowDataPacket } from 'mysql2';
import type { Connection } from './mysql-client.js';
import type { EngineVersion } from './server-version.js';

/** One GRANT line of SHOW GRANTS: its privileges and where they apply. */
interface Grant {
  privileges: string[];
  /** `*` for every database, else the database name or pattern (`shop%`). */
  database: string;
  /** `*` for every table of it, else the table. */
  table: string;
}

const unquote = (name: string) => name.replace(/^`(.*)`$/s, '$1').replaceAll('``', '`');

/** `GRANT SELECT, SHOW VIEW ON \`shop\`.* TO ...` -> its privileges and scope; role grants and the rest: undefined. */
export function parseGrant(line: string): Grant | undefined {
  const match = /^GRANT (.+?) ON (?:(?:PROCEDURE|FUNCTION|TABLE) )?(\*|`(?:[^`]|``)*`)\.(\*|`(?:[^`]|``)*`) TO /s.exec(line);
  if (!match) return undefined;
  const privileges = match[1]!.split(',').map((privilege) => privilege.trim().replace(/\s*\(.*\)$/, '').toUpperCase());
  return { privileges, database: unquote(match[2]!), table: unquote(match[3]!) };
}

/** Whether a grant's database (`shop`, `sho%`, `shop\_main`) covers `database`, as the server matches it. */
function covers(pattern: string, database: string): boolean {
  if (pattern === '*') return true;
  const regex = pattern.replace(/\\([_%])|([%_])|([.*+?^${}()|[\]\\])/g, (_all, escaped: string, wild: string, special: string) =>
    escaped ? `\\${escaped}` : wild === '%' ? '.*' : wild === '_' ? '.' : `\\${special}`,
  );
  return new RegExp(`^${regex}$`, 's').test(database);
}

function has(grants: readonly Grant[], privilege: string, where: (grant: Grant) => boolean): boolean {
  return grants.some((grant) => where(grant) && (grant.privileges.includes(privilege) || grant.privileges.includes('ALL PRIVILEGES') || grant.privileges.includes('ALL')));
}

/**
 * What the dump would leave out without an error, read from the account's
 * own SHOW GRANTS (MariaDB lists the default role's grants there too): the
 * tools skip triggers the account may not see (TRIGGER), and routines whose
 * body it may not read (MariaDB: SELECT on mysql.proc; MySQL 8: SHOW_ROUTINE
 * or a global SELECT) without a word. A missing SHOW VIEW or EVENT makes the
 * dump fail instead, which explainDumpFailure words.
 */
export function silentlyMissing(grantLines: readonly string[], database: string, server: EngineVersion): string[] {
  const grants = grantLines.map(parseGrant).filter((grant): grant is Grant => grant !== undefined);
  const onDatabase = (grant: Grant) => grant.table === '*' && covers(grant.database, database);
  const global = (grant: Grant) => grant.database === '*';
  const missing: string[] = [];
  if (!has(grants, 'TRIGGER', onDatabase)) missing.push(`triggers (grant TRIGGER ON \`${database}\`.*)`);
  const routines =
    server.flavor === 'MariaDB'
      ? has(grants, 'SELECT', global) || has(grants, 'SELECT', (grant) => covers(grant.database, 'mysql') && (grant.table === '*' || grant.table === 'proc'))
      : has(grants, 'SELECT', global) || has(grants, 'SHOW_ROUTINE', global);
  if (!routines) missing.push(`routines (grant ${server.flavor === 'MariaDB' ? 'SELECT ON mysql.proc' : 'SHOW_ROUTINE ON *.*'})`);
  return missing;
}

/** The account's SHOW GRANTS lines. */
export async function readGrants(connection: Connection): Promise<string[]> {
  const [rows] = await connection.query<RowDataPacket[]>('SHOW GRANTS');
  return rows.map((row) => String(Object.values(row)[0] ?? ''));
}
