import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatSize } from '@backupctl/plugin-api';
import {
  makeTempDir,
  referenceEnv,
  removeTempDir,
  TEST_PG_PASSWORD,
  runCli,
  uniqueName,
  useReferenceDatabases,
  usePostgres,
  useS3,
  type CliResult,
} from '../harness/index.js';

// ls and restore-help read what `run` wrote, plus objects put there by hand:
// older backups (as a previous service would have left them) and keys that
// are nobody's backup.
const pg = usePostgres();
const s3 = useS3();
const { clara: claraDb, mem0: mem0Db } = useReferenceDatabases(pg);
const bucket = uniqueName('clara-backups');
const MB = 1024 * 1024;

function lsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return referenceEnv(pg, { clara: claraDb, mem0: mem0Db }, bucket, { overrides });
}

function withoutMem0(): Record<string, string> {
  const env = lsEnv();
  delete env.MEM0_DATABASE_URL;
  return env;
}

function stdoutLines(result: CliResult): string[] {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout.replace(/\n$/, '').split('\n');
}

/** What `run` committed, per job. */
const fresh: Record<string, { key: string; bytes: number }> = {};

beforeAll(async () => {
  await s3.createBucket(bucket);

  const run = await runCli(['run', '--json'], { env: lsEnv() });
  expect(run.code, run.stderr).toBe(0);
  const summary = JSON.parse(run.stdout) as { jobs: { job: string; key: string; bytes: number }[] };
  for (const job of summary.jobs) fresh[job.job] = { key: job.key, bytes: job.bytes };

  // Put after the run, so the retention hook of the default pipeline does not expire them.
  await s3.putObject(bucket, 'backups/clara/clara_20260131_030000.sql.gz', Buffer.alloc(Math.round(2.4 * MB)));
  await s3.putObject(bucket, 'backups/clara/clara_20260130_030000.sql.gz', Buffer.alloc(1536));
  await s3.putObject(bucket, 'backups/mem0/mem0_20260131_030000.sql.gz', Buffer.alloc(Math.round(1.1 * MB)));
  await s3.putObject(bucket, 'backups/clara/README.txt', 'not a backup');
  await s3.putObject(bucket, 'backups/clara/clara_copy_20260201_030000.sql.gz', 'another job\'s name');
  await s3.putObject(bucket, 'archive/clara_20260101_030000.sql.gz', 'outside the prefix');
}, 180_000);

describe('backupctl ls (default pipeline)', () => {
  it("lists each job's backups newest first, in the reference service's --list format, and nothing else", async () => {
    const { clara, mem0 } = fresh;
    expect(clara?.key).toMatch(/^backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz$/);
    expect(mem0?.key).toMatch(/^backups\/mem0\/mem0_\d{8}_\d{6}\.sql\.gz$/);
    expect((await s3.getObject(bucket, clara!.key)).length).toBe(clara!.bytes);

    const lines = stdoutLines(await runCli(['ls'], { env: lsEnv() }));
    expect(lines).toEqual([
      `Available backups in ${bucket}:`,
      '',
      'Clara DB backups:',
      `  - ${clara!.key} (${formatSize(clara!.bytes)})`,
      '  - backups/clara/clara_20260131_030000.sql.gz (2.4 MB)',
      '  - backups/clara/clara_20260130_030000.sql.gz (1.5 KB)',
      '',
      'Mem0 DB backups:',
      `  - ${mem0!.key} (${formatSize(mem0!.bytes)})`,
      '  - backups/mem0/mem0_20260131_030000.sql.gz (1.1 MB)',
    ]);
  });

  it("still lists Mem0's backups when MEM0_DATABASE_URL is not set, and --job picks jobs", async () => {
    const all = stdoutLines(await runCli(['ls'], { env: lsEnv() }));
    expect(stdoutLines(await runCli(['ls'], { env: withoutMem0() }))).toEqual(all);
    expect(stdoutLines(await runCli(['ls', '--job', 'mem0'], { env: withoutMem0() }))).toEqual([
      `Available backups in ${bucket}:`,
      '',
      'Mem0 DB backups:',
      `  - ${fresh.mem0!.key} (${formatSize(fresh.mem0!.bytes)})`,
      '  - backups/mem0/mem0_20260131_030000.sql.gz (1.1 MB)',
    ]);
  });

  it('--json prints every backup with job, key, size in bytes and time', async () => {
    const result = await runCli(['ls', '--json'], { env: lsEnv() });
    expect(result.code).toBe(0);
    const items = JSON.parse(result.stdout) as { job: string; location: string; key: string; size: number; time: string }[];
    expect(items.map(({ job, key, size }) => [job, key, size])).toEqual([
      ['clara', fresh.clara!.key, fresh.clara!.bytes],
      ['clara', 'backups/clara/clara_20260131_030000.sql.gz', Math.round(2.4 * MB)],
      ['clara', 'backups/clara/clara_20260130_030000.sql.gz', 1536],
      ['mem0', fresh.mem0!.key, fresh.mem0!.bytes],
      ['mem0', 'backups/mem0/mem0_20260131_030000.sql.gz', Math.round(1.1 * MB)],
    ]);
    expect(items[1]).toMatchObject({ location: bucket, time: '2026-01-31T03:00:00.000Z' });
    // The run's backup is dated by the UTC timestamp in its name.
    const stamp = /_(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)\./.exec(fresh.clara!.key)!.slice(1);
    expect(items[0]!.time).toBe(`${stamp[0]}-${stamp[1]}-${stamp[2]}T${stamp[3]}:${stamp[4]}:${stamp[5]}.000Z`);
  });

  it('exits 1 with one line naming the bucket when it does not exist', async () => {
    const missing = uniqueName('no-such-bucket');
    const result = await runCli(['ls'], { env: lsEnv({ S3_BUCKET: missing }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Error: bucket ${missing} does not exist at ${inject('s3').endpoint.replace(/\./g, '\\.')}`));
  });
});

describe('backupctl ls (file sinks)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('backupctl-ls-');
  });
  afterAll(() => removeTempDir(dir));

  it('prints a header per store, and "(none)" for a job without backups', async () => {
    const file = path.join(dir, 'backupctl.yml');
    const job = (name: string, directory: string) => [
      `  ${name}:`,
      '    source: { use: postgres, with: { url: "postgresql://nobody@127.0.0.1:1/none" } }',
      `    sink: { use: file, with: { directory: ${directory}, prefix: ${name}/ } }`,
    ];
    await writeFile(file, ['version: 1', 'jobs:', ...job('app', './nas-a'), ...job('audit', './nas-b'), ...job('logs', './nas-a'), ''].join('\n'));
    await mkdir(path.join(dir, 'nas-a', 'app'), { recursive: true });
    await writeFile(path.join(dir, 'nas-a', 'app', 'app_20260201_030000.sql'), Buffer.alloc(3 * 1024));
    await writeFile(path.join(dir, 'nas-a', 'app', 'app_20260202_030000.sql'), Buffer.alloc(10));
    await mkdir(path.join(dir, 'nas-b', 'audit'), { recursive: true });
    await writeFile(path.join(dir, 'nas-b', 'audit', 'audit_20260201_030000.sql'), Buffer.alloc(2 * MB));

    const lines = stdoutLines(await runCli(['ls'], { cwd: dir }));
    expect(lines).toEqual([
      `Available backups in ${path.join(dir, 'nas-a')}:`,
      '',
      'app backups:',
      '  - app/app_20260202_030000.sql (10 B)',
      '  - app/app_20260201_030000.sql (3.0 KB)',
      '',
      'logs backups:',
      '  (none)',
      '',
      `Available backups in ${path.join(dir, 'nas-b')}:`,
      '',
      'audit backups:',
      '  - audit/audit_20260201_030000.sql (2.0 MB)',
    ]);
  });
});

describe('backupctl restore-help', () => {
  it('gives the download and restore steps for the newest backup of each job, with the real bucket and endpoint and no secret', async () => {
    for (const env of [lsEnv(), withoutMem0()]) {
      const result = await runCli(['restore-help'], { env });
      expect(result.code, result.stderr).toBe(0);
      const text = result.stdout;
      const endpoint = inject('s3').endpoint;
      for (const { key } of [fresh.clara!, fresh.mem0!]) {
        expect(text).toContain(`aws s3 cp s3://${bucket}/${key} . \\\n    --endpoint-url=${endpoint}\n`);
        expect(text).toContain(`gunzip ${path.posix.basename(key)}\n`);
        expect(text).toContain(`backupctl restore ${key.split('/')[1]} --key ${key}\n`);
      }
      expect(text).toContain(`psql -v ON_ERROR_STOP=1 --single-transaction "$DATABASE_URL" < ${path.posix.basename(fresh.clara!.key, '.gz')}\n`);
      expect(text).toContain('AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY"');
      // Nothing secret, and nothing that needed masking either.
      const output = result.stdout + result.stderr;
      for (const secret of [TEST_PG_PASSWORD, encodeURIComponent(TEST_PG_PASSWORD), pg.url(claraDb), pg.url(mem0Db), 'S3RVER', '***']) {
        expect(output).not.toContain(secret);
      }
    }
  });
});
