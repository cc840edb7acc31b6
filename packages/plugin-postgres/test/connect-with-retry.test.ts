import { describe, expect, it } from 'vitest';
import { BackupctlError } from '@backupctl/plugin-api';
import { connectWithRetry, retryWaitsSeconds } from '../src/connect-with-retry.js';
import { recordingLogger } from './fake-context.js';

const TARGET = '127.0.0.1:5432/clara_main';

function networkError(code: string, syscall = 'connect'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code} 127.0.0.1:5432`), { code, syscall });
}

function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

/** A connect function failing with the given errors in turn, then succeeding. */
function flaky(errors: unknown[]) {
  let calls = 0;
  const connect = async (): Promise<string> => {
    const error = errors[calls++];
    if (error !== undefined) throw error;
    return 'client';
  };
  return { connect, calls: () => calls };
}

function fakeSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('connectWithRetry', () => {
  it('waits 2, 4, 8, 16 s between five attempts, logging each wait, then fails with the attempt count', async () => {
    const { connect, calls } = flaky(Array.from({ length: 5 }, () => networkError('ECONNREFUSED')));
    const { waits, sleep } = fakeSleep();
    const logger = recordingLogger();
    const failure = connectWithRetry(connect, { attempts: 5, delaySeconds: 2, target: TARGET, logger, sleep });

    await expect(failure).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `could not connect to ${TARGET} after 5 attempts: connect ECONNREFUSED 127.0.0.1:5432`,
    });
    expect(calls()).toBe(5);
    expect(waits).toEqual([2000, 4000, 8000, 16000]);
    expect(logger.lines.map((line) => line.message)).toEqual([
      `Database ${TARGET} not reachable (connect ECONNREFUSED), retrying in 2s (attempt 1 of 5)`,
      `Database ${TARGET} not reachable (connect ECONNREFUSED), retrying in 4s (attempt 2 of 5)`,
      `Database ${TARGET} not reachable (connect ECONNREFUSED), retrying in 8s (attempt 3 of 5)`,
      `Database ${TARGET} not reachable (connect ECONNREFUSED), retrying in 16s (attempt 4 of 5)`,
    ]);
  });

  it('returns the connection once an attempt succeeds', async () => {
    const { connect, calls } = flaky([networkError('ETIMEDOUT'), serverError('57P03', 'the database system is starting up')]);
    const { waits, sleep } = fakeSleep();
    const client = await connectWithRetry(connect, { attempts: 5, delaySeconds: 2, target: TARGET, logger: recordingLogger(), sleep });
    expect(client).toBe('client');
    expect(calls()).toBe(3);
    expect(waits).toEqual([2000, 4000]);
  });

  it('does not retry a missing database (3D000) and says which one and why', async () => {
    const { connect, calls } = flaky([serverError('3D000', 'database "clara_main" does not exist')]);
    const { waits, sleep } = fakeSleep();
    const error = (await connectWithRetry(connect, { attempts: 5, delaySeconds: 2, target: TARGET, logger: recordingLogger(), sleep }).catch(
      (caught: unknown) => caught,
    )) as BackupctlError;
    expect(calls()).toBe(1);
    expect(waits).toEqual([]);
    expect(error).toBeInstanceOf(BackupctlError);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toBe(`could not connect to ${TARGET}: database "clara_main" does not exist (3D000)`);
    expect(error.hint).toMatch(/create the database/);
  });

  it('does not retry a wrong password (28P01)', async () => {
    const { connect, calls } = flaky([serverError('28P01', 'password authentication failed for user "clara"')]);
    const failure = connectWithRetry(connect, { attempts: 5, delaySeconds: 2, target: TARGET, logger: recordingLogger(), sleep: fakeSleep().sleep });
    await expect(failure).rejects.toMatchObject({ code: 'SOURCE_FAILED', hint: expect.stringMatching(/password/) });
    expect(calls()).toBe(1);
  });

  it('fails with the code it is given, for a restore target', async () => {
    const refused = flaky([networkError('ECONNREFUSED')]);
    await expect(
      connectWithRetry(refused.connect, { attempts: 1, delaySeconds: 0, target: TARGET, code: 'RESTORE_FAILED', logger: recordingLogger() }),
    ).rejects.toMatchObject({ code: 'RESTORE_FAILED', message: `could not connect to ${TARGET} after 1 attempt: connect ECONNREFUSED 127.0.0.1:5432` });
    const missing = flaky([serverError('3D000', 'database "clara_main" does not exist')]);
    await expect(
      connectWithRetry(missing.connect, { attempts: 5, delaySeconds: 0, target: TARGET, code: 'RESTORE_FAILED', logger: recordingLogger() }),
    ).rejects.toMatchObject({ code: 'RESTORE_FAILED', message: `could not connect to ${TARGET}: database "clara_main" does not exist (3D000)` });
  });

  it('retries the AggregateError Node raises when every address of a host refuses', async () => {
    const aggregate = Object.assign(new AggregateError([networkError('ECONNREFUSED'), networkError('ECONNREFUSED')], ''), {
      code: 'ECONNREFUSED',
    });
    const { connect, calls } = flaky([aggregate]);
    await connectWithRetry(connect, { attempts: 2, delaySeconds: 0, target: TARGET, logger: recordingLogger(), sleep: fakeSleep().sleep });
    expect(calls()).toBe(2);
  });

  it('stops waiting with ABORTED when the signal fires', async () => {
    const controller = new AbortController();
    const { connect, calls } = flaky([networkError('ECONNREFUSED'), networkError('ECONNREFUSED')]);
    const failure = connectWithRetry(connect, {
      attempts: 5,
      delaySeconds: 60,
      target: TARGET,
      logger: recordingLogger(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await expect(failure).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls()).toBe(1);
  });

  it('says "1 attempt" when only one is allowed', async () => {
    const { connect } = flaky([networkError('ECONNREFUSED')]);
    await expect(
      connectWithRetry(connect, { attempts: 1, delaySeconds: 2, target: TARGET, logger: recordingLogger() }),
    ).rejects.toThrow(`could not connect to ${TARGET} after 1 attempt: `);
  });
});

describe('retryWaitsSeconds', () => {
  it('doubles from the delay, with no wait after the last attempt', () => {
    expect(retryWaitsSeconds(5, 2)).toEqual([2, 4, 8, 16]);
    expect(retryWaitsSeconds(3, 0.05)).toEqual([0.05, 0.1]);
    expect(retryWaitsSeconds(1, 2)).toEqual([]);
  });
});
