import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, inject, it } from 'vitest';
import {
  referenceEnv,
  runCli,
  startCli,
  TEST_PG_PASSWORD,
  uniqueName,
  usePostgres,
  useReferenceDatabases,
  useS3,
  type RunningCli,
} from '../harness/index.js';
import { startFaultProxy } from '../harness/fault-proxy.js';

// `backupctl serve --verify-schedule`: the newest backup of each job is
// restored into a scratch database and compared on a schedule, never while
// a backup runs; /health, /metrics and the store show the result, and a
// backup that fails its verification leaves the server serving.

const pg = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const databases = useReferenceDatabases(pg);

async function freshBucket(): Promise<{ bucket: string; env: Record<string, string> }> {
  const bucket = uniqueName('serve-verify');
  await s3.createBucket(bucket);
  return { bucket, env: referenceEnv(pg, databases, bucket) };
}

/** Starts the CLI with a health server on a free port of 127.0.0.1; resolves once it listens. */
async function startServing(args: string[], env: Record<string, string>): Promise<{ cli: RunningCli; url: string }> {
  const cli = startCli([...args, '--host', '127.0.0.1', '--port', '0'], { env, timeoutMs: 60_000 });
  await cli.waitForOutput(/Health server listening on http:\/\/127\.0\.0\.1:\d+/);
  const url = /Health server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.output().stderr)![1]!;
  return { cli, url };
}

async function waitUntil(check: () => Promise<boolean>, what: string, cli: RunningCli, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the server's log:\n${cli.output().stderr}`);
    await sleep(200);
  }
}

async function metrics(url: string): Promise<(series: string) => number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (series) => {
    const line = text.split('\n').find((entry) => entry.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
}

interface LastVerification {
  result: string;
  at: string;
  durationSeconds: number;
  restoreSeconds: number | null;
}

async function health(url: string): Promise<{ text: string; jobs: Record<string, { lastVerification: LastVerification | null }> }> {
  const text = await (await fetch(`${url}/health`)).text();
  return { text, jobs: (JSON.parse(text) as { jobs: Record<string, { lastVerification: LastVerification | null }> }).jobs };
}

async function terminate(cli: RunningCli): Promise<{ code: number | null; stderr: string }> {
  cli.child.kill('SIGTERM');
  const { code, stderr } = await cli.result;
  return { code, stderr };
}

function expectNoSecret(text: string): void {
  for (const secret of [TEST_PG_PASSWORD, encodeURIComponent(TEST_PG_PASSWORD), s3Info.secretAccessKey, 'postgresql://']) {
    expect(text).not.toContain(secret);
  }
}

/** The log's messages, without their `YYYY-MM-DD HH:MM:SS - ` prefix. */
function messages(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - /.test(line)).map((line) => line.slice(22));
}

describe('backupctl serve --verify-schedule', () => {
  it('verifies the backups the schedule takes, never during a backup; /metrics, /health and the store show it passed', async () => {
    const { bucket, env } = await freshBucket();
    const { cli, url } = await startServing(['serve', '--schedule', '* * * * * *', '--verify-schedule', '*/2 * * * * *', '--job', 'clara'], env);
    let stderr: string;
    try {
      await cli.waitForOutput(/Verifications scheduled: "\*\/2 \* \* \* \* \*" \(UTC\), next at \d{4}-/);
      await waitUntil(async () => ((await metrics(url))('backupctl_verify_runs_total{job="clara",result="passed"}') ?? 0) >= 2, 'two verifications', cli);
      const value = await metrics(url);
      expect(value('backupctl_verify_runs_total{job="clara",result="failed"}')).toBe(0);
      expect(value('backupctl_last_verify_success_timestamp_seconds{job="clara"}')).toBeGreaterThan(Date.now() / 1000 - 30);
      expect(value('backupctl_last_verify_success_timestamp_seconds{job="clara"}')).toBeLessThanOrEqual(Date.now() / 1000);
      expect(value('backupctl_last_verify_duration_seconds{job="clara"}')).toBeGreaterThan(0);
      expect(value('backupctl_anomalies_total{job="clara"}')).toBe(0);

      const report = await health(url);
      expect(report.jobs.clara!.lastVerification).toEqual({
        result: 'passed',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        durationSeconds: expect.any(Number),
        restoreSeconds: expect.any(Number),
      });
      expect(report.jobs.clara!.lastVerification!.restoreSeconds).toBeLessThanOrEqual(report.jobs.clara!.lastVerification!.durationSeconds);
      expect(report.text).toContain('"verifySchedule":{"pattern":"*/2 * * * * *","timezone":"UTC"');
      expect(report.text).not.toContain('backups/');
      expectNoSecret(report.text);

      // The store holds each verified backup's record; the last one logged is of a backup in the bucket.
      const verified = [...cli.output().stderr.matchAll(/Clara DB: verified (backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz): restores in /g)].map((match) => match[1]!);
      expect(verified.length).toBeGreaterThanOrEqual(2);
      const record = JSON.parse((await s3.getObject(bucket, `metadata/verified/${verified.at(-1)}.json`)).toString('utf8')) as Record<string, unknown>;
      expect(record).toMatchObject({ key: verified.at(-1), job: 'clara', result: 'passed', tables: 5, differences: [] });
    } finally {
      const exit = await terminate(cli);
      stderr = exit.stderr;
      // 1 when SIGTERM came during a backup (a backup is due every second).
      expect([0, 1]).toContain(exit.code);
    }
    expectNoSecret(stderr);
    // Never at the same time: no verification line between a run's start and its end.
    let backingUp = false;
    for (const line of messages(stderr)) {
      if (line === 'Starting backup...') backingUp = true;
      else if (/^(ERROR: )?Backup (complete|failed)/.test(line)) backingUp = false;
      else if (/^Clara DB: (verifying|verified) /.test(line)) expect(backingUp, line).toBe(false);
    }
    expect(await s3.listKeys(bucket, 'backups/')).not.toEqual([]);
  });

  it('a backup that does not hold what was dumped, and one that does not restore: failed verifications, and the server goes on', async () => {
    const { bucket, env } = await freshBucket();
    const backedUp = await runCli(['run'], { env });
    expect(backedUp.code, backedUp.stderr).toBe(0);
    const [claraKey] = await s3.listKeys(bucket, 'backups/clara/');
    const [mem0Key] = await s3.listKeys(bucket, 'backups/mem0/');

    // clara: a dump one audit.events row short, its checksum recorded as if it had been written so (pg_dump missed a row).
    const dump = gunzipSync(await s3.getObject(bucket, claraKey!)).toString('utf8').split('\n');
    const copy = dump.findIndex((line) => line.startsWith('COPY audit.events '));
    expect(copy).toBeGreaterThan(0);
    dump.splice(copy + 1, 1);
    const short = gzipSync(dump.join('\n'));
    await s3.putObject(bucket, claraKey!, short);
    const checksum = `metadata/checksums/${claraKey}.json`;
    const recorded = JSON.parse((await s3.getObject(bucket, checksum)).toString('utf8')) as Record<string, unknown>;
    await s3.putObject(bucket, checksum, JSON.stringify({ ...recorded, size: short.length, sha256: createHash('sha256').update(short).digest('hex') }));
    // mem0: one byte changed in the stored object.
    const body = await s3.getObject(bucket, mem0Key!);
    body[Math.floor(body.length / 2)]! ^= 0x01;
    await s3.putObject(bucket, mem0Key!, body);

    const { cli, url } = await startServing(['serve', '--verify-schedule', '* * * * * *'], env);
    let stderr: string;
    try {
      await waitUntil(async () => {
        const value = await metrics(url);
        return (value('backupctl_verify_runs_total{job="clara",result="failed"}') ?? 0) >= 2 && (value('backupctl_verify_runs_total{job="mem0",result="failed"}') ?? 0) >= 2;
      }, 'two rounds of failed verifications', cli);
      const value = await metrics(url);
      expect(value('backupctl_verify_runs_total{job="clara",result="passed"}')).toBe(0);
      expect(value('backupctl_last_verify_success_timestamp_seconds{job="clara"}')).toBeUndefined();
      expect(value('backupctl_last_verify_duration_seconds{job="clara"}')).toBeGreaterThan(0);
      expect((await fetch(`${url}/live`)).status).toBe(200);
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const { jobs } = await health(url);
      // clara restored (a restore time) and differed; mem0 did not restore.
      expect(jobs.clara!.lastVerification).toMatchObject({ result: 'failed', restoreSeconds: expect.any(Number) });
      expect(jobs.mem0!.lastVerification).toMatchObject({ result: 'failed' });

      for (const [key, result] of [[claraKey!, 'failed'], [mem0Key!, 'failed']] as const) {
        const record = JSON.parse((await s3.getObject(bucket, `metadata/verified/${key}.json`)).toString('utf8')) as Record<string, unknown>;
        expect(record, key).toMatchObject({ key, result });
      }
    } finally {
      const exit = await terminate(cli);
      stderr = exit.stderr;
      expect(exit.code).toBe(0);
    }
    expectNoSecret(stderr);
    const lines = messages(stderr);
    expect(lines).toContain(`ERROR: Clara DB: verification of ${claraKey} FAILED: 1 of 5 tables differ: audit.events (expected 500, restored 499)`);
    expect(lines.filter((line) => line.startsWith('ERROR: Mem0 DB: verification failed: ')).length).toBeGreaterThanOrEqual(2);
  });

  it('SIGTERM during a verification aborts it: exit 0 within seconds, no scratch database left; VERIFY_SCRATCH_URL is where it goes', async () => {
    const { env } = await freshBucket();
    const backedUp = await runCli(['run', '--job', 'clara'], { env });
    expect(backedUp.code, backedUp.stderr).toBe(0);
    // The scratch server, behind a proxy that holds its answers: the verification hangs connecting to it.
    const scratch = await startFaultProxy(`http://127.0.0.1:${pg.port}`, { http: false });
    scratch.setMode({ kind: 'delay', ms: 60_000 });
    try {
      const scratchUrl = pg.url('postgres').replace(`:${pg.port}/`, `:${scratch.port}/`);
      const { cli, url } = await startServing(['serve', '--verify-schedule', '* * * * * *', '--job', 'clara'], { ...env, VERIFY_SCRATCH_URL: scratchUrl });
      await waitUntil(async () => scratch.connections > 0, 'the verification to reach the scratch server', cli);
      const started = Date.now();
      const exit = await terminate(cli);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(exit.code).toBe(0);
      const lines = messages(exit.stderr);
      expect(lines).toContain('Shutting down (received SIGTERM): aborting the running verification');
      expect(lines).toContain('Clara DB: verification stopped (received SIGTERM)');
      expect(lines.filter((line) => line.startsWith('ERROR: '))).toEqual([]);
      expectNoSecret(exit.stderr);
      await expect(fetch(`${url}/live`)).rejects.toThrow();
    } finally {
      await scratch.close();
    }
    const left = await pg.query<{ datname: string }>('postgres', 'SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0', [`${databases.clara}_verify_`]);
    expect(left).toEqual([]);
  });

  it('exits 2 with one line for a --verify-schedule (or VERIFY_SCHEDULE) it cannot read', async () => {
    const { env } = await freshBucket();
    for (const run of [startCli(['serve', '--verify-schedule', '0 3 * *'], { env }), startCli(['serve'], { env: { ...env, VERIFY_SCHEDULE: '0 3 * *' } })]) {
      const result = await run.result;
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toMatch(/^Error: invalid --verify-schedule "0 3 \* \*": .+ \(cron syntax in UTC, e\.g\. "0 3 \* \* \*" for 03:00 every day\)$/);
    }
  });
});
