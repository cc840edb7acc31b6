import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes, type Logger } from '@backupctl/plugin-api';

/** How many of pg_dump's last stderr lines an error carries. */
const STDERR_TAIL_LINES = 20;
/** How long pg_dump may take to stop after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 5_000;

export interface PgDumpOptions {
  /** The pg_dump binary. */
  binary: string;
  /** Its arguments (never the connection: that is in `env`). */
  args: readonly string[];
  /** The child's whole environment, libpq variables included. */
  env: NodeJS.ProcessEnv;
  /** `host:port/database`, for messages. */
  target: string;
  logger: Logger;
  /** Aborting it stops pg_dump (SIGTERM) and `done` rejects with ABORTED. */
  signal: AbortSignal;
  /** Values to blank out of anything pg_dump prints (the password, in every form). */
  secrets: readonly string[];
}

/** A running pg_dump. */
export interface RunningDump {
  /** pg_dump's stdout: the dump itself. */
  stream: Readable;
  /** Resolves when pg_dump exited 0; rejects with SOURCE_FAILED (or ABORTED) otherwise. */
  done: Promise<void>;
  pid: number | undefined;
  /** Stops pg_dump if it is still running (SIGTERM, then SIGKILL). */
  stop(): void;
}

/** Replaces every secret in the text with `***`, longest first so no fragment of a longer one survives. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of [...secrets].filter(Boolean).sort((a, b) => b.length - a.length)) {
    result = result.split(secret).join('***');
  }
  return result;
}

function failureHint(stderr: string): string {
  if (/permission denied/i.test(stderr)) {
    return 'grant the backup user SELECT on every table, or leave the table out with args: [--exclude-table=NAME]';
  }
  if (/server version mismatch/i.test(stderr)) return 'install a pg_dump at least as new as the server, or set PG_DUMP_PATH';
  return "read pg_dump's messages above";
}

/**
 * Starts pg_dump with the connection in its environment and returns its
 * stdout as the stream. Every stderr line is logged (warn for warnings,
 * info otherwise, secrets redacted) and the last lines are kept for the
 * error `done` rejects with. `done` never causes an unhandled rejection when
 * nobody awaits it early.
 */
export function spawnPgDump(options: PgDumpOptions): RunningDump {
  const { logger, signal, target, secrets } = options;
  if (signal.aborted) throw new BackupctlError(ErrorCodes.ABORTED, `pg_dump for ${target} was not started: the run was aborted`);

  const child = spawn(options.binary, [...options.args], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let partial = '';
  const takeLine = (raw: string): void => {
    const line = redact(raw.replace(/\r$/, ''), secrets);
    if (line === '') return;
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
    if (/\b(error|fatal|detail|hint):/i.test(line)) return; // carried by the rejection instead
    if (/\bwarning:/i.test(line)) logger.warn(line);
    else logger.info(line);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(takeLine);
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
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let stderrClosed = false;
    const finish = (): void => {
      // Wait for both: the exit status, and stderr drained so the tail is complete.
      if (exit === undefined || !stderrClosed) return;
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (aborted) {
        reject(new BackupctlError(ErrorCodes.ABORTED, `pg_dump for ${target} was stopped: the run was aborted`));
      } else if (exit.code === 0) {
        resolve();
      } else {
        const status = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
        const stderr = tail.join('\n');
        reject(
          new BackupctlError(
            ErrorCodes.SOURCE_FAILED,
            `pg_dump failed for ${target} (${status})${stderr ? `:\n${stderr}` : ''}`,
            { hint: failureHint(stderr) },
          ),
        );
      }
    };
    child.stderr.on('close', () => {
      if (partial !== '') takeLine(partial);
      partial = '';
      stderrClosed = true;
      finish();
    });
    child.on('exit', (code, exitSignal) => {
      exited = true;
      exit = { code, signal: exitSignal };
      finish();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // The binary could not be started (ENOENT, EACCES): no 'exit' follows.
      exited = true;
      signal.removeEventListener('abort', onAbort);
      reject(
        new BackupctlError(ErrorCodes.SOURCE_FAILED, `could not start pg_dump (${options.binary}): ${error.code ?? error.message}`, {
          hint: 'install the PostgreSQL client programs or set PG_DUMP_PATH',
          cause: error,
        }),
      );
    });
  });
  // The caller may attach its handler only once the stream is consumed.
  done.catch(() => {});

  return { stream: child.stdout, done, pid: child.pid, stop };
}
