import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceInstance, SourcePart } from '@backupctl/plugin-api';
import plugin from '../../packages/plugin-postgres/src/index.js';
import { fakeContext } from '../../packages/plugin-postgres/test/fake-context.js';
import {
  makeTempDir,
  quoteIdentifier,
  removeTempDir,
  runCli,
  seedClaraDatabase,
  seedMem0Database,
  tableFingerprints,
  uniqueName,
  usePostgres,
  type DatabaseFingerprint,
} from '../harness/index.js';
import { logLines, printedSecrets } from './restore-fixtures.js';

// Whole servers: `databases: [...]` + `globals: true` back up one object per
// database and one for the roles; restore brings back the role first, then
// each database, onto a server where all of them were dropped.

const pg = usePostgres();
const databases = [uniqueName('whole_a'), uniqueName('whole_b'), uniqueName('whole_c')] as const;
const [dbA, dbB, dbC] = databases;
const role = uniqueName('owner_x');
const rolePassword = `role-pw-${randomBytes(6).toString('hex')}`;
let dir: string;
let file: string;
let before: Record<string, DatabaseFingerprint>;

const env = () => ({
  SERVER_URL: pg.url('postgres'),
  DB_A: dbA,
  DB_B: dbB,
  DB_C: dbC,
  BACKUP_DIR: dir,
});

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(root, path.join(entry.parentPath, entry.name))).sort();
}

async function roleExists(): Promise<boolean> {
  return (await pg.query('postgres', 'SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).length === 1;
}

beforeAll(async () => {
  for (const database of databases) await pg.createDatabase(database);
  await seedClaraDatabase(pg, dbA);
  await seedMem0Database(pg, dbB);
  await pg.query('postgres', `CREATE ROLE ${quoteIdentifier(role)} LOGIN PASSWORD '${rolePassword}'`);
  await pg.psql(
    dbC,
    `CREATE TABLE ledger (id int PRIMARY KEY, amount numeric(10, 2) NOT NULL, note text);
     INSERT INTO ledger SELECT i, i * 1.25, 'entry ' || i FROM generate_series(1, 500) AS i;
     ALTER TABLE ledger OWNER TO ${quoteIdentifier(role)};`,
  );
  before = {};
  for (const database of databases) before[database] = await tableFingerprints(pg, database);

  dir = await makeTempDir('backupctl-whole-server-');
  file = path.join(dir, 'backupctl.yml');
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  server:',
      '    title: Main server',
      '    source:',
      '      use: postgres',
      '      with: { url: "${SERVER_URL}", databases: ["${DB_A}", "${DB_B}", "${DB_C}"], globals: true, retryAttempts: 1 }',
      '    transforms: [{ use: gzip }]',
      '    sink:',
      '      use: file',
      '      with: { directory: "${BACKUP_DIR}/store", prefix: servers/main/ }',
      '      hooks: [{ use: retention, with: { days: 7 } }]',
      '  passwords:',
      '    source: { use: postgres, with: { url: "${SERVER_URL}", globals: true, globalsWithPasswords: true, retryAttempts: 1 } }',
      '    sink: { use: file, with: { directory: "${BACKUP_DIR}/store", prefix: servers/with-passwords/ } }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const database of databases) await pg.dropDatabase(database);
  await pg.query('postgres', `DROP ROLE IF EXISTS ${quoteIdentifier(role)}`);
  await removeTempDir(dir);
});

describe('whole servers', () => {
  it('backs up three databases and the globals, then restores the role and every database onto a server without them', async () => {
    const run = await runCli(['run', file, '--job', 'server'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(printedSecrets(run)).toBe(false);
    expect(run.stderr).not.toContain(rolePassword);

    const files = await filesUnder(path.join(dir, 'store', 'servers', 'main'));
    const stamp = /^globals\/globals_(\d{8}_\d{6})\.sql\.gz$/.exec(files[0] ?? '')?.[1];
    expect(stamp, files.join(', ')).toBeDefined();
    // One object per part, all carrying the run's one timestamp.
    expect(files).toEqual([`globals/globals_${stamp}.sql.gz`, ...[...databases].sort().map((db) => `${db}/${db}_${stamp}.sql.gz`)].sort());
    expect(logLines(run)).toContain(`Main server: backing up 4 parts: globals, ${databases.join(', ')}`);
    for (const database of databases) expect(logLines(run)).toContainEqual(expect.stringMatching(new RegExp(`^Main server / ${database} backup complete: ${database}_${stamp}\\.sql\\.gz`)));

    // ls shows the job per part.
    const ls = await runCli(['ls', file, '--job', 'server', '--json'], { env: env() });
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as { job: string; key: string }[];
    expect(listed.map((item) => [item.job, item.key])).toEqual(
      ['globals', ...[...databases].sort()].map((part) => [part, `servers/main/${part}/${part}_${stamp}.sql.gz`]),
    );
    const lsText = await runCli(['ls', file, '--job', 'server'], { env: env() });
    expect(lsText.stdout).toContain(`Main server / ${dbC} backups:`);
    // restore-help: one backupctl command for the whole run, then each part by hand, the globals first.
    const help = await runCli(['restore-help', file, '--job', 'server'], { env: env() });
    expect(help.code, help.stderr).toBe(0);
    expect(printedSecrets(help)).toBe(false);
    const sorted = [...databases].sort();
    expect(help.stdout).toContain(`Main server (job server): a whole server, 4 parts (globals, ${sorted.join(', ')}); newest run`);
    expect(help.stdout).toContain(`  backupctl restore server --at ${stamp} --yes\n`);
    const globalsAt = help.stdout.indexOf(`Main server / globals (job server, part globals): newest backup servers/main/globals/globals_${stamp}.sql.gz`);
    const dbCAt = help.stdout.indexOf(`Main server / ${dbC} (job server, part ${dbC}): newest backup servers/main/${dbC}/${dbC}_${stamp}.sql.gz`);
    expect(globalsAt).toBeGreaterThan(0);
    expect(dbCAt).toBeGreaterThan(globalsAt);
    expect(help.stdout).toContain(`  psql "\${SERVER_URL%/*}/postgres" < globals_${stamp}.sql\n`);
    expect(help.stdout).toContain(`  psql -v ON_ERROR_STOP=1 --single-transaction "\${SERVER_URL%/*}/${dbC}" < ${dbC}_${stamp}.sql\n`);
    expect(help.stdout).toContain(`  createdb --maintenance-db="\${SERVER_URL%/*}/${dbC}" ${dbC}_restore\n`);
    // prune too: each part's own folder.
    const prune = await runCli(['prune', file, '--job', 'server', '--dry-run'], { env: env() });
    expect(prune.code, prune.stderr).toBe(0);
    for (const part of ['globals', ...databases]) {
      expect(logLines(prune)).toContainEqual(expect.stringMatching(new RegExp(`^Main server / ${part} prune \\(dry run\\): .*servers/main/${part}/$`)));
    }

    // Roles without their password hashes (no globalsWithPasswords).
    const globals = gunzipSync(await readFile(path.join(dir, 'store', 'servers', 'main', 'globals', `globals_${stamp}.sql.gz`))).toString('utf8');
    expect(globals).toContain(`CREATE ROLE ${role};`);
    expect(globals).not.toMatch(/SCRAM-SHA-256\$|PASSWORD '/);

    // Drop everything it holds, the role last (it owns a table in dbC).
    for (const database of databases) await pg.dropDatabase(database);
    await pg.query('postgres', `DROP ROLE ${quoteIdentifier(role)}`);
    expect(await roleExists()).toBe(false);

    const restore = await runCli(['restore', 'server', file, '--create', '--json'], { env: { ...env(), RESTORE_TARGET_URL: pg.url('postgres') } });
    expect(restore.code, restore.stderr).toBe(0);
    expect(printedSecrets(restore)).toBe(false);
    const lines = logLines(restore);
    expect(lines[0]).toBe(`Main server: restoring 4 parts: globals, ${[...databases].sort().join(', ')}`);
    // Globals first, onto the server's postgres database, existing roles (postgres) kept.
    expect(lines[2]).toMatch(/^Restoring globals \(roles, tablespaces\) into PostgreSQL 1\d\.\d+ at 127\.0\.0\.1:\d+\/postgres: psql without ON_ERROR_STOP/);
    expect(lines).toContainEqual(expect.stringMatching(/^\d+ globals already existed on 127\.0\.0\.1:\d+\/postgres and were kept as they are$/));
    expect(restore.stderr.replace('ON_ERROR_STOP', '')).not.toMatch(/WARN|ERROR/);

    const summary = JSON.parse(restore.stdout) as { job: string; key: string; checksum: string; target: string }[];
    expect(summary.map((part) => part.job)).toEqual(['globals', ...[...databases].sort()]);
    for (const part of summary) {
      expect(part.checksum).toBe('verified');
      expect(part.key).toBe(`servers/main/${part.job}/${part.job}_${stamp}.sql.gz`);
      expect(part.target).toBe(`127.0.0.1:${pg.port}/${part.job === 'globals' ? 'postgres' : part.job}`);
    }

    // verify: each database in a scratch database of its own, the globals skipped (no tables), nothing left behind.
    const verify = await runCli(['verify', 'server', file, '--json'], { env: env() });
    expect(verify.code, verify.stderr).toBe(0);
    expect(printedSecrets(verify)).toBe(false);
    const verified = JSON.parse(verify.stdout) as { ok: boolean; skipped: string[]; parts: { ok: boolean; key: string; checksum: string; tables: { table: string; status: string }[] }[] };
    expect(verified.ok).toBe(true);
    expect(verified.skipped).toEqual(['globals']);
    expect(verified.parts.map((part) => part.key)).toEqual([...databases].sort().map((db) => `servers/main/${db}/${db}_${stamp}.sql.gz`));
    for (const part of verified.parts) {
      expect(part.ok).toBe(true);
      expect(part.checksum).toBe('verified');
      expect(part.tables.length).toBeGreaterThan(0);
    }
    expect(logLines(verify)).toContain('Main server / globals: skipped, the "postgres" source cannot verify this part (it holds no tables to count)');
    // A database changed since the backup: each part still matches its manifest; against the
    // live databases, that part, and only that one, differs; exit 1.
    await pg.query(dbC, `INSERT INTO ledger VALUES (501, 1.00, 'after the backup')`);
    const unchanged = await runCli(['verify', 'server', file], { env: env() });
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.stdout.match(/^OK: .* match its manifest$/gm)).toHaveLength(3);
    const changed = await runCli(['verify', 'server', file, '--against-source'], { env: env() });
    await pg.query(dbC, 'DELETE FROM ledger WHERE id = 501');
    expect(changed.code, changed.stderr).toBe(1);
    expect(changed.stdout.match(/^OK: /gm)).toHaveLength(2);
    expect(changed.stdout).toMatch(/^FAILED: 1 of 1 tables differ from the source database/m);
    expect(changed.stdout).toContain('Skipped (nothing to count): globals');
    // --key names one object: refused for a job of several parts, by restore and verify alike, before anything is touched.
    for (const command of ['restore', 'verify']) {
      const byKey = await runCli([command, 'server', file, '--key', `servers/main/${dbA}/${dbA}_${stamp}.sql.gz`], { env: env() });
      expect(byKey.code, byKey.stderr).toBe(2);
      expect(byKey.stderr).toContain(`job server backs up 4 parts (globals, ${[...databases].sort().join(', ')}): --key names one object`);
    }
    const scratch = await pg.query<{ datname: string }>('postgres', `SELECT datname FROM pg_database WHERE datname LIKE '%\\_verify\\_%'`);
    expect(scratch).toEqual([]);

    expect(await roleExists()).toBe(true);
    for (const database of databases) expect(await tableFingerprints(pg, database)).toEqual(before[database]);
    const [owner] = await pg.query<{ tableowner: string }>(dbC, `SELECT tableowner FROM pg_tables WHERE tablename = 'ledger'`);
    expect(owner?.tableowner).toBe(role);
  });

  it('keeps the password hashes in the globals only with globalsWithPasswords', async () => {
    if (!(await roleExists())) await pg.query('postgres', `CREATE ROLE ${quoteIdentifier(role)} LOGIN PASSWORD '${rolePassword}'`);
    else await pg.query('postgres', `ALTER ROLE ${quoteIdentifier(role)} PASSWORD '${rolePassword}'`);
    const run = await runCli(['run', file, '--job', 'passwords'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    // databases unset: the URL's own database, plus the globals.
    const files = await filesUnder(path.join(dir, 'store', 'servers', 'with-passwords'));
    expect(files.map((name) => name.replace(/\d{8}_\d{6}/, 'TS'))).toEqual(['globals/globals_TS.sql', 'postgres/postgres_TS.sql']);
    const globals = await readFile(path.join(dir, 'store', 'servers', 'with-passwords', files[0]!), 'utf8');
    expect(globals).toMatch(new RegExp(`ALTER ROLE ${role} WITH .*PASSWORD '(SCRAM-SHA-256\\$|md5)`));
  });
});

describe('databases: all', () => {
  function create(options: Record<string, unknown>) {
    const fake = fakeContext();
    const source = plugin.create(
      { url: pg.url(dbA), format: 'plain', retryAttempts: 1, retryDelaySeconds: 0, pgDumpPath: '', args: [], ...options } as never,
      fake.context,
    ) as SourceInstance;
    return source;
  }

  it('expands into every database one can connect to, templates left out, each part naming its database', async () => {
    const parts = (await create({ databases: 'all' }).expand!(AbortSignal.timeout(30_000))) as SourcePart[];
    const onServer = await pg.query<{ datname: string; datistemplate: boolean; datallowconn: boolean }>(
      'postgres',
      'SELECT datname, datistemplate, datallowconn FROM pg_database',
    );
    const expected = onServer.filter((row) => !row.datistemplate && row.datallowconn).map((row) => row.datname).sort();
    expect(parts.map((part) => part.name)).toEqual(expected);
    expect(expected).toEqual(expect.arrayContaining(['postgres', ...databases]));
    expect(parts.map((part) => part.name)).not.toContain('template0');
    expect(parts.map((part) => part.name)).not.toContain('template1');
    for (const part of parts) {
      expect(part.options).toMatchObject({ url: pg.url(part.name), dump: 'database' });
      expect(part.options).not.toHaveProperty('databases');
    }
  });

  it('puts globals first, and names a listed database the server does not have', async () => {
    const parts = (await create({ databases: [dbB, dbA], globals: true }).expand!(AbortSignal.timeout(30_000))) as SourcePart[];
    expect(parts.map((part) => part.name)).toEqual(['globals', dbB, dbA]);
    expect(parts[0]!.options).toMatchObject({ dump: 'globals' });

    const missing = uniqueName('no_such_db');
    await expect(create({ databases: [dbA, missing] }).expand!(AbortSignal.timeout(30_000))).rejects.toThrow(
      new RegExp(`database ${missing} named in databases does not exist on the server`),
    );
  });

  it('does not expand a plain single-database source', async () => {
    expect(await create({}).expand!(AbortSignal.timeout(30_000))).toBeUndefined();
  });
});
