import { testContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import { connectWithRetry, retryWaitsSeconds } from '../src/connect-with-retry.js';

const TARGET = '127.0.0.1:3306/shop';

function networkError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:3306`), { code, syscall: 'connect' });
}

/** As mysql2 reports a server's refusal: a code, an errno, the server's message. */
function serverError(code: string, errno: number, message: string): Error {
  return Object.assign(new Error(message), { code, errno, sqlState: '28000' });
}

function flaky(errors: unknown[]) {
  let calls = 0;
  const connect = async (): Promise<string> => {
    const error = errors[calls++];
    if (error !== undefined) throw error;
    return 'connection';
  };
  return { connect, calls: () => calls };
}

function setup() {
  const { context, entries } = testContext({ use: 'mysql' });
  const waits: number[] = [];
  return { logger: context.logger, entries, waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('connectWithRetry (mysql)', () => {
  it('doubles its waits, logs each, then fails in one line with the attempt count and a hint', async () => {
    const { connect, calls } = flaky(Array.from({ length: 4 }, () => networkError('ECONNREFUSED')));
    const { logger, entries, waits, sleep } = setup();
    await expect(connectWithRetry(connect, { attempts: 4, delaySeconds: 0.5, target: TARGET, logger, sleep })).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `could not connect to ${TARGET} after 4 attempts: connect ECONNREFUSED 127.0.0.1:3306`,
      hint: 'check that the database server is running and reachable, or raise retryAttempts / retryDelaySeconds',
    });
    expect(calls()).toBe(4);
    expect(waits).toEqual([500, 1000, 2000]);
    expect(entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message)).toEqual([
      `Database ${TARGET} not reachable (connect ECONNREFUSED), retrying in 0.5s (attempt 1 of 4)`,
      `Database ${TARGET} not reachable (connect ECONNREFUSED), retrying in 1s (attempt 2 of 4)`,
      `Database ${TARGET} not reachable (connect ECONNREFUSED), retrying in 2s (attempt 3 of 4)`,
    ]);
    expect(retryWaitsSeconds(5, 2)).toEqual([2, 4, 8, 16]);
  });

  it('succeeds once the server answers; a server shutting down or out of connections is retried too', async () => {
    const { connect, calls } = flaky([serverError('ER_SERVER_SHUTDOWN', 1053, 'Server shutdown in progress'), serverError('ER_CON_COUNT_ERROR', 1040, 'Too many connections')]);
    const { logger, sleep } = setup();
    await expect(connectWithRetry(connect, { attempts: 5, delaySeconds: 1, target: TARGET, logger, sleep })).resolves.toBe('connection');
    expect(calls()).toBe(3);
  });

  it('fails at once on a wrong password or an unknown database, with the error number and a hint; RESTORE_FAILED for a restore target', async () => {
    const denied = flaky([serverError('ER_ACCESS_DENIED_ERROR', 1045, "Access denied for user 'shop'@'10.0.0.5' (using password: YES)")]);
    const { logger, waits, sleep } = setup();
    await expect(connectWithRetry(denied.connect, { attempts: 5, delaySeconds: 1, target: TARGET, logger, sleep })).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `could not connect to ${TARGET}: Access denied for user 'shop'@'10.0.0.5' (using password: YES) (1045)`,
      hint: 'check the user name and password in the URL (and that the account may connect from this host)',
    });
    const unknown = flaky([serverError('ER_BAD_DB_ERROR', 1049, "Unknown database 'shop'")]);
    await expect(connectWithRetry(unknown.connect, { attempts: 5, delaySeconds: 1, target: TARGET, code: 'RESTORE_FAILED', logger, sleep })).rejects.toMatchObject({
      code: 'RESTORE_FAILED',
      hint: 'create the database, or fix its name in the URL',
    });
    expect(waits).toEqual([]);
  });
});
