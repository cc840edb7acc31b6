import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHttpReceiver, type HttpReceiver } from '@backupctl/plugin-api/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_PG_PASSWORD, closedPort, runCli, seedClaraDatabase, startCli, uniqueName, usePostgres, useS3, writeClaraPipeline } from '../harness/index.js';
import { guardSecret } from '../harness/secret-guard.js';

// `use: ping` in a job's notify: list, through the built CLI against the
// harness's PostgreSQL and S3, with a local receiver standing for the
// dead-man monitor (healthchecks.io's endpoints: /start, the bare URL, /fail).

const pg15 = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const claraDb = uniqueName('clara_main');
// The check's UUID: the ping URL's credential.
const CHECK = '0c5c2d1e-9f4b-4b8e-a1d7-6e2f3a9b8c71';

interface Ping {
  method: string;
  path: string;
  rid: string | null;
  body: string;
}

let monitor: HttpReceiver;
let pingUrl = '';

/** Every ping the monitor got, in order. */
function pings(): Ping[] {
  return monitor.requests.map(({ method, path, body }) => {
    const url = new URL(path, 'http://monitor');
    return { method, path: url.pathname, rid: url.searchParams.get('rid'), body };
  });
}

beforeAll(async () => {
  guardSecret('the ping URL', CHECK);
  await pg15.createDatabase(claraDb);
  await seedClaraDatabase(pg15, claraDb);
  monitor = await startHttpReceiver([{ status: 200, body: 'OK' }]);
  pingUrl = `${monitor.url}/${CHECK}`;
});
afterAll(() => monitor?.close());

const pipelineFile = () =>
  writeClaraPipeline({ sinkHooks: ['- use: respawn', '  with: { hours: 23 }'], jobLines: ['notify:', '  - use: ping', '    with: { url: "${PING_URL}" }'] });

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('ping-test');
  await s3.createBucket(bucket);
  return bucket;
}

function env(bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: pg15.url(claraDb),
    S3_BUCKET: bucket,
    S3_ENDPOINT_URL: s3Info.endpoint,
    S3_ACCESS_KEY: s3Info.accessKeyId,
    S3_SECRET_KEY: s3Info.secretAccessKey,
    PING_URL: pingUrl,
    ...overrides,
  };
}

/** The pings since `from`, as method and path relative to the check's URL. */
function received(from = 0): string[] {
  return pings().slice(from).map(({ method, path }) => `${method} ${path.slice(CHECK.length + 1) || '(bare)'}`);
}

function expectNoSecret(text: string): void {
  for (const secret of [TEST_PG_PASSWORD, encodeURIComponent(TEST_PG_PASSWORD), s3Info.secretAccessKey, CHECK]) expect(text).not.toContain(secret);
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('use: ping (a dead-man monitor)', () => {
  it('a good run pings /start, then the bare URL with a short line, paired by one rid', async () => {
    const from = pings().length;
    const result = await runCli(['run', await pipelineFile()], { env: env(await freshBucket()) });
    expect(result.code).toBe(0);
    expect(received(from)).toEqual(['POST /start', 'POST (bare)']);
    const [start, success] = pings().slice(from);
    expect(start!.rid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(success!.rid).toBe(start!.rid);
    expect(success!.body).toMatch(/^Clara DB backup complete: clara_\d{8}_\d{6}\.sql\.gz \([\d.]+ [KM]?B\) in [\d.]+ s$/);
    expectNoSecret(result.stderr + result.stdout);
  });

  it('a failed run (no such database) pings /start, then /fail with the error, its hint and the log tail, and no secret', async () => {
    const from = pings().length;
    const result = await runCli(['run', await pipelineFile()], { env: env(await freshBucket(), { DATABASE_URL: pg15.url('no_such_db') }) });
    expect(result.code).toBe(1);
    // The source fails taking its lock, after the start ping: the monitor sees the run begin and fail.
    expect(received(from)).toEqual(['POST /start', 'POST /fail']);
    const fail = pings().at(-1)!;
    expect(fail.rid).toBe(pings().at(-2)!.rid);
    const lines = fail.body.split('\n');
    expect(lines[0]).toMatch(/^Clara DB backup failed: .*no_such_db/);
    expect(lines[1]).toBe('Code: SOURCE_FAILED');
    expect(lines[2]).toBe('Hint: create the database, or fix its name in the URL');
    expect(lines).toContain('Last log lines:');
    expect(lines.slice(lines.indexOf('Last log lines:') + 1)).toContainEqual(expect.stringMatching(/^ERROR: Clara DB backup failed: .*no_such_db/));
    expectNoSecret(fail.body);
    expectNoSecret(result.stderr + result.stdout);
  });

  it('SIGTERM mid-dump: /start then /fail before the CLI exits non-zero, and nothing is stored', async () => {
    const bucket = await freshBucket();
    // A session holding an exclusive lock keeps pg_dump waiting mid-dump (as serve.test.ts does).
    const blocker = new pg.Client({ connectionString: pg15.url(claraDb) });
    await blocker.connect();
    const from = pings().length;
    try {
      const [table] = (await blocker.query<{ name: string }>(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'public' LIMIT 1",
      )).rows;
      await blocker.query(`BEGIN; LOCK TABLE ${table!.name} IN ACCESS EXCLUSIVE MODE`);
      const cli = startCli(['run', await pipelineFile()], { env: env(bucket), timeoutMs: 60_000 });
      await waitUntil(
        async () => Number((await pg15.query<{ n: string }>(claraDb, "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'"))[0]!.n) === 1,
        'pg_dump to wait on the lock',
      );
      expect(received(from)).toEqual(['POST /start']);
      cli.child.kill('SIGTERM');
      const result = await cli.result;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('ERROR: Clara DB backup failed: aborted: received SIGTERM');
      // Sent before the process exited: it is here once the exit is.
      expect(received(from)).toEqual(['POST /start', 'POST /fail']);
      const [start, fail] = pings().slice(from);
      expect(fail!.rid).toBe(start!.rid);
      expect(fail!.body.split('\n')[0]).toBe('Clara DB backup failed: aborted: received SIGTERM');
      expectNoSecret(fail!.body);
    } finally {
      await blocker.end();
    }
    expect(await s3.listKeys(bucket)).toEqual([]);
  });

  it('a second run within the respawn window pings /start, then success (skipped: a recent backup exists)', async () => {
    const bucket = await freshBucket();
    const file = await pipelineFile();
    expect((await runCli(['run', file], { env: env(bucket) })).code).toBe(0);
    const from = pings().length;
    const again = await runCli(['run', file], { env: env(bucket) });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/Clara DB backup skipped: /);
    expect(received(from)).toEqual(['POST /start', 'POST (bare)']);
    expect(pings().at(-1)!.rid).toBe(pings().at(-2)!.rid);
    expect(pings().at(-1)!.body).toMatch(/^Clara DB backup skipped: .*respawn protection: 23 hours/);
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
  });

  it('options the schema refuses stop the run at load: exit 2, one line each, nothing pinged', async () => {
    const file = await pipelineFile();
    await writeFile(file, (await readFile(file, 'utf8')).replace('with: { url: "${PING_URL}" }', 'with: { url: "${PING_URL}", failPath: fail, method: PUT }'));
    const from = pings().length;
    const result = await runCli(['run', file], { env: env(await freshBucket()) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/jobs\.clara\.notify\[0\]\.with\.failPath: must be empty, a \/path, a \?query or a \/path\?query\n/);
    expect(result.stderr).toMatch(/jobs\.clara\.notify\[0\]\.with\.method: /);
    expect(received(from)).toEqual([]);
    expectNoSecret(result.stderr);
  });

  it('a monitor that is down does not change the result: the backup is stored, one WARN line per ping, no URL', async () => {
    const bucket = await freshBucket();
    const down = `http://127.0.0.1:${await closedPort()}/${CHECK}`;
    const result = await runCli(['run', await pipelineFile()], { env: env(bucket, { PING_URL: down }) });
    expect(result.code).toBe(0);
    const warnings = result.stderr.split('\n').filter((line) => line.includes('WARN'));
    // One for the start ping and one for the success ping, whatever the retries.
    expect(warnings).toEqual([
      expect.stringMatching(/ - WARN: ping: could not send start to http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED after 3 attempts$/),
      expect.stringMatching(/ - WARN: ping: could not send success to http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED after 3 attempts$/),
    ]);
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
    expectNoSecret(result.stderr + result.stdout);
  });
});
