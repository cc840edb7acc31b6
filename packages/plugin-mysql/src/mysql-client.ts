import mysql from 'mysql2/promise';
import type { ConnectionSettings } from './connection-url.js';

export type Connection = mysql.Connection;

/** How long a connection attempt may take before it counts as a network failure (and is retried). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One connection to the server the settings name (to its database unless
 * `database` says otherwise; '' for none). utf8mb4, so table names and
 * counts come back as the dump writes them. Aborting the signal destroys
 * the connection, which makes a pending query fail.
 */
export async function connectClient(
  settings: ConnectionSettings,
  signal: AbortSignal,
  database: string = settings.database,
): Promise<Connection> {
  signal.throwIfAborted();
  const connection = await mysql.createConnection({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    ...(database === '' ? {} : { database }),
    charset: 'utf8mb4_general_ci',
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Counts of big tables come back as strings rather than losing precision.
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const onAbort = () => connection.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  connection.once('end', () => signal.removeEventListener('abort', onAbort));
  // A connection dropped by the server (killed, restarted) must not crash the process.
  connection.on('error', () => {});
  return connection;
}

/** Ends a connection, ignoring a failure (it may already be gone). */
export async function endQuietly(connection: Connection | undefined): Promise<void> {
  await connection?.end().catch(() => connection.destroy());
}

/** Backquotes an identifier (a database or table name), doubling the backquotes inside. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}
