import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from './context.js';
import { BackupctlError, ErrorCodes, isBackupctlError, type ErrorCode } from './errors.js';

/** Waits `ms` milliseconds; rejects when the signal aborts. Injectable so tests need no clock. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How an engine reads its driver's connection errors. */
export interface ConnectErrorRules {
  /** True for failures another attempt may cure (refused, reset, timed out, a server starting, busy or shutting down). */
  isRetryable(error: unknown): boolean;
  /** The server's message, for the one error line. */
  describe(error: unknown): string;
  /** A few words for the retry's log line. */
  summarize(error: unknown): string;
  /** What to do about it, or undefined. */
  hint(error: unknown): string | undefined;
}

export interface RetryOptions {
  /** How many connection attempts in all. */
  attempts: number;
  /** The first wait in seconds; each next wait doubles. */
  delaySeconds: number;
  /** `host:port/database`, for messages. */
  target: string;
  /** The code a failed connection throws: SOURCE_FAILED (the default) for a backup's source, RESTORE_FAILED for a restore target. */
  code?: ErrorCode;
  logger: Logger;
  signal?: AbortSignal;
  sleep?: Sleep;
}

const defaultSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, { signal });
};

/** The waits between attempts, in seconds: delay × 2^(attempt-1), none after the last attempt. */
export function retryWaitsSeconds(attempts: number, delaySeconds: number): number[] {
  return Array.from({ length: Math.max(attempts - 1, 0) }, (_, index) => delaySeconds * 2 ** index);
}

function abortedError(target: string, cause?: unknown): BackupctlError {
  return new BackupctlError(ErrorCodes.ABORTED, `connecting to ${target} was aborted`, { cause });
}

/**
 * Runs `connect` until it succeeds, retrying only the failures `rules` call
 * retryable, with doubling waits and one log line per wait. Any other
 * failure (a wrong password, an unknown database) fails at once. Failures
 * become one error line with `options.code` naming the target and the
 * server's message, with the rules' hint. Shared by every database engine
 * so their retries behave and read alike.
 */
export async function connectWithRetry<T>(connect: () => Promise<T>, rules: ConnectErrorRules, options: RetryOptions): Promise<T> {
  const { attempts, target, logger, signal } = options;
  const code = options.code ?? ErrorCodes.SOURCE_FAILED;
  const sleep = options.sleep ?? defaultSleep;
  const waits = retryWaitsSeconds(attempts, options.delaySeconds);
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(target, signal.reason);
    try {
      return await connect();
    } catch (error) {
      if (isBackupctlError(error)) throw error;
      if (signal?.aborted) throw abortedError(target, signal.reason);
      const hint = rules.hint(error);
      if (!rules.isRetryable(error)) {
        throw new BackupctlError(code, `could not connect to ${target}: ${rules.describe(error)}`, { hint, cause: error });
      }
      const wait = waits[attempt - 1];
      if (wait === undefined) {
        const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
        throw new BackupctlError(code, `could not connect to ${target} after ${tries}: ${rules.describe(error)}`, { hint, cause: error });
      }
      logger.warn(`Database ${target} not reachable (${rules.summarize(error)}), retrying in ${Number(wait.toFixed(3))}s (attempt ${attempt} of ${attempts})`);
      try {
        await sleep(wait * 1000, signal);
      } catch (sleepError) {
        throw abortedError(target, sleepError);
      }
    }
  }
}
