import { createHash } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import { endQuietly, type Connection } from './mysql-client.js';

/**
 * The lock name of a job on a database: `backupctl:` and 40 hex characters
 * of SHA-256(`<database>\0<job>`). GET_LOCK names are server-wide and at most
 * 64 characters, so the database is hashed in (as PostgreSQL's advisory
 * locks are per database) and the name stays short whatever the job's.
 */
export function jobLockName(database: string, job: string): string {
  return `backupctl:${createHash('sha256').update(`${database}\0${job}`).digest('hex').slice(0, 40)}`;
}

/** A held lock; `release` frees it and ends its connection. */
export interface JobLock {
  readonly name: string;
  release(): Promise<void>;
}

/**
 * Tries `GET_LOCK(name, 0)` on `connection`, which it takes over: the lock
 * lives as long as that session (so it also ends when the process dies),
 * and the connection is ended on release or when the lock is not obtained.
 * Resolves undefined when another session holds it.
 */
export async function tryLockJob(connection: Connection, database: string, job: string): Promise<JobLock | undefined> {
  const name = jobLockName(database, job);
  let locked: boolean;
  try {
    const [rows] = await connection.query<Array<{ locked: number | null } & RowDataPacket>>('SELECT GET_LOCK(?, 0) AS locked', [name]);
    locked = Number(rows[0]?.locked) === 1;
  } catch (error) {
    await endQuietly(connection);
    throw error;
  }
  if (!locked) {
    await endQuietly(connection);
    return undefined;
  }
  let released: Promise<void> | undefined;
  return {
    name,
    release: () =>
      (released ??= (async () => {
        // Ending the session frees the lock anyway; releasing first says so plainly.
        await connection.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => {});
        await endQuietly(connection);
      })()),
  };
}
