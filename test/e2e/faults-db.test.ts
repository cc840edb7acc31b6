import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startFaultProxy } from '../harness/fault-proxy.js';
import { freePort } from '../harness/postgres.js';
import { useFaultFixture } from './fault-fixtures.js';
import { TEST_PG_PASSWORD, runCli, startCli, testTempDir, uniqueName, usePostgres, useS3, type CliResult } from '../harness/index.js';

// The database side going wrong, and the run being interrupted: unreachable
// at start (retried with logged waits), coming up during the retries, its
// backend killed mid-dump, pg_dump too old, SIGINT mid-upload. "Nothing
// lost" = no object and no metadata in the bucket, every started multipart
// upload aborted and never completed.

const pg = usePostgres();
const s3 = useS3();
// ~38 MiB of dump: with S3 answering slowly (the proxy's delay mode) the
// upload holds pg_dump back, so the dump is still running when a test
// interrupts it.
const fixture = useFaultFixture(pg, 'faults_db', 40000);
const { database, env, operations } = fixture;

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('faults-db');
  await s3.createBucket(bucket);
  return bucket;
}

/** No object and no metadata; a multipart upload, if one was started, was aborted and never completed. */
async function expectNothingCommitted(bucket: string): Promise<void> {
  expect(await s3.listKeys(bucket)).toEqual([]);
  const ops = operations();
  expect(ops).not.toContain('CompleteMultipartUpload');
  expect(ops).not.toContain('PutObject');
  if (ops.includes('CreateMultipartUpload')) {
    expect(ops.indexOf('AbortMultipartUpload')).toBeGreaterThan(ops.indexOf('CreateMultipartUpload'));
  }
}

function expectNoPassword(result: CliResult): void {
  expect(result.stdout + result.stderr).not.toContain(TEST_PG_PASSWORD);
  expect(result.stdout + result.stderr).not.toContain(encodeURIComponent(TEST_PG_PASSWORD));
}

/** Running pg_dump processes (pid and argv) whose environment names `database`. */
async function pgDumpProcesses(): Promise<{ pid: number; argv: string[]; environ: string }[]> {
  const found: { pid: number; argv: string[]; environ: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = (await readFile(`/proc/${entry}/comm`, 'utf8')).trim();
      if (comm !== 'pg_dump') continue;
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (!environ.includes(`PGDATABASE=${database}`)) continue;
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      found.push({ pid: Number(entry), argv, environ });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Waits until `condition` holds (polling), failing after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('database faults', () => {
  it('unreachable at start: retries with doubling, logged waits, then one error naming host:port/database; nothing stored', async () => {
    const bucket = await freshBucket();
    const port = await freePort();
    const url = `postgresql://${pg.user}:${encodeURIComponent(TEST_PG_PASSWORD)}@127.0.0.1:${port}/${database}`;
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket, { DATABASE_URL: url, DB_RETRY_ATTEMPTS: '3', DB_RETRY_DELAY: '0.2' }) });
    expect(result.code).toBe(1);
    const target = `127.0.0.1:${port}/${database}`;
    const waits = result.stderr.split('\n').filter((line) => line.includes('not reachable'));
    expect(waits).toEqual([
      expect.stringMatching(new RegExp(`Database ${target} not reachable \\(.*ECONNREFUSED.*\\), retrying in 0\\.2s \\(attempt 1 of 3\\)$`)),
      expect.stringMatching(new RegExp(`Database ${target} not reachable \\(.*ECONNREFUSED.*\\), retrying in 0\\.4s \\(attempt 2 of 3\\)$`)),
    ]);
    const errors = result.stderr.split('\n').filter((line) => line.includes('ERROR'));
    expect(errors[0]).toMatch(new RegExp(`ERROR: big backup failed: could not connect to ${target} after 3 attempts: `));
    expect(errors).toHaveLength(2);
    expectNoPassword(result);
    expect(operations()).not.toContain('CreateMultipartUpload');
    await expectNothingCommitted(bucket);
  });

  it('comes up during the retries: the backup succeeds', async () => {
    const bucket = await freshBucket();
    const port = await freePort();
    const url = `postgresql://${pg.user}:${encodeURIComponent(TEST_PG_PASSWORD)}@127.0.0.1:${port}/${database}`;
    const cli = startCli(['run', fixture.pipelineFile()], { env: env(bucket, { DATABASE_URL: url, DB_RETRY_ATTEMPTS: '5', DB_RETRY_DELAY: '1' }) });
    await cli.waitForOutput('attempt 1 of 5', 'stderr');
    // The "database" comes up on its port: a proxy to the real server.
    const upcoming = await startFaultProxy(`http://127.0.0.1:${pg.port}`, { port, http: false });
    try {
      const result = await cli.result;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/retrying in 1s \(attempt 1 of 5\)/);
      expectNoPassword(result);
      expect(await s3.listKeys(bucket, 'backups/')).toEqual([expect.stringMatching(/^backups\/big\/big_\d{8}_\d{6}\.sql$/)]);
    } finally {
      await upcoming.close();
    }
  });

  it('backend terminated mid-dump: the upload is aborted, nothing committed, exit 1; pg_dump never had the password in argv', async () => {
    const bucket = await freshBucket();
    fixture.proxy().setMode({ kind: 'delay', ms: 1500 });
    const cli = startCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    const dumps = await waitFor('pg_dump to run', async () => {
      const found = await pgDumpProcesses();
      return found.length ? found : undefined;
    });
    for (const dump of dumps) {
      const argv = dump.argv.join(' ');
      expect(argv).not.toContain(TEST_PG_PASSWORD);
      expect(argv).not.toContain(encodeURIComponent(TEST_PG_PASSWORD));
      expect(argv).not.toMatch(/postgres(ql)?:\/\//);
      // The password reaches pg_dump through its environment (PGPASSWORD), which only its user can read.
      expect(dump.environ).toContain('PGPASSWORD=');
    }
    await waitFor('a multipart upload to start', async () => (operations().includes('UploadPart') ? true : undefined));
    const terminated = await pg.psql(
      database,
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${database}' AND application_name = 'pg_dump'`,
    );
    expect(Number(terminated)).toBeGreaterThanOrEqual(1);
    const result = await cli.result;
    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => line.includes('ERROR'));
    expect(errors[0], result.stderr).toMatch(/ERROR: big backup failed: .*pg_dump/);
    expect(errors[0]).toMatch(/terminat/i);
    expect(errors.at(-1)).toMatch(/ERROR: Backup failed: 1 of 1 jobs failed \(big\)$/);
    expectNoPassword(result);
    fixture.proxy().setMode({ kind: 'pass' });
    await expectNothingCommitted(bucket);
    expect(operations()).toContain('AbortMultipartUpload');
  });

  it('pg_dump killed mid-dump (SIGKILL): the upload is aborted, nothing committed, exit 1', async () => {
    const bucket = await freshBucket();
    fixture.proxy().setMode({ kind: 'delay', ms: 1500 });
    const cli = startCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    await waitFor('a multipart upload to start', async () => (operations().includes('UploadPart') ? true : undefined));
    const [dump] = await pgDumpProcesses();
    expect(dump).toBeDefined();
    process.kill(dump!.pid, 'SIGKILL');
    const result = await cli.result;
    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => line.includes('ERROR'));
    expect(errors[0], result.stderr).toMatch(/ERROR: big backup failed: .*pg_dump.*SIGKILL/);
    expect(errors.at(-1)).toMatch(/ERROR: Backup failed: 1 of 1 jobs failed \(big\)$/);
    expectNoPassword(result);
    fixture.proxy().setMode({ kind: 'pass' });
    await expectNothingCommitted(bucket);
    expect(operations()).toContain('AbortMultipartUpload');
  });

  it('pg_dump older than the server: refused before the dump with what to install; nothing stored', async () => {
    const bucket = await freshBucket();
    const dir = await testTempDir('backupctl-old-pg-dump-');
    const fake = path.join(dir, 'pg_dump');
    const ran = path.join(dir, 'ran');
    // Answers --version like pg_dump 9.6; anything else would be a dump: it leaves a mark.
    await writeFile(fake, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 9.6.24"; exit 0; fi\ntouch "${ran}"\nexit 1\n`);
    await chmod(fake, 0o755);
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket, { PG_DUMP_PATH: fake }) });
    expect(result.code).toBe(1);
    const serverMajor = (await pg.psql(database, 'SHOW server_version_num')).trim().slice(0, -4);
    const errors = result.stderr.split('\n').filter((line) => line.includes('ERROR'));
    expect(errors[0], result.stderr).toMatch(
      new RegExp(
        `ERROR: big backup failed: pg_dump at ${fake} is 9\\.6\\.24, older than PostgreSQL ${serverMajor}\\.\\d+ at 127\\.0\\.0\\.1:${pg.port}/${database}; ` +
          `pg_dump ${serverMajor} or newer is needed: install postgresql-client-${serverMajor} and set PG_DUMP_PATH to its pg_dump, or unset PG_DUMP_PATH$`,
      ),
    );
    await expect(stat(ran)).rejects.toThrow(/ENOENT/);
    expect(operations()).not.toContain('CreateMultipartUpload');
    await expectNothingCommitted(bucket);
  });
});

describe('interrupting a run', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s mid-upload: clean abort, nothing partial, pg_dump gone, exit non-zero', async (signal) => {
    const bucket = await freshBucket();
    fixture.proxy().setMode({ kind: 'delay', ms: 1500 });
    const cli = startCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    await waitFor('a multipart upload to start', async () => (operations().includes('UploadPart') ? true : undefined));
    const dumps = await pgDumpProcesses();
    // The dump is running (else the check below that it ended would hold vacuously).
    expect(dumps).toHaveLength(1);
    cli.child.kill(signal);
    const result = await cli.result;
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain(signal);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expectNoPassword(result);
    // pg_dump did not outlive the run.
    for (const dump of dumps) await expect(stat(`/proc/${dump.pid}/cmdline`)).rejects.toThrow(/ENOENT/);
    fixture.proxy().setMode({ kind: 'pass' });
    await expectNothingCommitted(bucket);
    expect(operations()).toContain('AbortMultipartUpload');
  });
});
