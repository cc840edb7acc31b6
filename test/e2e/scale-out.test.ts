import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, startCli, tableFingerprints, uniqueName, usePostgres, useS3, type CliResult, type RunningCli } from '../harness/index.js';
import { logLines, printedSecrets } from './restore-fixtures.js';
import { advisoryLockKey } from '../../packages/plugin-postgres/src/advisory-lock.js';

// Past one process (issue 21): a server of 20 databases of mixed sizes,
// backed up by one process with concurrency 4, then by three workers
// sharing it with no coordinator, then by workers one of which is killed
// in the middle of a dump.

const pg_ = usePostgres();
const s3 = useS3();
const bucket = uniqueName('scale').replaceAll('_', '-').toLowerCase();
// One large, two medium, the rest small: the large one still dumps while the small ones come and go.
const rowsOf = (index: number) => (index === 0 ? 150_000 : index < 3 ? 40_000 : 50 + index * 20);
const databases = Array.from({ length: 20 }, (_, index) => uniqueName(`scale_${String(index).padStart(2, '0')}`));
const big = databases[0]!;
let dir: string;

const env = () => ({ S3_ACCESS_KEY: inject('s3').accessKeyId, S3_SECRET_KEY: inject('s3').secretAccessKey, SERVER_URL: pg_.url('postgres') });

/** A pipeline backing the 20 databases up under `prefix`, respawn-protected as workers need. */
async function writePipeline(name: string, prefix: string, extra: string[] = []): Promise<string> {
  const info = inject('s3');
  const file = path.join(dir, `${name}.yml`);
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  server:',
      '    title: Main server',
      ...extra,
      '    source:',
      '      use: postgres',
      `      with: { url: "\${SERVER_URL}", databases: [${databases.join(', ')}], retryAttempts: 1 }`,
      '    transforms: [{ use: gzip, with: { level: 1, threads: 2 } }]',
      '    sink:',
      '      use: s3',
      `      with: { bucket: ${bucket}, endpoint: "${info.endpoint}", region: ${info.region}, accessKeyId: "\${S3_ACCESS_KEY}", secretAccessKey: "\${S3_SECRET_KEY}", prefix: ${prefix}, partSizeMiB: 5 }`,
      '      hooks: [{ use: respawn, with: { hours: 23 } }]',
      '',
    ].join('\n'),
  );
  return file;
}

/** The objects under `prefix`, by database. */
async function objectsByDatabase(prefix: string): Promise<Map<string, string[]>> {
  const byDatabase = new Map<string, string[]>();
  for (const key of await s3.listKeys(bucket, prefix)) {
    const database = key.slice(prefix.length).split('/')[0]!;
    byDatabase.set(database, [...(byDatabase.get(database) ?? []), key]);
  }
  return byDatabase;
}

/** The backups (not metadata) under `prefix`: one list of keys per database. */
async function backupsByDatabase(prefix: string): Promise<Map<string, string[]>> {
  const all = await objectsByDatabase(prefix);
  all.delete('metadata');
  return all;
}

/** Follows the process's peak resident memory (VmHWM, a high-water mark: the last reading before it exits is its peak). */
function followPeakRss(running: RunningCli): () => number {
  let peak = 0;
  const read = () => {
    try {
      const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${running.child.pid}/status`, 'utf8'))?.[1];
      if (kib) peak = Math.max(peak, Number(kib) * 1024);
    } catch {
      // Exited between two readings: the last one stands.
    }
  };
  const timer = setInterval(read, 25);
  void running.result.finally(() => clearInterval(timer));
  return () => peak;
}

/** Lines saying a database's backup completed (text logs, with or without a `[job/part]` tag). */
function completedIn(result: CliResult): string[] {
  return logLines(result).flatMap((line) => /(?:^\[server\/[^\]]+\] )?Main server \/ (\S+) backup complete: /.exec(line)?.[1] ?? []);
}

beforeAll(async () => {
  dir = await makeTempDir('backupctl-scale-out-');
  await s3.createBucket(bucket);
  for (const [index, database] of databases.entries()) {
    await pg_.createDatabase(database);
    // Hex text compresses about twice: the large database is ~15 MB dumped, several 5 MiB parts stored.
    await pg_.psql(
      database,
      `CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
       INSERT INTO t SELECT i, md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) FROM generate_series(1, ${rowsOf(index)}) AS i;`,
    );
  }
}, 300_000);

afterAll(async () => {
  for (const database of databases) await pg_.dropDatabase(database);
  await removeTempDir(dir);
});

describe('concurrency in one run', () => {
  it('backs up 20 databases 4 at a time: each once, restorable, every line tagged with its part, memory within the stated bound', async () => {
    const file = await writePipeline('one', 'one/', ['    concurrency: 4']);
    const running = startCli(['run', file, '--log-format', 'json'], { env: env() });
    const peak = followPeakRss(running);
    const run = await running.result;
    expect(run.code, run.stderr).toBe(0);
    expect(printedSecrets(run)).toBe(false);

    const lines = run.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const plan = lines.find((line) => line.event === 'run-plan');
    expect(plan, run.stderr).toMatchObject({ concurrency: 4 });
    // Every line of a part carries the job and the part.
    const complete = lines.filter((line) => line.event === 'complete');
    expect(complete.map((line) => line.part).sort()).toEqual([...databases].sort());
    for (const line of complete) expect(line.job).toBe('server');
    // The summary lists every part's result, in the parts' order.
    const summary = lines.filter((line) => line.event === 'parts-summary');
    expect(summary[0]?.message).toBe('Main server: 20 parts: 20 backed up, 0 skipped, 0 failed');
    expect(summary.slice(1).map((line) => line.part)).toEqual(databases);

    const backups = await backupsByDatabase('one/');
    expect([...backups.keys()].sort()).toEqual([...databases].sort());
    for (const keys of backups.values()) expect(keys).toHaveLength(1);

    // Restorable: the largest and two small ones, restored with gunzip | psql into new databases, rows as in the source.
    for (const database of [big, databases[7]!, databases[19]!]) {
      const copy = uniqueName('scale_restored');
      await pg_.createDatabase(copy);
      try {
        const dump = gunzipSync(await s3.getObject(bucket, backups.get(database)![0]!)).toString('utf8');
        await pg_.psql(copy, dump);
        expect(await tableFingerprints(pg_, copy)).toEqual(await tableFingerprints(pg_, database));
      } finally {
        await pg_.dropDatabase(copy);
      }
    }

    // The stated bound (docs/scale-out.md#memory): the run's estimate, from the stages' own buffers.
    const estimate = Number(plan!.estimateBytes);
    expect(peak()).toBeGreaterThan(0);
    expect(peak(), `peak ${peak()} B, estimate ${estimate} B`).toBeLessThanOrEqual(estimate);
  }, 300_000);

  it('shows each part in flight in the text log with its [job/part] tag', async () => {
    const file = await writePipeline('tags', 'tags/', ['    concurrency: 2']);
    const run = await runCli(['run', file, '--job', 'server'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const tagged = logLines(run).filter((line) => line.startsWith('[server/'));
    for (const database of databases) expect(tagged).toContainEqual(expect.stringMatching(new RegExp(`^\\[server/${database}\\] Main server / ${database} backup complete: `)));
    expect(logLines(run)).toContain('Main server: 20 parts: 20 backed up, 0 skipped, 0 failed');
  }, 300_000);
});

describe('a memory budget', () => {
  it('lowers the concurrency until the estimate fits memoryBudgetMiB, says so, and still backs every database up', async () => {
    // 43 MiB per backup (8 + s3 5 MiB × 5 + gzip on 2 threads 10): 96 + 2 × 43 = 182 fits in 200, 3 would not.
    const file = await writePipeline('budget', 'budget/', ['    concurrency: 4']);
    await writeFile(file, `memoryBudgetMiB: 200\n${await readFile(file, 'utf8')}`);
    const run = await runCli(['run', file], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(logLines(run)).toContain('memoryBudgetMiB 200: 2 backups at once instead of 4 (each up to 43.0 MB, the process 96.0 MB)');
    expect(logLines(run)).toContain('Running up to 2 backups at once (memory estimate 182.0 MB: 96.0 MB + 2 × 43.0 MB)');
    expect([...(await backupsByDatabase('budget/')).keys()].sort()).toEqual([...databases].sort());
  }, 300_000);
});

describe('workers sharing a server', () => {
  it('--worker refuses a job whose copy has no respawn protection: one line, exit 2, nothing stored', async () => {
    const file = await writePipeline('unguarded', 'unguarded/');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/^ {6}hooks: .*\n/m, ''));
    const run = await runCli(['run', file, '--worker'], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')[0]).toBe(
      "Error: job server, copy s3: --worker needs each part's last backup to be recorded and respected, but it has no respawn hook " +
        '(add `{ use: respawn, with: { hours: 12 } }` to the hooks of every required sink (hours: longer than a run, at most the time between runs minus a run; docs/scale-out.md#the-period))',
    );
    expect(run.stderr).not.toContain('    at ');
    expect(await s3.listKeys(bucket, 'unguarded/')).toEqual([]);
  });

  it('three workers started together back up every database exactly once between them, each doing some', async () => {
    const file = await writePipeline('workers', 'workers/');
    const workers = [0, 1, 2].map((index) => startCli(['run', file, '--worker', '--worker-index', String(index), '--concurrency', '2'], { env: env() }));
    const runs = await Promise.all(workers.map((worker) => worker.result));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);

    // The store: one backup per database.
    const backups = await backupsByDatabase('workers/');
    expect([...backups.keys()].sort()).toEqual([...databases].sort());
    for (const [database, keys] of backups) expect(keys, database).toHaveLength(1);
    // The logs: each database completed by exactly one worker, and every worker completed some.
    const done = runs.map(completedIn);
    expect(done.flat().sort()).toEqual([...databases].sort());
    for (const [index, parts] of done.entries()) expect(parts.length, `worker ${index}: ${runs[index]!.stderr}`).toBeGreaterThan(0);
    // What a worker did not back up, it found done (respawn) or came back to.
    for (const run of runs) {
      expect(logLines(run)).toContainEqual(expect.stringMatching(/^Main server: 20 parts: \d+ backed up, \d+ skipped, 0 failed$/));
    }
  }, 300_000);

  it('a worker killed in the middle of a dump: another worker backs its database up, and nothing partial is stored', async () => {
    const file = await writePipeline('killed', 'killed/');
    // pg_dump waits for this lock on the large database's table: the worker that took that database is mid-dump.
    const blocker = new pg.Client({ connectionString: pg_.url(big) });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await blocker.query('COMMIT');
      await blocker.end();
    };
    try {
      const workers = [0, 1].map((index) => startCli(['run', file, '--worker', '--worker-index', String(index), '--debug'], { env: env() }));
      const holding = new RegExp(`Holding advisory lock -?\\d+ on .*${big}`);
      const holder = await Promise.race(workers.map(async (worker) => (await worker.waitForOutput(holding, 'stderr'), worker)));
      const survivor = workers.find((worker) => worker !== holder)!;
      // Its pg_dump is running and waiting for the table.
      await waitUntil(async () => (await pg_.query(big, "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump' AND wait_event_type = 'Lock'", [big])).length > 0);
      // The other worker walked the rest and waits for this one's database: the final pass over parts others held.
      await survivor.waitForOutput(new RegExp(`held by other workers \\(${big}\\); trying again`), 'stderr');
      holder.child.kill('SIGKILL');
      const killed = await holder.result;
      expect(killed.signal).toBe('SIGKILL');
      await release();

      const run = await survivor.result;
      expect(run.code, run.stderr).toBe(0);
      expect(completedIn(run)).toContain(big);

      // Every database once, the killed one's included; nothing of its dump.
      const backups = await backupsByDatabase('killed/');
      expect([...backups.keys()].sort()).toEqual([...databases].sort());
      for (const [database, keys] of backups) expect(keys, database).toHaveLength(1);
      const restored = uniqueName('scale_killed');
      await pg_.createDatabase(restored);
      try {
        await pg_.psql(restored, gunzipSync(await s3.getObject(bucket, backups.get(big)![0]!)).toString('utf8'));
        expect(await tableFingerprints(pg_, restored)).toEqual(await tableFingerprints(pg_, big));
      } finally {
        await pg_.dropDatabase(restored);
      }
    } finally {
      await release();
    }
  }, 300_000);
});

describe('lockUrl: the lock on another server than the dump (a primary, while dumping from replicas)', () => {
  it('takes the lock where lockUrl says: held there, the job skips as busy; free, it backs up from url', async () => {
    const database = databases[5]!;
    const file = path.join(dir, 'lock-url.yml');
    const info = inject('s3');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  tenant:',
        '    title: Tenant',
        // The dump from the tenant's database; the lock in `postgres`, standing for the primary.
        `    source: { use: postgres, with: { url: "\${TENANT_URL}", lockUrl: "\${LOCK_URL}", retryAttempts: 1 } }`,
        '    sink:',
        '      use: s3',
        `      with: { bucket: ${bucket}, endpoint: "${info.endpoint}", region: ${info.region}, accessKeyId: "\${S3_ACCESS_KEY}", secretAccessKey: "\${S3_SECRET_KEY}", prefix: lock-url/ }`,
        '',
      ].join('\n'),
    );
    const lockEnv = { ...env(), TENANT_URL: pg_.url(database), LOCK_URL: pg_.url('postgres') };
    const holder = new pg.Client({ connectionString: pg_.url('postgres') });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [advisoryLockKey('tenant').toString()]);
      const held = await runCli(['run', file], { env: lockEnv });
      expect(held.code, held.stderr).toBe(0);
      expect(logLines(held)).toContain(`Tenant backup skipped: another backup of this database is in progress (127.0.0.1:${pg_.port}/postgres, job tenant)`);
      expect(printedSecrets(held)).toBe(false);
    } finally {
      await holder.end();
    }
    const free = await runCli(['run', file], { env: lockEnv });
    expect(free.code, free.stderr).toBe(0);
    const keys = await s3.listKeys(bucket, 'lock-url/tenant_');
    expect(keys).toHaveLength(1);
    expect((await s3.getObject(bucket, keys[0]!)).toString('utf8')).toContain('CREATE TABLE public.t');
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
