import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  referenceEnv,
  TEST_PG_PASSWORD,
  runCli,
  tableFingerprints,
  testTempDir,
  uniqueName,
  useReferenceDatabases,
  usePostgres,
  useS3,
  type CliResult,
} from '../harness/index.js';

// The reference service's environment, and nothing else: a user of it must
// be able to switch with no config change.
const pg = usePostgres();
const s3 = useS3();
const { clara: claraDb, mem0: mem0Db } = useReferenceDatabases(pg);

// Exactly the reference's variables: FORCE_BACKUP is left to its default here.
function runEnv(bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return referenceEnv(pg, { clara: claraDb, mem0: mem0Db }, bucket, { force: false, overrides });
}

/** The log lines without their timestamps, after checking each has the reference's `YYYY-MM-DD HH:MM:SS - ` prefix. */
function logLines(result: CliResult): string[] {
  return result.stderr
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - /);
      return line.slice(22);
    });
}

function expectNoSecrets(result: CliResult): void {
  const output = result.stdout + result.stderr;
  expect(output).not.toContain(TEST_PG_PASSWORD);
  expect(output).not.toContain(encodeURIComponent(TEST_PG_PASSWORD));
}

async function restoreInto(bucket: string, key: string, database: string): Promise<void> {
  await pg.createDatabase(database);
  await pg.psql(database, gunzipSync(await s3.getObject(bucket, key)).toString('utf8'));
}

beforeAll(async () => {
});

describe('backupctl run (default pipeline)', () => {
  it('backs up both databases to the reference keys, and the objects restore with psql to identical tables', async () => {
    const bucket = uniqueName('clara-backups');
    await s3.createBucket(bucket);
    const result = await runCli(['run'], { env: runEnv(bucket) });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    expectNoSecrets(result);

    const keys = await s3.listKeys(bucket, 'backups/');
    expect(keys).toHaveLength(2);
    const [claraKey, mem0Key] = [keys.find((k) => k.startsWith('backups/clara/')), keys.find((k) => k.startsWith('backups/mem0/'))];
    expect(claraKey).toMatch(/^backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz$/);
    expect(mem0Key).toMatch(/^backups\/mem0\/mem0_\d{8}_\d{6}\.sql\.gz$/);

    const lines = logLines(result);
    expect(lines[0]).toBe('Starting backup...');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^Clara DB backup complete: ${claraKey!.split('/').pop()!.replace(/\./g, '\\.')} \\(\\d+(\\.\\d)? (B|KB|MB)\\)$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^Mem0 DB backup complete: mem0_\d{8}_\d{6}\.sql\.gz \(/));
    expect(lines.at(-1)).toBe('Backup complete');

    // metadata/last_backup.json records each job's newest backup with the stored bytes' checksum.
    const lastBackup = JSON.parse((await s3.getObject(bucket, 'metadata/last_backup.json')).toString('utf8')) as {
      jobs: Record<string, { key: string; size: number; sha256: string }>;
    };
    for (const [job, key] of [['clara', claraKey!], ['mem0', mem0Key!]] as const) {
      const body = await s3.getObject(bucket, key);
      expect(lastBackup.jobs[job]).toMatchObject({ key, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    }

    for (const [key, source] of [[claraKey!, claraDb], [mem0Key!, mem0Db]] as const) {
      const restored = `${source}_restored`;
      await restoreInto(bucket, key, restored);
      expect(await tableFingerprints(pg, restored)).toEqual(await tableFingerprints(pg, source));
    }
  });

  it('skips the Mem0 job with a log line when MEM0_DATABASE_URL is not set', async () => {
    const bucket = uniqueName('clara-backups');
    await s3.createBucket(bucket);
    const env = runEnv(bucket);
    delete env.MEM0_DATABASE_URL;
    const result = await runCli(['run'], { env });
    expect(result.code).toBe(0);
    expect(logLines(result)).toContain('Mem0 DB backup skipped: MEM0_DATABASE_URL is not set');
    expect(await s3.listKeys(bucket, 'backups/')).toEqual([expect.stringMatching(/^backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz$/)]);
  });

  it('fails with exit 1, names the database and leaves no object when the database does not exist', async () => {
    const bucket = uniqueName('clara-backups');
    await s3.createBucket(bucket);
    const result = await runCli(['run', '--job', 'clara'], { env: runEnv(bucket, { DATABASE_URL: pg.url('no_such_db') }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Clara DB backup failed:');
    expect(result.stderr).toContain(`127.0.0.1:${pg.port}/no_such_db`);
    expect(logLines(result).at(-1)).toMatch(/^ERROR: Backup failed: 1 of 1 jobs failed \(clara\)$/);
    expectNoSecrets(result);
    expect(await s3.listKeys(bucket)).toEqual([]);
  });

  it('commits nothing when pg_dump itself fails (a table the role may not read), and still runs the other job', async () => {
    const bucket = uniqueName('clara-backups');
    await s3.createBucket(bucket);
    const role = uniqueName('limited');
    const password = 'limited-Pw-83kd';
    await pg.psql(claraDb, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'; GRANT CONNECT ON DATABASE ${claraDb} TO ${role};`);
    const limitedUrl = `postgresql://${role}:${password}@127.0.0.1:${pg.port}/${claraDb}`;
    const result = await runCli(['run', '--json'], { env: runEnv(bucket, { DATABASE_URL: limitedUrl }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Clara DB backup failed: .*pg_dump.*permission denied/);
    expect(result.stdout + result.stderr).not.toContain(password);
    const summary = JSON.parse(result.stdout) as { ok: boolean; jobs: { job: string; result: string; key?: string; error?: { code: string } }[] };
    expect(summary.ok).toBe(false);
    expect(summary.jobs.map((job) => [job.job, job.result, job.error?.code])).toEqual([
      ['clara', 'failed', 'SOURCE_FAILED'],
      ['mem0', 'succeeded', undefined],
    ]);
    expect(await s3.listKeys(bucket, 'backups/')).toEqual([summary.jobs[1]!.key]);
    const lastBackup = JSON.parse((await s3.getObject(bucket, 'metadata/last_backup.json')).toString('utf8')) as { jobs: object };
    expect(Object.keys(lastBackup.jobs)).toEqual(['mem0']);
  });
});

describe('backupctl run and validate: bad input', () => {
  it('exits 2 with one line naming a job that does not exist', async () => {
    const result = await runCli(['run', '--job', 'nope'], { env: runEnv('any-bucket') });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('Error: no job "nope" in clara-mem0.yml (default) (jobs in this file: clara, mem0)');
  });

  it('exits 2 naming the missing variable and where it is used', async () => {
    const result = await runCli(['run'], { env: { S3_BUCKET: 'b' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^Error: clara-mem0\.yml \(default\):\d+:\d+: jobs\.clara\.source\.with\.url: environment variable DATABASE_URL is not set/);
  });

  it('validate reports an unknown plugin and a schema error, each with its line and path, and touches nothing', async () => {
    const dir = await testTempDir('backupctl-validate-');
    const file = path.join(dir, 'backupctl.yml');
    await writeFile(
      file,
      ['version: 1', 'jobs:', '  clara:', '    source: { use: postgres, with: { url: "${DATABASE_URL}" } }',
        '    transforms:', '      - use: gzipp', '    sink:', '      use: s3', '      with: { bucket: b, partSizeMiB: 1 }', ''].join('\n'),
    );
    const result = await runCli(['validate', file], { env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' } });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('Error: 2 problems in the pipeline file:');
    expect(lines[1]).toMatch(/backupctl\.yml:6:14: jobs\.clara\.transforms\[0\]\.use: unknown plugin "gzipp"/);
    expect(lines[2]).toMatch(/backupctl\.yml:9:\d+: jobs\.clara\.sink\.with\.partSizeMiB: must be >= 5/);

    const valid = await runCli(['validate'], { env: runEnv('clara-backups') });
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('clara: postgres -> gzip -> s3');
    expect(valid.stdout).not.toContain(TEST_PG_PASSWORD);

    // validate contacts nothing: a database and an S3 endpoint nobody listens on, and mem0 unset, still validate.
    const unreachable = { ...runEnv('clara-backups', { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', S3_ENDPOINT_URL: 'http://127.0.0.1:1' }) };
    delete unreachable.MEM0_DATABASE_URL;
    const offline = await runCli(['validate'], { env: unreachable });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout.trimEnd().split('\n')).toEqual([
      'clara-mem0.yml (default): valid, 2 jobs',
      '  clara: postgres -> gzip -> s3 [hooks: respawn, retention, webhook]',
      '  mem0: will be skipped (MEM0_DATABASE_URL is not set)',
    ]);

    // --connect reaches them: each step answers for itself, and an unreachable one makes exit 1.
    const reachableBucket = uniqueName('clara-backups');
    await s3.createBucket(reachableBucket);
    const connected = await runCli(['validate', '--connect'], { env: runEnv(reachableBucket) });
    expect(connected.code, connected.stderr).toBe(0);
    expect(connected.stdout).toContain('  clara postgres: reachable\n  clara gzip: nothing to reach\n  clara s3: reachable\n');
    expect(connected.stdout).toContain('  mem0 postgres: reachable\n');
    const refused = await runCli(['validate', '--connect'], { env: unreachable });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('  clara postgres: cannot connect: could not connect to 127.0.0.1:1/none after 1 attempt: connect ECONNREFUSED 127.0.0.1:1\n');
    expect(refused.stdout).toContain('  clara s3: cannot connect: cannot reach S3 endpoint http://127.0.0.1:1 (ECONNREFUSED)\n');
    expect(refused.stdout + refused.stderr).not.toContain(TEST_PG_PASSWORD);
  });
});
