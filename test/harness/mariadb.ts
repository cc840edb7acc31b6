import { execFile as execFileCallback, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { closedPort } from './closed-port.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const execFile = promisify(execFileCallback);

// Debian's MariaDB (`mariadb-server`, installed by .ci/run) on a free
// 127.0.0.1 port and a private socket, in a data directory of its own under
// a temp directory. One per test file. The recipe and its pitfalls:
// `--no-defaults` first (else /etc/mysql's files are read), `--user=root`
// (mariadbd refuses root otherwise), utf8mb4 as Debian's config sets it,
// a retry when the port was taken meanwhile, and root's passwordless
// accounts from mariadb-install-db given a password or dropped.

const MARIADBD = '/usr/sbin/mariadbd';
export const MARIADB_ROOT_PASSWORD = 'Root pw "1" !';

/** A running MariaDB server. */
export interface MariadbServer {
  host: '127.0.0.1';
  port: number;
  /** `mysql://root:...@127.0.0.1:port/<database>` (root; the password percent-encoded). */
  url(database?: string, user?: { name: string; password: string }): string;
  /** A root connection (to `database` when given); the caller ends it. */
  connect(database?: string): Promise<mysql.Connection>;
  /** Runs statements as root (several per call), returning the last result's rows. */
  query<T = mysql.RowDataPacket[]>(sql: string, values?: unknown[], database?: string): Promise<T>;
  /** Stops the server (SIGTERM, waiting for it) and, with `remove`, its files. */
  stop(options?: { remove?: boolean }): Promise<void>;
  /** Starts it again on the same port and data directory (after stop). */
  start(): Promise<void>;
  /** The server process's PID while it runs. */
  pid(): number | undefined;
}

/** Why the MariaDB tests cannot run here, or undefined when they can. */
export function mariadbUnavailable(): string | undefined {
  if (!existsSync(MARIADBD)) return `${MARIADBD} is missing: install mariadb-server mariadb-client (.ci/run does)`;
  return undefined;
}

/** `mysql://user:password@127.0.0.1:port/database`, each part percent-encoded. */
export function mysqlUrl(port: number, user: string, password: string, database = ''): string {
  return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function waitForSocket(socket: string, child: ChildProcess, log: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mariadbd exited (${child.exitCode ?? child.signalCode}):\n${await log()}`);
    const up = await mysql
      .createConnection({ socketPath: socket, user: 'root' })
      .then(async (connection) => {
        await connection.end();
        return true;
      })
      // Access denied means it is up (the password was already set, on a restart).
      .catch((error: { code?: string }) => error.code === 'ER_ACCESS_DENIED_ERROR');
    if (up) return;
    await delay(100);
  }
  throw new Error(`mariadbd did not answer on ${socket}:\n${await log()}`);
}

export async function startMariadb(): Promise<MariadbServer> {
  const dir = await makeTempDir('mariadb-test-');
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'sock');
  const errorLog = path.join(dir, 'err.log');
  await execFile('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db'], {
    maxBuffer: 4 << 20,
  });
  let child: ChildProcess | undefined;
  let port = 0;
  const log = () => readFile(errorLog, 'utf8').then((text) => text.slice(-4000), () => '');

  const launch = async (): Promise<void> => {
    const process = spawn(
      MARIADBD,
      [
        '--no-defaults',
        '--user=root',
        `--datadir=${data}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${socket}`,
        `--pid-file=${path.join(dir, 'pid')}`,
        `--log-error=${errorLog}`,
        '--innodb-buffer-pool-size=32M',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_general_ci',
        // The event scheduler stays off: the seeded event is backed up and restored, never fired.
      ],
      { stdio: 'ignore' },
    );
    child = process;
    await waitForSocket(socket, process, log);
  };

  const startOnFreePort = async (): Promise<void> => {
    // The port was free a moment ago; another process may take it first (bind error 98): try another.
    for (let attempt = 1; ; attempt++) {
      port = await closedPort();
      try {
        await launch();
        return;
      } catch (error) {
        if (attempt >= 5 || !/Bind on TCP\/IP port|Address already in use|error: 98/i.test(String((error as Error).message))) throw error;
      }
    }
  };

  try {
    await startOnFreePort();
    const setup = await mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true });
    try {
      await setup.query(
        `ALTER USER root@localhost IDENTIFIED BY ${setup.escape(MARIADB_ROOT_PASSWORD)};
         DROP USER IF EXISTS root@'127.0.0.1', root@'::1', root@${setup.escape(hostname())};`,
      );
    } finally {
      await setup.end();
    }
  } catch (error) {
    child?.kill('SIGKILL');
    await removeTempDir(dir);
    throw error;
  }

  const connect = (database?: string) =>
    mysql.createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
      password: MARIADB_ROOT_PASSWORD,
      database,
      multipleStatements: true,
      charset: 'utf8mb4_general_ci',
    });

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    url: (database = '', user) => mysqlUrl(port, user?.name ?? 'root', user?.password ?? MARIADB_ROOT_PASSWORD, database),
    connect,
    async query<T>(sql: string, values?: unknown[], database?: string): Promise<T> {
      const connection = await connect(database);
      try {
        const [rows] = await connection.query(sql, values);
        return rows as T;
      } finally {
        await connection.end();
      }
    },
    async stop(options) {
      await stop();
      if (options?.remove) await removeTempDir(dir);
    },
    start: launch,
    pid: () => child?.pid,
  };
}

/** Writes a 0600 client option file for root, for the mariadb command-line tools in tests. */
export async function writeRootOptionFile(server: MariadbServer, file: string): Promise<string> {
  await writeFile(file, `[client]\nuser=root\npassword="${MARIADB_ROOT_PASSWORD.replaceAll('"', '\\"')}"\nhost=127.0.0.1\nport=${server.port}\n`, {
    mode: 0o600,
  });
  return file;
}
