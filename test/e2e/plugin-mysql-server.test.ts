import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, startCli, uniqueName, type CliResult } from '../harness/index.js';
import { jobLockName } from '../../packages/plugin-mysql/src/job-lock.js';
import { MARIADB_ROOT_PASSWORD, mariadbUnavailable, startMariadb, type MariadbServer } from '../harness/mariadb.js';
import { seedShopDatabase, shopFingerprint, type ShopFingerprint } from '../harness/mariadb-seed.js';
import { logLines } from './restore-fixtures.js';

// Whole MariaDB servers: `databases: [...]` + `users: true` back up one
// object per database and one for the accounts; restore brings back the
// account first, then each database, onto a server where all of them were
// dropped; `databases: all` leaves the server's own databases out.

const unavailable = mariadbUnavailable();
const dbA = uniqueName('whole_a');
const dbB = uniqueName('whole_b');
const user = uniqueName('clerk');
const userPassword = 'Clerk pw #7 "x"';
let server: MariadbServer;
let dir: string;
let file: string;
let before: Record<string, ShopFingerprint>;

const env = () => ({ SERVER_URL: server.url(''), DB_A: dbA, DB_B: dbB, BACKUP_DIR: dir });

async function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { env: { ...env(), ...extra } });
  const output = result.stdout + result.stderr;
  for (const secret of [MARIADB_ROOT_PASSWORD, encodeURIComponent(MARIADB_ROOT_PASSWORD), userPassword]) expect(output).not.toContain(secret);
  return result;
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(root, path.join(entry.parentPath, entry.name))).sort();
}

beforeAll(async () => {
  if (unavailable) return;
  server = await startMariadb();
  await seedShopDatabase(server, dbA);
  await seedShopDatabase(server, dbB, { customers: 40, ordersPerCustomer: 2, attachments: 3, attachmentBytes: 1000 });
  await server.query(`CREATE USER '${user}'@'%' IDENTIFIED BY ?; GRANT SELECT, INSERT ON \`${dbB}\`.* TO '${user}'@'%';`, [userPassword]);
  before = { [dbA]: await shopFingerprint(server, dbA), [dbB]: await shopFingerprint(server, dbB) };
  dir = await makeTempDir('backupctl-mysql-server-');
  file = path.join(dir, 'backupctl.yml');
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  server:',
      '    title: Main server',
      '    source:',
      '      use: mysql',
      '      with: { url: "${SERVER_URL}", databases: ["${DB_A}", "${DB_B}"], users: true, retryAttempts: 1 }',
      '    transforms: [{ use: gzip }]',
      '    sink: { use: file, with: { directory: "${BACKUP_DIR}/store", prefix: servers/main/ } }',
      '  everything:',
      '    source: { use: mysql, with: { url: "${SERVER_URL}", databases: all, retryAttempts: 1 } }',
      '    sink: { use: file, with: { directory: "${BACKUP_DIR}/store", prefix: servers/all/ } }',
      '  shared:',
      '    title: Shared server',
      '    source: { use: mysql, with: { url: "${SERVER_URL}", databases: ["${DB_A}", "${DB_B}"], retryAttempts: 1 } }',
      '    sink:',
      '      use: file',
      '      with: { directory: "${BACKUP_DIR}/store", prefix: servers/shared/ }',
      '      hooks: [{ use: respawn, with: { hours: 1 } }]',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (unavailable) return;
  await server?.stop({ remove: true });
  await removeTempDir(dir);
});

describe.skipIf(unavailable !== undefined)(`mysql whole servers${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
  it('backs up two databases and the accounts, then restores the account and both databases onto a server without them; verify skips the accounts', async () => {
    const run = await cli(['run', file, '--job', 'server']);
    expect(run.code, run.stderr).toBe(0);
    const files = await filesUnder(path.join(dir, 'store', 'servers', 'main'));
    const stamp = /^users\/users_(\d{8}_\d{6})\.sql\.gz$/.exec(files.find((name) => name.startsWith('users/')) ?? '')?.[1];
    expect(stamp, files.join(', ')).toBeDefined();
    expect(files.filter((name) => !name.startsWith('.'))).toEqual([`${dbA}/${dbA}_${stamp}.sql.gz`, `${dbB}/${dbB}_${stamp}.sql.gz`, `users/users_${stamp}.sql.gz`].sort());
    expect(logLines(run)).toContain(`Main server: backing up 3 parts: users, ${dbA}, ${dbB}`);

    // The account with its password hash and grants; root and the server's own accounts left out.
    const users = gunzipSync(await readFile(path.join(dir, 'store', 'servers', 'main', 'users', `users_${stamp}.sql.gz`))).toString('utf8');
    expect(users).toContain(`CREATE USER IF NOT EXISTS \`${user}\`@\`%\` IDENTIFIED BY PASSWORD '*`);
    expect(users).toContain(`GRANT SELECT, INSERT ON \`${dbB}\`.* TO \`${user}\`@\`%\`;`);
    expect(users).not.toMatch(/`root`@|mariadb\.sys/);

    await server.query(`DROP DATABASE \`${dbA}\`; DROP DATABASE \`${dbB}\`; DROP USER '${user}'@'%';`);
    const restore = await cli(['restore', 'server', file, '--create'], { RESTORE_TARGET_URL: server.url('') });
    expect(restore.code, restore.stderr).toBe(0);
    const lines = logLines(restore);
    expect(lines[0]).toBe(`Main server: restoring 3 parts: users, ${[dbA, dbB].sort().join(', ')}`);
    expect(lines).toContainEqual(expect.stringMatching(/^Restoring accounts and grants onto 127\.0\.0\.1:\d+ with mariadb/));
    for (const database of [dbA, dbB]) {
      const after = await shopFingerprint(server, database);
      expect(after.tables).toEqual(before[database]!.tables);
      expect(after.routines).toEqual(before[database]!.routines);
      expect(after.triggers).toEqual(before[database]!.triggers);
    }
    // The account is back, with its password and its grants.
    const clerk = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user, password: userPassword, database: dbB });
    try {
      const [rows] = await clerk.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM customers');
      expect(Number(rows[0]?.n)).toBe(40);
    } finally {
      await clerk.end();
    }

    const verify = await cli(['verify', 'server', file, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    const verified = JSON.parse(verify.stdout) as { ok: boolean; skipped: string[]; parts: { ok: boolean }[] };
    expect(verified).toMatchObject({ ok: true, skipped: ['users'] });
    expect(verified.parts).toHaveLength(2);
  });

  it('databases: all backs up every database but information_schema, performance_schema, mysql and sys', async () => {
    const run = await cli(['run', file, '--job', 'everything']);
    expect(run.code, run.stderr).toBe(0);
    const parts = new Set((await filesUnder(path.join(dir, 'store', 'servers', 'all'))).map((name) => name.split('/')[0]).filter((name) => !name!.startsWith('.')));
    expect([...parts].sort()).toEqual([dbA, dbB].sort());
  });

  it('run --worker: a database whose lock another session holds is busy, tried again after the walk, and backed up once the lock is free', async () => {
    // Another worker holds the part's lock (its GET_LOCK name: the part is a job named after its database).
    const holder = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root', password: MARIADB_ROOT_PASSWORD });
    let held = true;
    const release = async () => {
      if (!held) return;
      held = false;
      await holder.end();
    };
    try {
      const [rows] = await holder.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS locked', [jobLockName(dbA, dbA)]);
      expect(Number(rows[0]?.locked)).toBe(1);
      const worker = startCli(['run', file, '--job', 'shared', '--worker', '--worker-index', '0'], { env: env() });
      await worker.waitForOutput(new RegExp(`held by other workers \\(${dbA}\\); trying again`), 'stderr');
      await release();
      const run = await worker.result;
      expect(run.code, run.stderr).toBe(0);
      const files = (await filesUnder(path.join(dir, 'store', 'servers', 'shared'))).filter((name) => !name.startsWith('.'));
      expect(files.map((name) => name.split('/')[0]).sort()).toEqual([dbA, dbB].sort());
      expect(logLines(run)).toContain('Shared server: 2 parts: 2 backed up, 0 skipped, 0 failed');
    } finally {
      await release();
    }
  });
});
