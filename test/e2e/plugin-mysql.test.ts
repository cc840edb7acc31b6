import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, startCli, uniqueName, useS3, type CliResult } from '../harness/index.js';
import { MARIADB_ROOT_PASSWORD, mariadbUnavailable, startMariadb, type MariadbServer } from '../harness/mariadb.js';
import { ODD_TABLE, seedShopDatabase, shopFingerprint, type ShopFingerprint } from '../harness/mariadb-seed.js';
import { logLines } from './restore-fixtures.js';

// The mysql source through the built CLI against a real MariaDB: a shop
// database with every kind of object backed up to S3, restored into a new
// database identical table by table, verified; refusals, failures that
// leave nothing behind, the lock, retries while the server starts, and
// what restore-help prints.

const unavailable = mariadbUnavailable();
const s3 = useS3();
const bucket = uniqueName('mysql-backups');
const shop = uniqueName('shop');
const APP_PASSWORD = 'App pw: "q" \\ #1';
let server: MariadbServer;
let dir: string;
let before: ShopFingerprint;

beforeAll(async () => {
  if (unavailable) return;
  server = await startMariadb();
  await seedShopDatabase(server, shop);
  before = await shopFingerprint(server, shop);
  await s3.createBucket(bucket);
  dir = await makeTempDir('backupctl-mysql-');
});

afterAll(async () => {
  if (unavailable) return;
  await server?.stop({ remove: true });
  await removeTempDir(dir);
});

interface PipelineSetting {
  /** Extra lines under the source's `with:`. */
  source?: string[];
  prefix?: string;
}

async function pipeline(setting: PipelineSetting = {}): Promise<string> {
  const file = path.join(dir, `${uniqueName('pipeline')}.yml`);
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  shop:',
      '    title: Shop DB',
      '    source:',
      '      use: mysql',
      '      with:',
      '        url: "${MYSQL_URL}"',
      ...(setting.source ?? ['retryAttempts: 1']).map((line) => `        ${line}`),
      '    transforms: [{ use: gzip }]',
      '    sink:',
      '      use: s3',
      '      with:',
      '        bucket: "${S3_BUCKET}"',
      '        endpoint: "${S3_ENDPOINT_URL}"',
      '        region: "${S3_REGION}"',
      '        accessKeyId: "${S3_ACCESS_KEY}"',
      '        secretAccessKey: "${S3_SECRET_KEY}"',
      `        prefix: ${setting.prefix ?? 'backups/shop/'}`,
      '',
    ].join('\n'),
  );
  return file;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  const info = inject('s3');
  return {
    MYSQL_URL: server.url(shop),
    S3_BUCKET: bucket,
    S3_ENDPOINT_URL: info.endpoint,
    S3_REGION: info.region,
    S3_ACCESS_KEY: info.accessKeyId,
    S3_SECRET_KEY: info.secretAccessKey,
    ...extra,
  };
}

async function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { env: env(extra) });
  const output = result.stdout + result.stderr;
  expect(output).not.toContain(MARIADB_ROOT_PASSWORD);
  expect(output).not.toContain(encodeURIComponent(MARIADB_ROOT_PASSWORD));
  expect(output).not.toContain(APP_PASSWORD);
  expect(output).not.toContain(encodeURIComponent(APP_PASSWORD));
  return result;
}

/** The job's error lines (the run's summary line left out). */
const errorLines = (result: CliResult) => logLines(result).filter((line) => line.startsWith('ERROR:') && !line.startsWith('ERROR: Backup failed: '));

async function databases(like: string): Promise<string[]> {
  const rows = await server.query<RowDataPacket[]>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1', [`%${like}%`]);
  return rows.map((row) => String(row.name));
}

async function keys(prefix: string): Promise<string[]> {
  return (await s3.listKeys(bucket, prefix)).filter((key) => !key.startsWith('metadata/'));
}

/** The PIDs of processes named `name` whose parent is `parent`. */
async function childrenNamed(parent: number, name: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (match?.[1] === name && Number(match[2]) === parent) found.push(Number(entry));
  }
  return found;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await delay(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Holds `LOCK TABLES <table> WRITE` from another session, so a dump stops at that table until released. */
async function holdTable(database: string, table: string): Promise<{ release(): Promise<void> }> {
  const connection = await server.connect(database);
  await connection.query(`LOCK TABLES \`${table.replaceAll('`', '``')}\` WRITE`);
  return {
    async release() {
      await connection.query('UNLOCK TABLES').catch(() => {});
      await connection.end().catch(() => {});
    },
  };
}

describe.skipIf(unavailable !== undefined)(`mysql source through the CLI${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
  let file: string;
  let key: string;

  it('backs up to S3 with a manifest of exact row counts; restore --create gives an identical database; verify passes', async () => {
    file = await pipeline();
    const run = await cli(['run', file]);
    expect(run.code, run.stderr).toBe(0);
    const stored = await keys('backups/shop/');
    expect(stored).toHaveLength(1);
    key = stored[0]!;
    expect(key).toMatch(/^backups\/shop\/shop_\d{8}_\d{6}\.sql\.gz$/);
    expect(run.stderr).not.toMatch(/WARN|ERROR/);
    expect(logLines(run)).toContainEqual(expect.stringMatching(new RegExp(`^Connected to MariaDB 10\\.\\d+\\.\\d+ at 127\\.0\\.0\\.1:${server.port}/${shop}$`)));

    const facts = JSON.parse((await s3.getObject(bucket, `metadata/manifests/${key}.json`)).toString('utf8')) as { engine: string; dumpTool: string; rowCounts: string; tables: Record<string, number> };
    expect(facts).toMatchObject({ engine: 'MariaDB', rowCounts: 'exact' });
    expect(facts.dumpTool).toMatch(/^mariadb-dump 10\.\d+\.\d+$/);
    // Counted in the dump's own INSERTs: equal to the source's rows, the odd table and the empty one included.
    expect(facts.tables).toEqual(Object.fromEntries(Object.entries(before.tables).map(([table, value]) => [table, Number(value.split(':')[0])])));
    expect(facts.tables[ODD_TABLE]).toBe(5);
    expect(facts.tables.empty_things).toBe(0);

    const restored = uniqueName('shop_restored');
    const restore = await cli(['restore', 'shop', file, '--target-url', server.url(restored), '--create']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(logLines(restore)).toContainEqual(expect.stringMatching(/not one transaction \(DDL commits implicitly\): on failure the database is dropped again$/));
    const after = await shopFingerprint(server, restored);
    expect(after.tables).toEqual(before.tables);
    expect(after.definitions).toEqual(before.definitions);
    expect(after.views).toEqual(before.views);
    expect(after.triggers).toEqual(before.triggers);
    expect(after.routines).toEqual(before.routines);
    expect(after.events).toEqual(before.events);
    expect(Object.keys(after.routines).sort()).toEqual(['FUNCTION customer_spent', 'PROCEDURE add_order']);
    // The routines work, and the trigger fires, in the restored database.
    const [spent] = await server.query<RowDataPacket[]>('SELECT customer_spent(1) AS spent', [], restored);
    const [original] = await server.query<RowDataPacket[]>('SELECT customer_spent(1) AS spent', [], shop);
    expect(spent?.spent).toBe(original?.spent);
    await server.query('CALL add_order(2, 1.50)', [], restored);
    const [audit] = await server.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'insert'", [], restored);
    expect(Number(audit?.n)).toBe(Number(before.tables.audit_log!.split(':')[0]) + 1);

    const verify = await cli(['verify', 'shop', file]);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/OK: .* restores, and all 6 tables \(\d+ rows\) match its manifest/);
    expect(await databases('_verify_')).toEqual([]);

    // inspect shows the manifest as for PostgreSQL: engine, tool, counts, the verification.
    const inspect = await cli(['inspect', 'shop', file]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const total = Object.values(facts.tables).reduce((sum, rows) => sum + rows, 0);
    expect(inspect.stdout).toMatch(/^Source: {4}MariaDB 10\.\d+\.\d+, dumped by mariadb-dump 10\.\d+\.\d+, database [\d.]+ [KM]B, SQL$/m);
    expect(inspect.stdout).toContain(`Rows:      6 tables, ${total} rows (exact: counted in the dump's INSERT statements)`);
    expect(inspect.stdout).toMatch(/^Verified: {2}passed /m);
  });

  it('restores into an empty database; refuses one that holds tables without --yes (exit 2, one line), and replaces it with --yes', async () => {
    const target = uniqueName('shop_busy');
    await server.query(`CREATE DATABASE ${target}; CREATE TABLE ${target}.keep_me (id INT); INSERT INTO ${target}.keep_me VALUES (1);`);
    const refused = await cli(['restore', 'shop', file, '--target-url', server.url(target)]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      `Error: 127.0.0.1:${server.port}/${target} already holds 1 object (keep_me); restoring would drop and replace everything in it ` +
        '(add --yes to replace them (not in one transaction: MySQL commits DDL implicitly, so if the restore fails the database is left empty), ' +
        'or restore into a new database with --target-url URL --create)',
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const [kept] = await server.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${target}.keep_me`);
    expect(Number(kept?.n)).toBe(1);

    // An empty database is restored into as it is.
    const empty = uniqueName('shop_empty');
    await server.query(`CREATE DATABASE ${empty}`);
    const intoEmpty = await cli(['restore', 'shop', file, '--target-url', server.url(empty)]);
    expect(intoEmpty.code, intoEmpty.stderr).toBe(0);
    expect((await shopFingerprint(server, empty)).tables).toEqual(before.tables);

    const replaced = await cli(['restore', 'shop', file, '--target-url', server.url(target), '--yes']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect((await shopFingerprint(server, target)).tables).toEqual(before.tables);
  });

  it('a restore that fails (a damaged object) leaves no database behind, and an empty one given empty again', async () => {
    const body = await s3.getObject(bucket, key);
    // The gzip trailer damaged: every SQL statement runs before the damage is found.
    body[body.length - 6] = body[body.length - 6]! ^ 0xff;
    await s3.putObject(bucket, key, body);
    try {
      const target = uniqueName('shop_failed');
      const failed = await cli(['restore', 'shop', file, '--target-url', server.url(target), '--create']);
      expect(failed.code).toBe(1);
      expect(logLines(failed)).toContainEqual(expect.stringMatching(new RegExp(`^Dropped 127\\.0\\.0\\.1:${server.port}/${target} again: the restore failed$`)));
      expect(await databases(target)).toEqual([]);

      // An empty database given (no --create): emptied again, kept.
      const empty = uniqueName('shop_empty');
      await server.query(`CREATE DATABASE ${empty}`);
      const intoEmpty = await cli(['restore', 'shop', file, '--target-url', server.url(empty)]);
      expect(intoEmpty.code).toBe(1);
      expect(logLines(intoEmpty)).toContainEqual(`Emptied 127.0.0.1:${server.port}/${empty} again: the restore failed`);
      expect(await databases(empty)).toEqual([empty]);
      const [left] = await server.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [empty]);
      expect(Number(left?.n)).toBe(0);
    } finally {
      body[body.length - 6] = body[body.length - 6]! ^ 0xff;
      await s3.putObject(bucket, key, body);
    }
  });

  it('a restore stopped by a failing statement (an account without TRIGGER) says so in one line and empties the database again', async () => {
    const target = uniqueName('shop_denied');
    const user = uniqueName('restorer');
    await server.query(
      `CREATE DATABASE ${target}; CREATE USER '${user}'@'%' IDENTIFIED BY ?; GRANT ALL ON \`${target}\`.* TO '${user}'@'%'; REVOKE TRIGGER ON \`${target}\`.* FROM '${user}'@'%';`,
      [APP_PASSWORD],
    );
    const failed = await cli(['restore', 'shop', file, '--target-url', server.url(target, { name: user, password: APP_PASSWORD })]);
    expect(failed.code).toBe(1);
    const error = failed.stderr.split('\n').find((line) => line.startsWith('Error: '));
    expect(error).toMatch(new RegExp(`^Error: mariadb failed restoring into 127\\.0\\.0\\.1:${server.port}/${target} \\(exit code 1\\): ERROR 1142 \\(42000\\) at line \\d+: TRIGGER command denied`));
    expect(error!.length).toBeLessThan(1000);
    expect(logLines(failed)).toContainEqual(`Emptied 127.0.0.1:${server.port}/${target} again: the restore failed`);
    const [left] = await server.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [target]);
    expect(Number(left?.n)).toBe(0);
  });

  it('restore-help prints the mariadb client steps, with no password', async () => {
    const help = await cli(['restore-help', file, '--job', 'shop']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("umask 077; printf '[client]");
    expect(help.stdout).toContain('> restore.cnf');
    expect(help.stdout).toContain(`mariadb --defaults-file=restore.cnf ${shop} < `);
    expect(help.stdout).toContain(`CREATE DATABASE \`${shop}_restore\` CHARACTER SET utf8mb4`);
    expect(help.stdout).toContain(`--target-url "\${MYSQL_URL%/*}/${shop}_restore" --create`);
    expect(help.stdout).toContain('not one transaction');
  });

  it('a wrong password and an unknown database fail at once with one line, without retrying', async () => {
    const wrong = await cli(['run', file], { MYSQL_URL: server.url(shop, { name: 'root', password: 'not it' }) });
    expect(wrong.code).toBe(1);
    expect(errorLines(wrong)).toEqual([expect.stringMatching(new RegExp(`^ERROR: Shop DB backup failed: could not connect to 127\\.0\\.0\\.1:${server.port}/${shop}: Access denied for user 'root'@'localhost' \\(using password: YES\\)`))]);
    expect(wrong.stdout + wrong.stderr).not.toContain('not it');
    expect(wrong.stderr).not.toContain('retrying');

    // validate --connect asks the same (the source's check), once.
    const reachable = await cli(['validate', file, '--connect']);
    expect(reachable.code, reachable.stderr + reachable.stdout).toBe(0);
    const unreachable = await cli(['validate', file, '--connect'], { MYSQL_URL: server.url(shop, { name: 'root', password: 'not it' }) });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout + unreachable.stderr).toContain(`cannot connect: could not connect to 127.0.0.1:${server.port}/${shop}: Access denied for user 'root'@'localhost'`);

    const missing = uniqueName('nope');
    const unknown = await cli(['run', file], { MYSQL_URL: server.url(missing) });
    expect(unknown.code).toBe(1);
    expect(errorLines(unknown)).toEqual([expect.stringMatching(new RegExp(`could not connect to 127\\.0\\.0\\.1:${server.port}/${missing}: Unknown database '${missing}'`))]);
    expect(await keys('backups/shop/')).toEqual([key]);
  });

  it('an account without the privileges the dump needs: one line naming what is missing, nothing stored', async () => {
    const user = uniqueName('reader');
    await server.query(`CREATE USER '${user}'@'%' IDENTIFIED BY ?; GRANT SELECT ON \`${shop}\`.* TO '${user}'@'%';`, [APP_PASSWORD]);
    const run = await cli(['run', file], { MYSQL_URL: server.url(shop, { name: user, password: APP_PASSWORD }) });
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      expect.stringMatching(/^ERROR: Shop DB backup failed: mariadb-dump failed for .*: the account lacks a privilege the dump needs: .*SHOW VIEW command denied/),
    ]);
    expect(run.stderr).toContain('GRANT SELECT, SHOW VIEW, TRIGGER, EVENT');
    expect(await keys('backups/shop/')).toEqual([key]);

    // Without TRIGGER and mysql.proc, mariadb-dump leaves triggers and routines out without an error: the run says so.
    await server.query(`GRANT SHOW VIEW, EVENT ON \`${shop}\`.* TO '${user}'@'%'`);
    const partial = await cli(['run', await pipeline({ prefix: 'backups/partial/' })], { MYSQL_URL: server.url(shop, { name: user, password: APP_PASSWORD }) });
    expect(partial.code, partial.stderr).toBe(0);
    expect(logLines(partial)).toContainEqual(
      `WARN: The account may not read the triggers (grant TRIGGER ON \`${shop}\`.*) or routines (grant SELECT ON mysql.proc) of 127.0.0.1:${server.port}/${shop}: the dump tool leaves them out without an error`,
    );
  });

  it('a dump stopped mid-way (the dump tool killed, the CLI interrupted, the server killed) stores nothing', async () => {
    // Held at the table the dump reaches last, after the others streamed.
    const held = await holdTable(shop, ODD_TABLE);
    try {
      const running = startCli(['run', file], { env: env() });
      const dumpPid = await waitFor(async () => (await childrenNamed(running.child.pid!, 'mariadb-dump'))[0], 'mariadb-dump to start');
      process.kill(dumpPid, 'SIGKILL');
      const killed = await running.result;
      expect(killed.code).toBe(1);
      expect(errorLines(killed)).toEqual([expect.stringMatching(/^ERROR: Shop DB backup failed: mariadb-dump failed for .* \(killed by SIGKILL\)/)]);

      const interrupted = startCli(['run', file], { env: env() });
      await waitFor(async () => (await childrenNamed(interrupted.child.pid!, 'mariadb-dump'))[0], 'mariadb-dump to start');
      interrupted.child.kill('SIGTERM');
      const stopped = await interrupted.result;
      expect(stopped.code).not.toBe(0);
    } finally {
      await held.release();
    }

    // The server killed mid-dump: one line saying the server was lost; then it comes back (crash recovery).
    const again = await holdTable(shop, ODD_TABLE);
    const crashed = startCli(['run', file], { env: env() });
    try {
      await waitFor(async () => (await childrenNamed(crashed.child.pid!, 'mariadb-dump'))[0], 'mariadb-dump to start');
      process.kill(server.pid()!, 'SIGKILL');
      const lost = await crashed.result;
      expect(lost.code).toBe(1);
      // Mostly `lost the server: ... Lost connection to server during query (2013)`; once mariadb-dump exited 2 saying nothing.
      expect(errorLines(lost)).toEqual([expect.stringMatching(/^ERROR: Shop DB backup failed: mariadb-dump failed for \S+(: lost the server: .*\(2013\)| \(exit code 2\))$/)]);
    } finally {
      await again.release();
      await server.stop();
      await server.start();
    }
    expect(await keys('backups/shop/')).toEqual([key]);
    expect(await s3.listKeys(bucket, 'metadata/checksums/backups/shop/')).toHaveLength(1);
  });

  it('two runs at once: the second skips while the first holds the lock, then the first completes', async () => {
    const held = await holdTable(shop, ODD_TABLE);
    let first;
    try {
      first = startCli(['run', file], { env: env() });
      await waitFor(async () => (await childrenNamed(first!.child.pid!, 'mariadb-dump'))[0], 'the first run to dump');
      const second = await cli(['run', file]);
      expect(second.code, second.stderr).toBe(0);
      expect(logLines(second)).toContainEqual(expect.stringMatching(/another backup of this database is in progress \(127\.0\.0\.1:\d+\/shop_\w+, job shop\)/));
    } finally {
      await held.release();
    }
    const done = await first.result;
    expect(done.code, done.stderr).toBe(0);
    expect(await keys('backups/shop/')).toHaveLength(2);
  });

  it('examples/mysql.yml: validates, backs up the database with its verify hook, and skips the server job without MYSQL_SERVER_URL', async () => {
    const example = path.resolve(import.meta.dirname, '..', '..', 'examples', 'mysql.yml');
    const validate = await cli(['validate', example]);
    expect(validate.code, validate.stderr + validate.stdout).toBe(0);
    const run = await cli(['run', example]);
    expect(run.code, run.stderr).toBe(0);
    expect(await keys('backups/mysql/shop/')).toHaveLength(1);
    expect(await s3.listKeys(bucket, 'metadata/verified/backups/mysql/shop/')).toHaveLength(1);
    expect(logLines(run)).toContainEqual(expect.stringMatching(/^MySQL server backup skipped: .*MYSQL_SERVER_URL/));
  });

  it('a server down at the start is retried with doubling waits, and the run succeeds once it is up', async () => {
    const retrying = await pipeline({ source: ['retryAttempts: 8', 'retryDelaySeconds: 0.5'], prefix: 'backups/retried/' });
    await server.stop();
    const running = startCli(['run', retrying], { env: env() });
    try {
      await running.waitForOutput(/Database 127\.0\.0\.1:\d+\/shop_\w+ not reachable \(connect ECONNREFUSED\), retrying in 0\.5s \(attempt 1 of 8\)/, 'stderr');
    } finally {
      await server.start();
    }
    const result = await running.result;
    expect(result.code, result.stderr).toBe(0);
    expect(await keys('backups/retried/')).toHaveLength(1);
  });
});
