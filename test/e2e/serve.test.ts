import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  referenceEnv,
  TEST_PG_PASSWORD,
  seedClaraDatabase,
  seedMem0Database,
  startCli,
  uniqueName,
  usePostgres,
  useS3,
  type RunningCli,
} from '../harness/index.js';
import { writeHeldPipeline } from './held-source.js';

// `backupctl serve` and `run --serve` as a container platform sees them:
// probes, the JSON health report, Prometheus metrics, the built-in schedule,
// and SIGTERM in the middle of a backup.

const pg15 = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const claraDb = uniqueName('clara_main');
const mem0Db = uniqueName('clara_vectors');

function jobEnv(bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return referenceEnv(pg15, { clara: claraDb, mem0: mem0Db }, bucket, { overrides });
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('serve-test');
  await s3.createBucket(bucket);
  return bucket;
}

/** Starts the CLI with a health server on a free port of 127.0.0.1; resolves once it listens. */
async function startServing(args: string[], env: Record<string, string>): Promise<{ cli: RunningCli; url: string }> {
  const cli = startCli([...args, '--host', '127.0.0.1', '--port', '0'], { env, timeoutMs: 90_000 });
  await cli.waitForOutput(/Health server listening on http:\/\/127\.0\.0\.1:\d+/);
  const url = /Health server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.output().stderr)![1]!;
  return { cli, url };
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Sends SIGTERM and resolves with the exit code and how long the exit took. */
async function terminate(cli: RunningCli): Promise<{ code: number | null; ms: number; stderr: string }> {
  const started = Date.now();
  cli.child.kill('SIGTERM');
  const result = await cli.result;
  return { code: result.code, ms: Date.now() - started, stderr: result.stderr };
}

function count(text: string, line: string): number {
  return text.split('\n').filter((entry) => entry.endsWith(` - ${line}`)).length;
}

function expectNoSecret(text: string): void {
  for (const secret of [TEST_PG_PASSWORD, encodeURIComponent(TEST_PG_PASSWORD), s3Info.secretAccessKey, 'postgresql://', s3Info.endpoint]) {
    expect(text).not.toContain(secret);
  }
}

beforeAll(async () => {
  await pg15.createDatabase(claraDb);
  await pg15.createDatabase(mem0Db);
  await seedClaraDatabase(pg15, claraDb);
  await seedMem0Database(pg15, mem0Db);
});

describe('backupctl serve', () => {
  it('answers /live, /ready, /health and /metrics with the right codes and shapes, and no secret in any body', async () => {
    const bucket = await freshBucket();
    const { cli, url } = await startServing(['serve'], jobEnv(bucket));
    try {
      expect((await fetch(`${url}/live`)).status).toBe(200);
      await waitUntil(async () => (await fetch(`${url}/ready`)).status === 200, '/ready');
      const bodies: string[] = [];
      for (const path of ['/live', '/ready', '/health', '/metrics']) {
        const response = await fetch(`${url}${path}`);
        expect(response.status, path).toBe(200);
        bodies.push(await response.text());
      }
      const health = JSON.parse(bodies[2]!) as Record<string, unknown>;
      expect(health).toMatchObject({ status: 'ok', ready: true, running: false, version: expect.any(String) });
      expect(health.schedule).toBeUndefined();
      expect(health.jobs).toEqual({
        clara: { runs: { succeeded: 0, skipped: 0, failed: 0 }, lastRun: null, lastSuccess: null, lastFailure: null, lastVerification: null, freshness: null },
        mem0: { runs: { succeeded: 0, skipped: 0, failed: 0 }, lastRun: null, lastSuccess: null, lastFailure: null, lastVerification: null, freshness: null },
      });
      expect(bodies[3]).toContain('backupctl_runs_total{job="clara",result="succeeded"} 0');
      expect((await fetch(`${url}/backups`)).status).toBe(404);
      expectNoSecret(bodies.join('\n'));
    } finally {
      const exit = await terminate(cli);
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(5000);
      expect(exit.stderr).toMatch(/ - Shutting down \(received SIGTERM\)\n/);
      expectNoSecret(exit.stderr);
    }
    expect(await s3.listKeys(bucket)).toEqual([]);
  });

  it('exits 2 naming the problem when the pipeline is invalid or the schedule unreadable', async () => {
    const bad = startCli(['serve', '--host', '127.0.0.1', '--port', '0'], { env: { S3_BUCKET: 'b' } });
    const result = await bad.result;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Error: .*environment variable DATABASE_URL is not set/);

    const schedule = await startCli(['serve', '--schedule', '0 3 * *'], { env: jobEnv('b') }).result;
    expect(schedule.code).toBe(2);
    expect(schedule.stderr.trim()).toMatch(/^Error: invalid --schedule "0 3 \* \*": .+ \(cron syntax in UTC, e\.g\. "0 3 \* \* \*" for 03:00 every day\)$/);
  });

  it('--schedule every second backs up on schedule, one run at a time; /health and /metrics show the runs', async () => {
    const bucket = await freshBucket();
    const { cli, url } = await startServing(['serve', '--schedule', '* * * * * *', '--job', 'clara'], jobEnv(bucket));
    let stderr = '';
    try {
      await cli.waitForOutput(/Backups scheduled: "\* \* \* \* \* \*" \(UTC\), next at \d{4}-/);
      await waitUntil(() => count(cli.output().stderr, 'Backup complete') >= 2, 'two scheduled backups');
      const health = (await (await fetch(`${url}/health`)).json()) as {
        schedule: { pattern: string; timezone: string; nextRun: string };
        jobs: { clara: { runs: { succeeded: number }; lastSuccess: { sizeBytes: number; durationSeconds: number } } };
      };
      expect(health.schedule).toMatchObject({ pattern: '* * * * * *', timezone: 'UTC' });
      expect(Date.parse(health.schedule.nextRun) - Date.now()).toBeLessThanOrEqual(1000);
      expect(health.jobs.clara.runs.succeeded).toBeGreaterThanOrEqual(2);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
      expect(value('backupctl_runs_total\\{job="clara",result="succeeded"\\}')).toBeGreaterThanOrEqual(2);
      expect(value('backupctl_last_success_timestamp_seconds\\{job="clara"\\}')).toBeGreaterThan(Date.now() / 1000 - 30);
      expect(value('backupctl_last_duration_seconds\\{job="clara"\\}')).toBeGreaterThan(0);
      // The size reported is that of a backup really in the bucket.
      const sizes = await Promise.all((await s3.listKeys(bucket, 'backups/clara/')).map(async (key) => (await s3.getObject(bucket, key)).length));
      expect(sizes).toContain(value('backupctl_last_size_bytes\\{job="clara"\\}'));
      expect(sizes).toContain(health.jobs.clara.lastSuccess.sizeBytes);
      expectNoSecret(metrics + JSON.stringify(health));
    } finally {
      const exit = await terminate(cli);
      stderr = exit.stderr;
      expect(exit.ms).toBeLessThan(5000);
      expect([0, 1]).toContain(exit.code);
    }
    // Runs never overlap: each "Starting backup..." is followed by its end before the next starts.
    const events = stderr.split('\n').filter((line) => / - (ERROR: )?(Starting backup\.\.\.|Backup complete|Backup failed)/.test(line));
    events.forEach((line, index) => expect(line.includes('Starting backup...'), line).toBe(index % 2 === 0));
    // Nothing partial: every object is one the log reported complete.
    const completed = [...stderr.matchAll(/Clara DB backup complete: (clara_\d{8}_\d{6}\.sql\.gz)/g)].map((match) => `backups/clara/${match[1]}`);
    expect((await s3.listKeys(bucket, 'backups/')).sort()).toEqual(completed.sort());
  });

  it('a run due while the last is still going is skipped, and SIGTERM aborts the running upload: no object, exit within seconds', async () => {
    const bucket = await freshBucket();
    const file = await writeHeldPipeline({ bucket, s3: s3Info });
    const { cli } = await startServing(['serve', file, '--schedule', '* * * * * *'], { HELD_S3_SECRET: s3Info.secretAccessKey });
    await cli.waitForOutput('held source: 12 MiB sent, holding');
    await cli.waitForOutput(/WARN: Scheduled backup skipped: the previous run \(started \d{4}-.+\) is still going/);
    // Parts of the multipart upload are on their way by now.
    await sleep(1000);
    const exit = await terminate(cli);
    expect(exit.code).toBe(1);
    expect(exit.ms).toBeLessThan(5000);
    expect(count(exit.stderr, 'Starting backup...')).toBe(1);
    expect(exit.stderr).toContain('Shutting down (received SIGTERM): aborting the running backup');
    expect(exit.stderr).toContain('ERROR: Held DB backup failed: aborted: received SIGTERM');
    expect(await s3.listKeys(bucket)).toEqual([]);
  });

  it('SIGTERM while pg_dump runs kills it and commits nothing', async () => {
    const bucket = await freshBucket();
    // A session holding an exclusive lock keeps pg_dump waiting mid-dump: a backup in flight, for as long as needed.
    const blocker = new pg.Client({ connectionString: pg15.url(claraDb) });
    await blocker.connect();
    try {
      const [table] = (await blocker.query<{ name: string }>(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'public' LIMIT 1",
      )).rows;
      await blocker.query(`BEGIN; LOCK TABLE ${table!.name} IN ACCESS EXCLUSIVE MODE`);
      const { cli } = await startServing(['serve', '--schedule', '* * * * * *', '--job', 'clara'], jobEnv(bucket));
      // From another session: inside the blocker's transaction, pg_stat_activity would stay as first read.
      const sessions = async (where: string) =>
        Number((await pg15.query<{ n: string }>(claraDb, `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND ${where}`))[0]!.n);
      await waitUntil(async () => (await sessions("application_name = 'pg_dump' AND wait_event_type = 'Lock'")) === 1, 'pg_dump to wait on the lock');
      const exit = await terminate(cli);
      expect(exit.code).toBe(1);
      expect(exit.ms).toBeLessThan(5000);
      expect(exit.stderr).toContain('ERROR: Clara DB backup failed: aborted: received SIGTERM');
      expectNoSecret(exit.stderr);
      // pg_dump and backupctl's own session (its advisory lock) are gone.
      await waitUntil(async () => (await sessions("application_name IN ('pg_dump', 'backupctl')")) === 0, 'the backup sessions to end', 5000);
    } finally {
      await blocker.end();
    }
    expect(await s3.listKeys(bucket)).toEqual([]);
  });
});

describe('backupctl run', () => {
  it('--serve keeps the health server up during the run and closes it at the end', async () => {
    const bucket = await freshBucket();
    const file = await writeHeldPipeline({ bucket, s3: s3Info, mib: 1, holdMs: 2500 });
    const { cli, url } = await startServing(['run', file, '--serve'], { HELD_S3_SECRET: s3Info.secretAccessKey });
    await cli.waitForOutput('held source: 1 MiB sent, holding');
    expect((await fetch(`${url}/live`)).status).toBe(200);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ ready: true, running: true, jobs: { held: { lastRun: null } } });
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('backupctl_running 1');
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(await s3.listKeys(bucket, 'backups/')).toEqual([expect.stringMatching(/^backups\/held\/held_\d{8}_\d{6}\.bin\.gz$/)]);
    await expect(fetch(`${url}/live`)).rejects.toThrow();
  });

  it('SIGTERM during the upload aborts it: exit 1 within seconds, no object', async () => {
    const bucket = await freshBucket();
    const file = await writeHeldPipeline({ bucket, s3: s3Info });
    const cli = startCli(['run', file], { env: { HELD_S3_SECRET: s3Info.secretAccessKey } });
    await cli.waitForOutput('held source: 12 MiB sent, holding');
    await sleep(1000);
    const exit = await terminate(cli);
    expect(exit.code).toBe(1);
    expect(exit.ms).toBeLessThan(5000);
    expect(exit.stderr).toContain('ERROR: Held DB backup failed: aborted: received SIGTERM');
    expect(exit.stderr).toMatch(/ERROR: Backup failed: 1 of 1 jobs failed \(held\)\n$/);
    expect(await s3.listKeys(bucket)).toEqual([]);
  });
});
