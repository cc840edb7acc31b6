import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes, type Logger } from '@backupctl/plugin-api';
import { explainDumpFailure } from './dump-errors.js';
import { stderrTail } from './redact.js';

/** How long the dump tool may take to stop after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 5_000;

export interface DumpProcessOptions {
  /** The dump tool and its name for messages (`mariadb-dump`). */
  binary: string;
  name: string;
  /** Its arguments, `--defaults-file=...` first (the connection is in that file). */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** `host:port/database`, for messages. */
  target: string;
  logger: Logger;
  /** Aborting it stops the tool (SIGTERM) and `done` rejects with ABORTED. */
  signal: AbortSignal;
  /** Values to blank out of anything the tool prints. */
  secrets: readonly string[];
}

/** A running dump. */
export interface RunningDump {
  /** The tool's stdout: the dump itself. */
  stream: Readable;
  /** Resolves when the tool exited 0; rejects with SOURCE_FAILED (or ABORTED) otherwise. */
  done: Promise<void>;
  /** Stops the tool if it still runs (SIGTERM, then SIGKILL). */
  stop(): void;
}

/**
 * Starts mariadb-dump / mysqldump and returns its stdout as the stream.
 * Its stderr lines are logged (warnings as warnings) and a failure becomes
 * one line saying what the server refused (explainDumpFailure), the tool's
 * last lines following only when it said something else. `done` never
 * causes an unhandled rejection when nobody awaits it early.
 */
export function spawnDump(options: DumpProcessOptions): RunningDump {
  const { logger, signal, target, name } = options;
  if (signal.aborted) throw new BackupctlError(ErrorCodes.ABORTED, `${name} for ${target} was not started: the run was aborted`);
  const child = spawn(options.binary, [...options.args], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = stderrTail(child.stderr, options.secrets, (line) => {
    if (/^(mariadb-dump|mysqldump)(\.exe)?: /.test(line) && /\berror\b|couldn't|denied/i.test(line)) return; // carried by the rejection
    if (/warning/i.test(line)) logger.warn(line);
    else logger.info(line);
  });

  let exited = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (exited || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  const onAbort = (): void => {
    aborted = true;
    stop();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  const done = new Promise<void>((resolve, reject) => {
    child.on('close', (code, exitSignal) => {
      exited = true;
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      void stderr.closed.then(() => {
        if (aborted) return reject(new BackupctlError(ErrorCodes.ABORTED, `${name} for ${target} was stopped: the run was aborted`));
        if (code === 0) return resolve();
        const status = exitSignal ? `killed by ${exitSignal}` : `exit code ${code}`;
        const said = stderr.text();
        const failure = explainDumpFailure(said);
        reject(
          failure
            ? new BackupctlError(ErrorCodes.SOURCE_FAILED, `${name} failed for ${target}: ${failure.message}`, { hint: failure.hint })
            : new BackupctlError(ErrorCodes.SOURCE_FAILED, `${name} failed for ${target} (${status})${said ? `:\n${said}` : ''}`, {
                hint: said ? `read ${name}'s messages above` : `${name} said nothing: check that the server is still up (it may have stopped mid-dump)`,
              }),
        );
      });
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // The binary could not be started (ENOENT, EACCES): no 'close' with a status follows.
      exited = true;
      signal.removeEventListener('abort', onAbort);
      reject(
        new BackupctlError(ErrorCodes.SOURCE_FAILED, `could not start ${name} (${options.binary}): ${error.code ?? error.message}`, {
          hint: 'install the mariadb-client (or mysql-client) package, or set dumpPath / MYSQLDUMP_PATH',
          cause: error,
        }),
      );
    });
  });
  done.catch(() => {});
  return { stream: child.stdout, done, stop };
}
