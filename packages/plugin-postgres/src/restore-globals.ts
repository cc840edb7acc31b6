import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes, type Logger, type RestoreResult } from '@backupctl/plugin-api';
import { describeSettings, type ConnectionSettings } from './connection-url.js';
import { requirePgTool } from './find-pg-tool.js';
import { childEnv, toLibpqEnv } from './libpq-env.js';
import { redact } from './pg-dump.js';
import { readServerVersion, restoreFailed, withClient, type ConnectOptions } from './target-database.js';

/** Globals are a few statements per role; more than this is not a globals dump. */
const MAX_GLOBALS_BYTES = 64 * 1024 * 1024;

export interface RestoreGlobalsOptions {
  /** The target server; its `postgres` database is where psql connects. */
  settings: ConnectionSettings;
  connect: ConnectOptions;
  logger: Logger;
  signal: AbortSignal;
  /** Values to blank out of anything psql prints. */
  secrets: readonly string[];
  /** The environment psql inherits (without PG*) and PSQL_PATH / PATH are read from. */
  env?: NodeJS.ProcessEnv;
  searchRoots?: readonly string[];
}

/**
 * Restores a `pg_dumpall --globals-only` backup (roles, tablespaces) into
 * the target server. Unlike a database, not in one transaction and without
 * ON_ERROR_STOP: the dump creates every role, `postgres` and the others
 * that already exist on a live server included, and CREATE TABLESPACE
 * cannot run in a transaction. So each failing statement ("role ... already
 * exists") is logged and skipped, and the rest still runs. The input is read
 * whole first (it is small), so a damaged backup changes nothing.
 */
export async function restoreGlobals(input: Readable, options: RestoreGlobalsOptions): Promise<RestoreResult> {
  const settings: ConnectionSettings = { ...options.settings, database: 'postgres' };
  const where = describeSettings(settings);
  const { logger, signal } = options;
  const sql = await readWhole(input, signal);
  const server = await withClient(settings, options.connect, readServerVersion);
  const psql = await requirePgTool('psql', server, where, { env: options.env, searchRoots: options.searchRoots }).catch((error: unknown) => {
    throw restoreFailed(error, 'psql');
  });
  logger.info(
    `Restoring globals (roles, tablespaces) into PostgreSQL ${server.text} at ${where}: psql without ON_ERROR_STOP, so a role that already exists is reported and skipped`,
  );
  const errors = await runPsql(psql.path, sql, {
    env: childEnv({ PGAPPNAME: 'backupctl-restore', ...toLibpqEnv(settings) }, options.env),
    where,
    signal,
    secrets: options.secrets,
  });
  const existing = errors.filter((line) => /already exists/.test(line));
  const other = errors.filter((line) => !/already exists/.test(line));
  if (existing.length) logger.info(`${existing.length} globals already existed on ${where} and were kept as they are`);
  for (const line of other) logger.warn(`Globals statement failed and was skipped: ${line}`);
  return { target: where, format: 'globals SQL (psql, failing statements skipped)', replaced: [] };
}

async function readWhole(input: Readable, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    if (signal.aborted) throw new BackupctlError(ErrorCodes.ABORTED, 'globals restore was aborted; nothing was changed');
    size += (chunk as Buffer).length;
    if (size > MAX_GLOBALS_BYTES) {
      input.destroy();
      throw new BackupctlError(ErrorCodes.RESTORE_FAILED, `the globals backup is larger than ${MAX_GLOBALS_BYTES / 1024 / 1024} MB: not a pg_dumpall --globals-only dump`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Runs psql on `sql`; resolves with the ERROR lines it printed, rejects when psql itself failed. */
function runPsql(binary: string, sql: Buffer, options: { env: NodeJS.ProcessEnv; where: string; signal: AbortSignal; secrets: readonly string[] }): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--no-psqlrc', '--quiet', '--file=-'], { env: options.env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const onAbort = () => child.kill('SIGKILL');
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.stdin.on('error', () => {}); // psql exiting early: its exit status says why
    child.on('error', (error: NodeJS.ErrnoException) => {
      options.signal.removeEventListener('abort', onAbort);
      reject(new BackupctlError(ErrorCodes.RESTORE_FAILED, `could not start psql (${binary}): ${error.code ?? error.message}`, {
        hint: 'install the PostgreSQL client programs or set PSQL_PATH',
      }));
    });
    child.on('close', (code, exitSignal) => {
      options.signal.removeEventListener('abort', onAbort);
      const lines = redact(stderr, options.secrets).split('\n').filter((line) => line.trim() !== '');
      if (options.signal.aborted) {
        reject(new BackupctlError(ErrorCodes.ABORTED, `globals restore into ${options.where} was aborted`));
      } else if (code !== 0) {
        const status = exitSignal ? `killed by ${exitSignal}` : `exit code ${code}`;
        reject(new BackupctlError(ErrorCodes.RESTORE_FAILED, `psql failed restoring globals into ${options.where} (${status}): ${lines.slice(-5).join('\n')}`));
      } else {
        resolve(lines.filter((line) => /\bERROR:/.test(line)).map((line) => line.replace(/^psql:[^:]*:\d+:\s*/, '')));
      }
    });
    child.stdin.end(sql);
  });
}
