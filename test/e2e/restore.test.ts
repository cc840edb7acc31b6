import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, tableFingerprints, testTempDir, uniqueName, useReferenceDatabases, usePostgres, useS3 } from '../harness/index.js';
import { CLI_ENTRY } from '../harness/cli.js';
import { startFaultProxy } from '../harness/fault-proxy.js';
import { backUp, flipByte, logLines, printedSecrets, referenceEnv, truncate, userTables } from './restore-fixtures.js';

const pg = usePostgres();
const s3 = useS3();
const { clara: claraDb, mem0: mem0Db } = useReferenceDatabases(pg);
const bucket = uniqueName('restore-backups');
const env = () => referenceEnv(pg, { clara: claraDb, mem0: mem0Db }, bucket);
let keys: Record<string, string>;

beforeAll(async () => {
  await s3.createBucket(bucket);
  keys = await backUp(env(), bucket, s3);
});

describe('backupctl restore', () => {
  it('restores both default jobs into new databases, table for table identical, and says what it restored', async () => {
    for (const [job, source] of [['clara', claraDb], ['mem0', mem0Db]] as const) {
      const target = uniqueName(`${job}_restored`);
      const result = await runCli(['restore', job, '--create', '--json'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
      expect(result.stderr).not.toMatch(/ERROR|WARN/);
      expect(result.code).toBe(0);
      expect(printedSecrets(result)).toBe(false);
      expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, source));

      const stored = await s3.getObject(bucket, keys[job]!);
      const name = path.posix.basename(keys[job]!);
      const title = job === 'clara' ? 'Clara DB' : 'Mem0 DB';
      expect(logLines(result)).toEqual([
        `${title}: restoring ${name} (${sizeText(stored.length)}, taken ${takenText(name)})`,
        `Created database 127.0.0.1:${pg.port}/${target}`,
        expect.stringMatching(new RegExp(`^Restoring into PostgreSQL 1\\d\\.\\d+ at 127\\.0\\.0\\.1:${pg.port}/${target}: psql, one transaction`)),
        expect.stringMatching(
          new RegExp(`^${title} restored: ${name.replaceAll('.', '\\.')} \\(${sizeText(stored.length).replace('.', '\\.')} stored, [\\d.]+ (KB|MB) plain SQL \\(psql\\)\\) into 127\\.0\\.0\\.1:${pg.port}/${target} in \\d+\\.\\d s, SHA-256 verified$`),
        ),
      ]);
      const summary = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(summary).toMatchObject({
        job,
        key: keys[job],
        storedBytes: stored.length,
        sha256: createHash('sha256').update(stored).digest('hex'),
        checksum: 'verified',
        target: `127.0.0.1:${pg.port}/${target}`,
        format: 'plain SQL (psql)',
        replacedTables: [],
      });
      expect(summary.restoredBytes).toBeGreaterThan(stored.length);
    }
  });

  it('round-trips a custom-format job through pg_restore, choosing the backup by --at', async () => {
    const dir = await testTempDir('backupctl-restore-');
    const file = path.join(dir, 'backupctl.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  shop:',
        '    source: { use: postgres, with: { url: "${SHOP_URL}", format: custom, retryAttempts: 1 } }',
        '    sink:',
        '      use: s3',
        '      with: { bucket: "${S3_BUCKET}", endpoint: "${S3_ENDPOINT_URL}", accessKeyId: S3RVER, secretAccessKey: "${S3_SECRET_KEY}", prefix: backups/shop/ }',
        '',
      ].join('\n'),
    );
    const shopEnv = { ...env(), SHOP_URL: pg.url(claraDb) };
    const backup = await runCli(['run', file], { env: shopEnv });
    expect(backup.code, backup.stderr).toBe(0);
    const [key] = await s3.listKeys(bucket, 'backups/shop/');
    expect(key).toMatch(/^backups\/shop\/shop_\d{8}_\d{6}\.dump$/);
    // Stored by a second backup that must not be chosen: --at names the first one's second.
    const stamp = /_(\d{8}_\d{6})\.dump$/.exec(key!)![1]!;
    await s3.putObject(bucket, 'backups/shop/shop_29991231_235959.dump', 'not a dump');

    const target = uniqueName('shop_restored');
    const result = await runCli(['restore', 'shop', file, '--at', stamp, '--create'], { env: { ...shopEnv, RESTORE_TARGET_URL: pg.url(target) } });
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/: pg_restore \| psql, one transaction/);
    expect(result.stderr).toMatch(new RegExp(`shop restored: shop_${stamp}\\.dump \\(.* custom archive \\(pg_restore\\)\\) into .*SHA-256 verified`));
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));
  });

  it('refuses a target that has tables without --yes, naming them; with --yes replaces everything in one transaction', async () => {
    const refused = await runCli(['restore', 'clara'], { env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(
      `Error: 127.0.0.1:${pg.port}/${claraDb} already has 5 tables (audit.events, public.conversations, public.invoices, public.messages, public.users); ` +
        'restoring would drop and replace everything in schemas audit, public (add --yes to replace them (in one transaction: if the restore fails, ' +
        'nothing changes), or restore into a new database with --target-url URL --create)',
    );
    expect(printedSecrets(refused)).toBe(false);

    // A copy of the database, changed since the backup: rows deleted, a table added.
    const copy = uniqueName('clara_copy');
    expect((await runCli(['restore', 'clara', '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(copy) } })).code).toBe(0);
    const fingerprint = await tableFingerprints(pg, copy);
    await pg.psql(copy, 'DELETE FROM messages WHERE id < 100; CREATE TABLE scratch_notes (note text); INSERT INTO scratch_notes VALUES ($$x$$);');

    const refusedCopy = await runCli(['restore', 'clara'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(copy) } });
    expect(refusedCopy.code).toBe(2);
    expect(refusedCopy.stderr).toContain('public.scratch_notes');
    expect(await userTables(pg, copy)).toContain('public.scratch_notes');

    const replaced = await runCli(['restore', 'clara', '--yes', '--json'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(copy) } });
    expect(replaced.code).toBe(0);
    expect(logLines(replaced)).toContainEqual(
      `WARN: Replacing everything in schemas audit, public of 127.0.0.1:${pg.port}/${copy}: 6 tables (audit.events, public.conversations, public.invoices, public.messages, public.scratch_notes, public.users)`,
    );
    expect(JSON.parse(replaced.stdout)).toMatchObject({ replacedTables: expect.arrayContaining(['public.scratch_notes', 'public.messages']) });
    expect(await tableFingerprints(pg, copy)).toEqual(fingerprint);
    expect(await userTables(pg, copy)).not.toContain('public.scratch_notes');
  });

  it('--create refuses a database that already exists, and leaves it as it was', async () => {
    const before = await tableFingerprints(pg, claraDb);
    const result = await runCli(['restore', 'clara', '--create', '--yes'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(claraDb) } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      `Error: database 127.0.0.1:${pg.port}/${claraDb} already exists (leave out --create to restore into it (with --yes if it has tables), or name a new database)`,
    );
    expect(result.stderr).not.toMatch(/Dropped|dropped/);
    expect(await tableFingerprints(pg, claraDb)).toEqual(before);
  });

  it('stops at the first SQL error, exits 1 with the failing statement\'s message, and commits nothing', async () => {
    const target = uniqueName('clara_conflict');
    await pg.createDatabase(target);
    // Not a table, so not refused, but in the way of the dump's CREATE TABLE users.
    await pg.psql(target, 'CREATE VIEW users AS SELECT 1 AS id');
    const result = await runCli(['restore', 'clara'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Error: psql failed restoring into 127\.0\.0\.1:\d+\/clara_conflict_\w+ \(exit code 3\): psql:<stdin>:\d+: ERROR: {2}relation "users" already exists/);
    expect(result.stderr).toContain('nothing was committed');
    // Said once (psql's exit both fails the restore and settles it).
    expect(logLines(result).filter((line) => line.includes(' of SQL and was rolled back'))).toHaveLength(1);
    expect(await userTables(pg, target)).toEqual([]);
  });

  describe('a damaged object is refused, and the target is left as it was', () => {
    it('a byte flipped where gzip does not look (its header time): only the SHA-256 catches it, at the very end', async () => {
      // Several MB, so the SQL is flowing into psql long before the object's end is read and hashed.
      const big = uniqueName('big');
      await pg.createDatabase(big);
      await pg.psql(big, 'CREATE TABLE blobs AS SELECT i, md5(i::text) || md5((i * 7)::text) AS t FROM generate_series(1, 200000) AS i');
      const key = await copyOf('clara', { DATABASE_URL: pg.url(big) });
      await flipByte(s3, bucket, key, 5);
      const target = uniqueName('clara_flipped');
      await pg.createDatabase(target);
      const result = await runCli(['restore', 'clara', '--key', key], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
      expect(result.code).toBe(1);
      expect(logLines(result)).toContainEqual(expect.stringMatching(/^Restoring into PostgreSQL .*: psql, one transaction/));
      expect(result.stderr).toMatch(new RegExp(`Error: ${key.replaceAll('.', '\\.')} does not match its checksum: SHA-256 [0-9a-f]{64}, [0-9a-f]{64} recorded at backup time`));
      // psql had been given nearly all of the SQL (about 15 MB) when it was killed before its input ended: it committed none.
      const stopped = logLines(result).find((line) => line.includes(' of SQL and was rolled back'));
      expect(stopped).toMatch(new RegExp(`^WARN: Restore into 127\\.0\\.0\\.1:${pg.port}/${target} stopped after \\d+\\.\\d MB of SQL and was rolled back: nothing was committed$`));
      expect(Number(/after ([\d.]+) MB/.exec(stopped!)![1])).toBeGreaterThan(10);
      expect(await userTables(pg, target)).toEqual([]);
    });

    it('a byte flipped inside the compressed data', async () => {
      const key = await copyOf('clara');
      const size = (await s3.getObject(bucket, key)).length;
      await flipByte(s3, bucket, key, Math.floor(size / 2));
      const target = uniqueName('clara_flipped_mid');
      await pg.createDatabase(target);
      const result = await runCli(['restore', 'clara', '--key', path.posix.basename(key)], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
      expect(result.code).toBe(1);
      // gunzip or psql may trip over the damage first; the rest of the object is still hashed, and names the cause.
      expect(result.stderr).toContain(`Error: ${key} does not match its checksum`);
      expect(await userTables(pg, target)).toEqual([]);

      // Into a database the restore creates: dropped again, as if never made.
      const created = uniqueName('clara_flipped_created');
      const intoNew = await runCli(['restore', 'clara', '--key', key, '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(created) } });
      expect(intoNew.code).toBe(1);
      expect(intoNew.stderr).toContain(`Error: ${key} does not match its checksum`);
      expect(logLines(intoNew)).toContain(`Dropped 127.0.0.1:${pg.port}/${created} again: the restore failed`);
      expect(await databaseExists(created)).toBe(false);
    });

    it('a truncated object with a checksum record: refused from its size before a byte is restored; --create never made the database', async () => {
      const key = await copyOf('clara');
      await truncate(s3, bucket, key, 0.6);
      const target = uniqueName('clara_truncated');
      const result = await runCli(['restore', 'clara', '--key', key, '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`Error: ${key.replaceAll('.', '\\.')} is truncated: the store holds \\d+ bytes, \\d+ were recorded at backup time`));
      // Refused before the target was touched: never created.
      expect(logLines(result)).toEqual([]);
      expect(await databaseExists(target)).toBe(false);
    });

    it('a truncated object without a checksum record (another tool wrote it): gzip catches the truncation', async () => {
      const key = 'backups/clara/clara_20200101_000000.sql.gz';
      await truncate(s3, bucket, keys.clara!, 0.6, key);
      const target = uniqueName('clara_truncated_unrecorded');
      await pg.createDatabase(target);
      const result = await runCli(['restore', 'clara', '--key', key], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
      expect(result.code).toBe(1);
      expect(logLines(result)).toContain(
        `WARN: No checksum recorded for ${key} (not written by backupctl?): restoring it without SHA-256 verification; only the transforms' own checks (gzip's CRC) detect damage`,
      );
      expect(result.stderr).toContain(`Error: gzip could not decode ${key}: unexpected end of file`);
      expect(await userTables(pg, target)).toEqual([]);
    });
  });

  it('Ctrl-C (SIGINT) in the middle of a restore --create: rolled back, the new database dropped again', async () => {
    // Big enough that psql is still reading when the signal comes.
    const big = uniqueName('big_sigint');
    await pg.createDatabase(big);
    await pg.psql(big, 'CREATE TABLE blobs AS SELECT i, md5(i::text) || md5((i * 7)::text) AS t FROM generate_series(1, 300000) AS i');
    const key = await copyOf('clara', { DATABASE_URL: pg.url(big) });
    const target = uniqueName('clara_interrupted');
    const restore = startCli(['restore', 'clara', '--key', key, '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
    await restore.waitForOutput(/Restoring into PostgreSQL/, 'stderr');
    expect(await databaseExists(target)).toBe(true);
    restore.child.kill('SIGINT');
    const result = await restore.result;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Error: .*aborted/);
    expect(logLines(result)).toContain(`Dropped 127.0.0.1:${pg.port}/${target} again: the restore failed`);
    expect(await databaseExists(target)).toBe(false);
  });

  it('backs up, restores and verifies a job while another job in the file names a plugin that is not there; validate still reports that job', async () => {
    const directory = await testTempDir('backupctl-beside-broken-');
    const file = path.join(directory, 'backupctl.yml');
    const shipped = await readFile(path.join(path.dirname(CLI_ENTRY), '..', 'examples', 'clara-mem0.yml'), 'utf8');
    await writeFile(file, `${shipped}\n  reports:\n    source: { use: ./missing-source.mjs }\n    sink: { use: file, with: { directory: ./out } }\n`);

    const target = uniqueName('clara_beside_broken');
    const restored = await runCli(['restore', 'clara', file, '--key', keys.clara!, '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
    expect(restored.stderr).not.toMatch(/ERROR|WARN|missing-source/);
    expect(restored.code).toBe(0);
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));
    const verified = await runCli(['verify', 'clara', file, '--key', keys.clara!], { env: env() });
    expect(verified.code).toBe(0);
    // A bucket of its own: the earlier tests backed up far bigger databases as clara into the shared one,
    // which the anomaly guard rightly flags as a shrink.
    const bucket = uniqueName('beside-broken');
    await s3.createBucket(bucket);
    const ran = await runCli(['run', file, '--job', 'clara', '--json'], { env: { ...env(), S3_BUCKET: bucket } });
    expect(ran.stderr).not.toMatch(/ERROR|WARN|missing-source/);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ ok: true, jobs: [{ job: 'clara', result: 'succeeded' }] });

    const validated = await runCli(['validate', file], { env: env() });
    expect(validated.code).toBe(2);
    expect(validated.stderr).toMatch(/backupctl\.yml:\d+:\d+: jobs\.reports\.source\.use: .*missing-source\.mjs/);
  });

  it('--create with a psql that cannot run: one line saying so, and the database it created is dropped again', async () => {
    // The database is created while psql is looked for: a failed look-up must not leave it behind.
    const target = uniqueName('clara_no_psql');
    const psqlPath = path.join(os.tmpdir(), `${uniqueName('no-psql')}`);
    const result = await runCli(['restore', 'clara', '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target), PSQL_PATH: psqlPath } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(`Error: psql at ${psqlPath} is not an executable file (fix the path given in the options or in PSQL_PATH)`);
    expect(logLines(result).filter((line) => !line.startsWith('Clara DB: restoring'))).toEqual([
      `Created database 127.0.0.1:${pg.port}/${target} and dropped it again: the restore could not start`,
    ]);
    expect(await databaseExists(target)).toBe(false);
  });

  it('says clearly when there is no such backup, and leaves no database behind', async () => {
    // The default target (the job's own database) has tables and no --yes was given: the missing backup is still what the user hears about.
    const missing = await runCli(['restore', 'clara', '--key', 'clara_20000101_000000.sql.gz'], { env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain(`Error: no object clara_20000101_000000.sql.gz in ${bucket} under backups/clara/`);
    // The target is touched only once the backup was found: a missing backup is the one thing reported.
    const target = uniqueName('clara_never');
    const intoNew = await runCli(['restore', 'clara', '--key', 'clara_20000101_000000.sql.gz', '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
    expect(intoNew.code).toBe(1);
    expect(intoNew.stderr.trim().split('\n').at(-1)).toBe(
      `Error: no object clara_20000101_000000.sql.gz in ${bucket} under backups/clara/ (list the job's backups with: backupctl ls --job clara)`,
    );
    expect(intoNew.stderr.trim().split('\n')).toHaveLength(1);
    expect(await databaseExists(target)).toBe(false);
    const early = await runCli(['restore', 'clara', '--at', '2001-01-01'], { env: env() });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/Error: job clara has no backup taken at or before 2001-01-01 23:59:59 UTC in .* the oldest is \d{8}_\d{6}/);
    const bad = await runCli(['restore', 'clara', '--at', 'yesterday'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--at "yesterday" is not a time backupctl understands');
  });

  it('touches no target before the backup is found and its record read: no connection, no database created and dropped', async () => {
    const truncated = await copyOf('clara');
    await truncate(s3, bucket, truncated, 0.6);
    // The target server behind a TCP proxy that counts the connections made to it.
    const proxy = await startFaultProxy(`http://127.0.0.1:${pg.port}`, { http: false });
    try {
      const proxied = (database: string) => pg.url(database).replace(`:${pg.port}/`, `:${proxy.port}/`);
      const noBackup = `Error: job clara has no backup taken at or before 2001-01-01 23:59:59 UTC in`;
      const noKey = `Error: no object clara_20000101_000000.sql.gz in ${bucket} under backups/clara/ (list the job's backups with: backupctl ls --job clara)`;
      const isTruncated = `Error: ${truncated} is truncated: the store holds`;
      const cases = [
        { args: ['--at', '2001-01-01', '--create'], error: noBackup },
        { args: ['--key', 'clara_20000101_000000.sql.gz', '--create'], error: noKey },
        { args: ['--key', truncated, '--create'], error: isTruncated },
        // Without --create the restore inspects the target (it has tables, and no --yes): that too waits for the backup.
        { args: ['--at', '2001-01-01'], error: noBackup, database: claraDb },
        { args: ['--key', 'clara_20000101_000000.sql.gz'], error: noKey, database: claraDb },
      ];
      for (const { args, error, database } of cases) {
        const target = database ?? uniqueName('clara_untouched');
        const connectionsBefore = proxy.connections;
        const result = await runCli(['restore', 'clara', ...args, '--target-url', proxied(target)], { env: env() });
        // Soft: every case reports what it got.
        const name = args.join(' ');
        expect.soft(result.code, name).toBe(1);
        expect.soft(result.stderr.trim().split('\n'), name).toEqual([expect.stringContaining(error)]);
        expect.soft(result.stderr, name).not.toMatch(/Created database|dropped it again|Dropped/);
        expect.soft(printedSecrets(result), name).toBe(false);
        expect.soft(proxy.connections - connectionsBefore, `${name}: connections to the target`).toBe(0);
        if (!database) expect.soft(await databaseExists(target), name).toBe(false);
      }
      // The same target with a backup there: the restore goes through the proxy (it counts).
      const target = uniqueName('clara_through_proxy');
      const restored = await runCli(['restore', 'clara', '--key', keys.clara!, '--create', '--target-url', proxied(target)], { env: env() });
      expect(restored.code, restored.stderr).toBe(0);
      expect(proxy.connections).toBeGreaterThan(0);
      expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));
    } finally {
      await proxy.close();
    }
  });
});

async function databaseExists(name: string): Promise<boolean> {
  return (await pg.query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
}

/** A fresh copy of the job's backup, under a name of its own with its checksum record, so damaging it spares the others. */
async function copyOf(job: 'clara' | 'mem0', overrides: Record<string, string> = {}): Promise<string> {
  const result = await runCli(['run', '--job', job], { env: { ...env(), ...overrides } });
  expect(result.code, result.stderr).toBe(0);
  const newest = (await s3.listKeys(bucket, `backups/${job}/`)).filter((key) => /_\d{8}_\d{6}\.sql\.gz$/.test(key) && key !== keys[job]);
  return newest.sort().at(-1)!;
}

function sizeText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function takenText(name: string): string {
  const [, d, t] = /_(\d{8})_(\d{6})\./.exec(name)!;
  return `${d!.slice(0, 4)}-${d!.slice(4, 6)}-${d!.slice(6)} ${t!.slice(0, 2)}:${t!.slice(2, 4)}:${t!.slice(4)} UTC`;
}
