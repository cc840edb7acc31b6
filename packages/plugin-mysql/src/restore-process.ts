import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes, type Logger } from '@backupctl/plugin-api';
import { clipLine, stderrTail } from './redact.js';

/**
 * What the client said about a failure, as one line: its `ERROR 1064
 * (42000) at line 12: ...` line when there is one (the statement it may
 * echo between `--------------` lines left out), else its lines joined.
 */
export function clientError(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '' && !/^-{5,}$/.test(line.trim()));
  return clipLine(lines.find((line) => /^ERROR \d+/.test(line)) ?? lines.join(' '));
}

export interface RestoreProcessOptions {
  /** The client binary (`mariadb`, `mysql`) and its name for messages. */
  binary: string;
  name: string;
  /** `--defaults-file=...` (first), then the rest: the database to load into, if any. */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** `host:port/database`, for messages. */
  target: string;
  logger: Logger;
  signal: AbortSignal;
  secrets: readonly string[];
}

/**
 * Pipes a decoded dump into the client, which stops at the first failing
 * statement (it runs without --force). MySQL and MariaDB commit DDL
 * implicitly, so there is no transaction to roll back: the client's input
 * is closed only after `input` ended cleanly (every check of the stored
 * bytes passed), and on any failure the client is killed first, so that it
 * runs nothing more; what it already ran stays, and the caller drops or
 * empties the database. Resolves once the client exited 0 after the whole
 * input; rejects with RESTORE_FAILED carrying the client's message, or with
 * the input's own error.
 */
export function runRestoreProcess(input: Readable, options: RestoreProcessOptions): Promise<void> {
  const { logger, signal, target, name } = options;
  if (signal.aborted) return Promise.reject(new BackupctlError(ErrorCodes.ABORTED, `restore into ${target} was aborted before it started`));
  return new Promise<void>((resolve, reject) => {
    const client = spawn(options.binary, [...options.args], { env: options.env, stdio: ['pipe', 'ignore', 'pipe'] });
    const stderr = stderrTail(client.stderr, options.secrets, (line) => {
      if (/warning/i.test(line)) logger.warn(line);
    });
    let failure: Error | undefined;
    let inputEnded = false;
    let settled = false;

    const settle = (): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      client.stdin.destroy();
      if (failure) reject(failure);
      else resolve();
    };
    const fail = (error: Error): void => {
      if (failure) return;
      failure = error;
      // The client first: it must die before its input closes, or it would run a cut statement.
      client.kill('SIGKILL');
      input.destroy();
    };
    const onAbort = (): void => fail(new BackupctlError(ErrorCodes.ABORTED, `restore into ${target} was aborted`));
    signal.addEventListener('abort', onAbort, { once: true });

    // A client that exits early makes writes fail with EPIPE; its exit status says why.
    client.stdin.on('error', () => {});
    client.on('error', (error: NodeJS.ErrnoException) => {
      fail(
        new BackupctlError(ErrorCodes.RESTORE_FAILED, `could not start ${name} (${options.binary}): ${error.code ?? error.message}`, {
          hint: 'install the mariadb-client (or mysql-client) package, or set MYSQL_CLIENT_PATH',
        }),
      );
      settle();
    });
    client.on('close', (code, exitSignal) => {
      void stderr.closed.then(() => {
        if (!failure && (code !== 0 || !inputEnded)) {
          const said = stderr.text();
          const why = code === 0 ? `${name} stopped before the end of the backup` : `${name} failed restoring into ${target} (${exitSignal ? `killed by ${exitSignal}` : `exit code ${code}`})`;
          failure = new BackupctlError(ErrorCodes.RESTORE_FAILED, `${why}${said ? `: ${clientError(said)}` : ''}`, {
            hint: /already exists/i.test(said)
              ? 'the target already holds these objects: restore into a new database (--target-url with --create), or replace them with --yes'
              : `read ${name}'s message: the first failing statement stopped the restore`,
          });
          input.destroy();
        }
        settle();
      });
    });

    input.once('error', (error) => fail(error));
    input.once('end', () => {
      inputEnded = true;
      if (!failure) client.stdin.end();
    });
    input.pipe(client.stdin, { end: false });
  });
}
