import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes, formatSize, type Logger } from '@backupctl/plugin-api';
import type { ArchiveFormat } from './archive-format.js';
import { redact } from './pg-dump.js';

/** How many of a tool's last stderr lines an error carries. */
const STDERR_TAIL_LINES = 20;

export interface RestoreProcessOptions {
  format: ArchiveFormat;
  /** The psql binary: it runs the SQL, in one transaction. */
  psql: string;
  /** The pg_restore binary, for custom archives: it turns the archive into SQL for psql. */
  pgRestore?: string;
  /** psql's whole environment, the target's libpq variables included. */
  psqlEnv: NodeJS.ProcessEnv;
  /** pg_restore's environment: it connects nowhere. */
  toolEnv: NodeJS.ProcessEnv;
  /** SQL run first, in the same transaction (replacing what the target holds). */
  preamble: readonly string[];
  /** `host:port/database`, for messages. */
  target: string;
  logger: Logger;
  signal: AbortSignal;
  /** Values to blank out of anything the tools print. */
  secrets: readonly string[];
}

/** A tool's stderr, line by line: warnings logged, the last lines kept for the error message. */
function watchStderr(child: ChildProcess, logger: Logger, secrets: readonly string[]): () => string {
  const tail: string[] = [];
  let partial = '';
  const take = (raw: string): void => {
    const line = redact(raw.replace(/\r$/, ''), secrets);
    if (line === '') return;
    tail.push(line);
    if (tail.length > STDERR_TAIL_LINES) tail.shift();
    if (/\bwarning:/i.test(line)) logger.warn(line);
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(take);
  });
  child.stderr?.on('end', () => {
    if (partial !== '') take(partial);
    partial = '';
  });
  return () => tail.filter((line) => !/\bwarning:/i.test(line)).join('\n');
}

function exitStatus(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/**
 * Restores a decoded backup with psql in one transaction
 * (`--single-transaction`, `ON_ERROR_STOP`): plain SQL goes to psql as it
 * is; a custom archive goes through `pg_restore --file=-`, which turns it
 * into the same SQL, so one rule guards both formats: psql sees the end of
 * its input, and so commits, only after `input` ended cleanly (every check
 * of the stored bytes passed) and pg_restore exited 0. On any failure psql
 * is killed (SIGKILL) before its input is closed, so the server rolls the
 * transaction back and the target stays as it was. Resolves once psql
 * committed; rejects with RESTORE_FAILED carrying the tool's message (the
 * failing statement's error), or with the input's own error.
 */
export function runRestoreProcess(input: Readable, options: RestoreProcessOptions): Promise<void> {
  const { logger, signal, target, secrets } = options;
  if (signal.aborted) return Promise.reject(new BackupctlError(ErrorCodes.ABORTED, `restore into ${target} was aborted before it started`));

  return new Promise<void>((resolve, reject) => {
    const psqlArgs = ['--no-psqlrc', '--quiet', '--single-transaction', '--set=ON_ERROR_STOP=1'];
    // Server notices (DROP ... CASCADE lists every object) would flood the log; pg_dump's SQL sets the same.
    for (const statement of ['SET client_min_messages = warning', ...options.preamble]) psqlArgs.push(`--command=${statement}`);
    psqlArgs.push('--file=-');
    const psql = spawn(options.psql, psqlArgs, { env: options.psqlEnv, stdio: ['pipe', 'ignore', 'pipe'] });
    const psqlStderr = watchStderr(psql, logger, secrets);
    const pgRestore =
      options.format === 'custom'
        ? spawn(options.pgRestore ?? 'pg_restore', ['--format=custom', '--file=-'], { env: options.toolEnv, stdio: ['pipe', 'pipe', 'pipe'] })
        : undefined;
    const pgRestoreStderr = pgRestore ? watchStderr(pgRestore, logger, secrets) : () => '';

    let failure: Error | undefined;
    let settled = false;
    let inputEnded = false;
    let psqlInputEnded = false;
    let psqlClosed = false;
    let sqlEnded = pgRestore === undefined; // pg_restore's stdout
    let pgRestoreOk = pgRestore === undefined;
    let pgRestoreClosed = pgRestore === undefined;

    // SQL handed to psql so far: what a rollback undid.
    let sqlBytes = 0;
    const sql = pgRestore?.stdout ?? input;
    sql.on('data', (chunk: Buffer) => {
      sqlBytes += chunk.length;
    });

    // Called from each process's exit and from fail(), which an exit may itself call: acts once.
    const settle = (): void => {
      if (settled || !psqlClosed || !pgRestoreClosed) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      // Only now, with psql gone, may its stdin close.
      psql.stdin?.destroy();
      pgRestore?.stdin?.destroy();
      if (failure) {
        logger.warn(`Restore into ${target} stopped after ${formatSize(sqlBytes)} of SQL and was rolled back: nothing was committed`);
        reject(failure);
      } else resolve();
    };
    const fail = (error: Error): void => {
      if (failure) return;
      failure = error;
      // psql first: it must die before its input closes, or it would commit what it has.
      psql.kill('SIGKILL');
      pgRestore?.kill('SIGKILL');
      input.destroy();
      settle();
    };
    const endPsqlInput = (): void => {
      if (failure || psqlInputEnded || !inputEnded || !sqlEnded || !pgRestoreOk) return;
      psqlInputEnded = true;
      psql.stdin?.end();
    };
    const onAbort = (): void => fail(new BackupctlError(ErrorCodes.ABORTED, `restore into ${target} was aborted; nothing was committed`));
    signal.addEventListener('abort', onAbort, { once: true });

    // A tool that exits early makes writes fail with EPIPE; its exit status says why.
    psql.stdin?.on('error', () => {});
    psql.on('error', (error: NodeJS.ErrnoException) => {
      psqlClosed = true;
      fail(new BackupctlError(ErrorCodes.RESTORE_FAILED, `could not start psql (${options.psql}): ${error.code ?? error.message}`, {
        hint: 'install the PostgreSQL client programs or set PSQL_PATH',
      }));
    });
    psql.on('close', (code, exitSignal) => {
      psqlClosed = true;
      if (!failure && (code !== 0 || !psqlInputEnded)) {
        const stderr = psqlStderr();
        const why = code === 0 ? 'psql stopped before the end of the backup' : `psql failed restoring into ${target} (${exitStatus(code, exitSignal)})`;
        fail(new BackupctlError(ErrorCodes.RESTORE_FAILED, `${why}${stderr ? `: ${stderr}` : ''}; nothing was committed`, {
          hint: /already exists/.test(stderr)
            ? 'the target already holds these objects: restore into a new database (--target-url with --create), or replace them with --yes'
            : "read psql's message: the first failing statement stopped the restore",
        }));
      }
      settle();
    });

    input.once('error', (error) => fail(error));
    input.once('end', () => {
      inputEnded = true;
      endPsqlInput();
    });

    if (!pgRestore) {
      input.pipe(psql.stdin!, { end: false });
      return;
    }

    pgRestore.on('error', (error: NodeJS.ErrnoException) => {
      pgRestoreClosed = true;
      fail(new BackupctlError(ErrorCodes.RESTORE_FAILED, `could not start pg_restore (${options.pgRestore}): ${error.code ?? error.message}`, {
        hint: 'install the PostgreSQL client programs or set PG_RESTORE_PATH',
      }));
    });
    pgRestore.stdin?.on('error', () => {
      // pg_restore read all it needs and exited: keep reading the input, whose end is the checksum's verdict.
      input.unpipe(pgRestore.stdin!);
      input.resume();
    });
    pgRestore.stdout?.on('end', () => {
      sqlEnded = true;
      endPsqlInput();
    });
    pgRestore.on('close', (code, exitSignal) => {
      pgRestoreClosed = true;
      if (!failure && code !== 0) {
        const stderr = pgRestoreStderr();
        fail(new BackupctlError(ErrorCodes.RESTORE_FAILED, `pg_restore could not read the archive (${exitStatus(code, exitSignal)})${stderr ? `: ${stderr}` : ''}; nothing was committed`, {
          hint: 'the archive is damaged, or newer than this pg_restore (set PG_RESTORE_PATH to a newer one)',
        }));
      } else if (!failure) {
        pgRestoreOk = true;
        endPsqlInput();
      }
      settle();
    });
    input.pipe(pgRestore.stdin!);
    pgRestore.stdout?.pipe(psql.stdin!, { end: false });
  });
}
