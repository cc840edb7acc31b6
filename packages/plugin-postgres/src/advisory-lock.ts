import { createHash } from 'node:crypto';
import type { Client } from 'pg';

/**
 * The advisory lock key of a job: the first 8 bytes of
 * SHA-256(`backupctl:<job>`), read as a signed big-endian 64-bit integer
 * (PostgreSQL's bigint). Stable across versions and machines, so every run
 * of a job, wherever it starts, contends for the same lock. Advisory locks
 * belong to one database, so the lock is per database and job.
 */
export function advisoryLockKey(job: string): bigint {
  return createHash('sha256').update(`backupctl:${job}`).digest().readBigInt64BE(0);
}

/** A held advisory lock; `release` unlocks it and ends its connection. */
export interface JobLock {
  readonly key: bigint;
  release(): Promise<void>;
}

/**
 * Tries to take the job's session-level advisory lock on `client`, which it
 * takes over: the lock lives as long as that connection (so it also ends
 * when the process dies), and the connection is ended on release or when
 * the lock is not obtained. Resolves undefined when another session holds it.
 */
export async function tryLockJob(client: Client, job: string): Promise<JobLock | undefined> {
  const key = advisoryLockKey(job);
  const end = () => client.end().catch(() => {});
  let locked: boolean;
  try {
    const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key.toString()]);
    locked = result.rows[0]?.locked === true;
  } catch (error) {
    await end();
    throw error;
  }
  if (!locked) {
    await end();
    return undefined;
  }
  let released: Promise<void> | undefined;
  return {
    key,
    release: () =>
      (released ??= (async () => {
        // Ending the session frees the lock anyway; unlocking first says so plainly in the server's log.
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [key.toString()]).catch(() => {});
        await end();
      })()),
  };
}
