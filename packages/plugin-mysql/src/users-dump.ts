import { Readable } from 'node:stream';
import type { RowDataPacket } from 'mysql2';
import type { Connection } from './mysql-client.js';

/** Accounts every server makes for itself: a restore onto a new server finds them there already. */
const SYSTEM_ACCOUNTS = new Set(['root', 'mariadb.sys', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'PUBLIC']);

type Rows = Array<RowDataPacket>;

/** `'app'@'%'`, quoted as SHOW CREATE USER takes it. */
function account(user: string, host: string): string {
  const quote = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `${quote(user)}@${quote(host)}`;
}

/** The single value of a SHOW row (its column is named after the account). */
function only(row: RowDataPacket | undefined): string {
  return String(Object.values(row ?? {})[0] ?? '');
}

/**
 * The server's accounts and their grants as SQL a restore can run on any
 * server, again and again: `CREATE USER IF NOT EXISTS` with the password
 * hash (without it the account would have no password at all), then each
 * GRANT, which only adds. Roles and the server's own accounts (root,
 * mariadb.sys, mysql.*) are left out. Read with SHOW CREATE USER / SHOW
 * GRANTS, which MySQL 8 and MariaDB both have, so no tool is needed.
 */
export async function dumpUsers(connection: Connection): Promise<{ sql: string; accounts: number }> {
  const [columns] = await connection.query<Rows>(
    "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user' AND COLUMN_NAME = 'is_role'",
  );
  const roleFilter = columns.length > 0 ? " WHERE is_role <> 'Y'" : '';
  const [users] = await connection.query<Rows>(`SELECT User AS user, Host AS host FROM mysql.user${roleFilter} ORDER BY User, Host`);
  const lines = ['-- Accounts and grants, by backupctl (mysql source, users: true)', ''];
  let accounts = 0;
  for (const row of users) {
    const user = String(row.user);
    const host = String(row.host);
    if (SYSTEM_ACCOUNTS.has(user) || user === '') continue;
    const [created] = await connection.query<Rows>(`SHOW CREATE USER ${account(user, host)}`);
    const [grants] = await connection.query<Rows>(`SHOW GRANTS FOR ${account(user, host)}`);
    lines.push(`${only(created[0]).replace(/^CREATE USER /, 'CREATE USER IF NOT EXISTS ')};`);
    for (const grant of grants) lines.push(`${only(grant)};`);
    lines.push('');
    accounts += 1;
  }
  lines.push('FLUSH PRIVILEGES;', '');
  return { sql: lines.join('\n'), accounts };
}

/** The users part's stream: the SQL, once read. */
export function usersStream(sql: string): Readable {
  return Readable.from([Buffer.from(sql, 'utf8')]);
}
