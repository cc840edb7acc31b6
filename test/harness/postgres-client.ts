import { join } from 'node:path';
import type { Readable } from 'node:stream';
import pg from 'pg';
import type { QueryResultRow } from 'pg';
import { runProcess } from './process.js';

/** What a test needs to reach the harness's PostgreSQL cluster; plain data, so vitest can pass it to test files. */
export interface PostgresConnectionInfo {
  host: string;
  port: number;
  /** The superuser, `postgres`. */
  user: string;
  password: string;
  /** Directory of the cluster's server and client binaries (psql, pg_dump of the same version). */
  binDir: string;
}

/** Handy operations on the cluster, for tests and the demo. */
export interface PostgresClient extends PostgresConnectionInfo {
  /** `postgresql://postgres:PASSWORD@127.0.0.1:PORT/<database>` (holds the password: never print it). */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  /** Drops the database, ending its connections (WITH (FORCE)); no error when it does not exist. */
  dropDatabase(name: string): Promise<void>;
  /**
   * Runs SQL through the `psql` binary (`-X -v ON_ERROR_STOP=1 -At`, password in
   * PGPASSWORD, never in argv). `sql` may be a stream, e.g. a decompressed dump.
   * Resolves with stdout (without its final newline); rejects with stderr.
   */
  psql(database: string, sql: string | Readable): Promise<string>;
  /** Runs one parameterised query with the `pg` driver and returns its rows. */
  query<T extends QueryResultRow = QueryResultRow>(database: string, sql: string, params?: unknown[]): Promise<T[]>;
}

/** Double-quotes an SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Builds the client operations from connection info (in the global setup or in a test file). */
export function postgresClient(info: PostgresConnectionInfo): PostgresClient {
  const { host, port, user, password, binDir } = info;

  async function query<T extends QueryResultRow>(database: string, sql: string, params?: unknown[]): Promise<T[]> {
    const client = new pg.Client({ host, port, user, password, database });
    await client.connect();
    try {
      const result = await client.query<T>(sql, params);
      return result.rows;
    } finally {
      await client.end();
    }
  }

  async function psql(database: string, sql: string | Readable): Promise<string> {
    const args = ['-X', '-v', 'ON_ERROR_STOP=1', '-At', '-h', host, '-p', String(port), '-U', user, '-d', database];
    // A clean environment: the developer's PG* variables must not redirect the harness.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' };
    const result = await runProcess(join(binDir, 'psql'), args, { env, input: sql });
    if (result.code !== 0) {
      throw new Error(`psql on database ${database} failed (exit ${result.code ?? result.signal}): ${result.stderr.trim()}`);
    }
    return result.stdout.replace(/\n$/, '');
  }

  return {
    ...info,
    url: (database = 'postgres') =>
      `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`,
    createDatabase: async (name) => {
      await query('postgres', `CREATE DATABASE ${quoteIdentifier(name)}`);
    },
    dropDatabase: async (name) => {
      await query('postgres', `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    },
    psql,
    query,
  };
}
