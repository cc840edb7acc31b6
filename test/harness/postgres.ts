import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresClient, type PostgresClient } from './postgres-client.js';
import { runProcess, type ProcessOptions } from './process.js';

/** The superuser password of every harness cluster; distinctive, so tests can grep output for leaks. */
export const TEST_PG_PASSWORD = 'pg-Secr3t-ZQ7x';

const SUPERUSER = 'postgres';
const HOST = '127.0.0.1';
const START_ATTEMPTS = 3;

/** A throwaway PostgreSQL cluster: its own data directory, port and socket directory. */
export interface PostgresCluster extends PostgresClient {
  /** Stops the server (fast shutdown) and deletes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/** Who the server processes run as: root may not run them, so root hands them to `postgres`. */
interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * Starts a new PostgreSQL cluster on a free port of 127.0.0.1 with password
 * (SCRAM) authentication, from the installed server binaries.
 */
export async function startPostgres(): Promise<PostgresCluster> {
  const binDir = await findServerBinaries();
  const runAs = await serverUser();
  const baseDir = await mkdtemp(join(tmpdir(), 'backupctl-pg-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'postgres.log');
  const serverOptions: ProcessOptions = {
    ...runAs,
    cwd: baseDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  };
  const stopSync = (): void => {
    if (existsSync(join(dataDir, 'postmaster.pid'))) {
      const { uid, gid, cwd, env } = serverOptions;
      spawnSync(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { uid, gid, cwd, env, stdio: 'ignore' });
    }
    rmSync(baseDir, { recursive: true, force: true });
  };
  // A test run that crashes or is interrupted still leaves no server behind.
  process.once('exit', stopSync);

  try {
    if (runAs.uid !== undefined && runAs.gid !== undefined) await chown(baseDir, runAs.uid, runAs.gid);
    await initCluster(binDir, dataDir, baseDir, runAs, serverOptions);
    const port = await startServer(binDir, dataDir, baseDir, logFile, serverOptions);

    const client = postgresClient({ host: HOST, port, user: SUPERUSER, password: TEST_PG_PASSWORD, binDir });
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        process.removeListener('exit', stopSync);
        const result = await runProcess(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], serverOptions);
        if (result.code !== 0) stopSync(); // fast shutdown failed: stop it immediately, then remove its files
        else await rm(baseDir, { recursive: true, force: true });
      })();
      return stopping;
    };
    return { ...client, stop };
  } catch (error) {
    process.removeListener('exit', stopSync);
    stopSync();
    throw error;
  }
}

/** `pg_config --bindir` when it holds initdb, else the newest /usr/lib/postgresql/<version>/bin. */
async function findServerBinaries(): Promise<string> {
  const hasServer = (dir: string): boolean => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  try {
    const { code, stdout } = await runProcess('pg_config', ['--bindir']);
    const dir = stdout.trim();
    if (code === 0 && dir && hasServer(dir)) return dir;
  } catch {
    // No pg_config on PATH: look in Debian's versioned directories.
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+(\.\d+)?$/.test(name) && hasServer(join(root, name, 'bin')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found; install them with: apt-get install -y postgresql');
  }
  return join(root, newest, 'bin');
}

/** initdb and pg_ctl refuse to run as root; as root, run them as the `postgres` system user. */
async function serverUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const lookUp = async (flag: '-u' | '-g'): Promise<number> => {
    const { code, stdout } = await runProcess('id', [flag, SUPERUSER]);
    const id = Number.parseInt(stdout.trim(), 10);
    if (code !== 0 || Number.isNaN(id)) {
      throw new Error(
        'Running as root, but there is no `postgres` system user to run the server as; ' +
          'install it with: apt-get install -y postgresql, or run the tests as another user',
      );
    }
    return id;
  };
  return { uid: await lookUp('-u'), gid: await lookUp('-g') };
}

async function initCluster(binDir: string, dataDir: string, baseDir: string, runAs: RunAs, options: ProcessOptions): Promise<void> {
  const pwFile = join(baseDir, 'pwfile');
  await writeFile(pwFile, `${TEST_PG_PASSWORD}\n`, { mode: 0o600 });
  if (runAs.uid !== undefined && runAs.gid !== undefined) await chown(pwFile, runAs.uid, runAs.gid);
  const args = [
    '-D', dataDir,
    '-U', SUPERUSER,
    `--pwfile=${pwFile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C',
    // The cluster is thrown away after the run: skip the final fsync of every file.
    '--no-sync',
  ];
  const result = await runProcess(join(binDir, 'initdb'), args, options);
  await rm(pwFile, { force: true });
  if (result.code !== 0) {
    throw new Error(`initdb failed (exit ${result.code ?? result.signal}):\n${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Starts the server on a free port; retries on a new port if another process took it meanwhile. */
async function startServer(binDir: string, dataDir: string, baseDir: string, logFile: string, options: ProcessOptions): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // pg_ctl hands -o to the server through /bin/sh: quote the socket directory.
    const serverArgs = [
      `-c listen_addresses=${HOST}`,
      `-p ${port}`,
      `-c unix_socket_directories='${baseDir}'`,
      // Durability is pointless for a throwaway test cluster, and costs the tests time.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    const args = ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverArgs, 'start'];
    const result = await runProcess(join(binDir, 'pg_ctl'), args, options);
    if (result.code === 0) return port;
    const log = await logTail(logFile);
    if (attempt < START_ATTEMPTS && /could not bind|address already in use/i.test(log)) continue;
    throw new Error(
      `pg_ctl start failed (exit ${result.code ?? result.signal}): ${result.stderr.trim()}\n--- server log (tail) ---\n${log}`,
    );
  }
}

async function logTail(logFile: string, lines = 30): Promise<string> {
  try {
    return (await readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log was written)';
  }
}

/** A TCP port free on 127.0.0.1 right now: listen on port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the free port'))));
    });
  });
}
