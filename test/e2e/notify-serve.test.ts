import { setTimeout as sleep } from 'node:timers/promises';
import { startHttpReceiver, type HttpReceiver } from '@backupctl/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  TEST_PG_PASSWORD,
  closedPort,
  referenceEnv,
  runCli,
  seedClaraDatabase,
  startCli,
  uniqueName,
  usePostgres,
  useS3,
  writeClaraPipeline,
  type RunningCli,
} from '../harness/index.js';

// Notifications outside a backup: `notify-test`, and staleness under
// `serve` (the newest backup in the store older than staleAfterHours:
// /health, the metric, one `stale` and one `recovered` notification).

const pg = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const claraDb = uniqueName('clara_notify');

interface Received {
  path: string;
  body: { event: string; text: string; lastBackupAt?: string; staleAfterHours?: number };
}
let receiver: HttpReceiver;
let hookUrl = '';
/** Where received() starts: set by forget(). */
let since = 0;
/** What the webhook receiver got since the last forget(), its bodies parsed. */
const received = (): Received[] => receiver.requests.slice(since).map((request) => ({ path: request.path, body: request.json() as Received['body'] }));
const forget = () => (since = receiver.requests.length);

beforeAll(async () => {
  await pg.createDatabase(claraDb);
  await seedClaraDatabase(pg, claraDb);
  receiver = await startHttpReceiver([{ status: 200, body: 'ok' }]);
  hookUrl = `${receiver.url}/hooks/tok-5c4b3a29`;
});
afterAll(() => receiver?.close());

async function freshEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const bucket = uniqueName('notify');
  await s3.createBucket(bucket);
  return referenceEnv(pg, { clara: claraDb }, bucket, { overrides: { HOOK_URL: hookUrl, ...overrides } });
}

function expectNoSecret(text: string): void {
  for (const secret of [TEST_PG_PASSWORD, s3Info.secretAccessKey, 'tok-5c4b3a29']) expect(text).not.toContain(secret);
}

describe('notify-test', () => {
  it('sends the test event through every notifier whatever its on:, and says which worked (exit 1 when one failed)', async () => {
    const down = `http://127.0.0.1:${await closedPort()}/hooks/tok-5c4b3a29`;
    const file = await writeClaraPipeline({
      jobLines: ['notify:', '  - use: webhook', '    with: { url: "${HOOK_URL}", on: [stale] }', '  - use: webhook', '    with: { url: "${DOWN_URL}", retries: 0 }'],
    });
    forget();
    const result = await runCli(['notify-test', file], { env: await freshEnv({ DOWN_URL: down }) });
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^clara: webhook \(http:\/\/127\.0\.0\.1:\d+\) sent$/),
      expect.stringMatching(/^clara: webhook \(http:\/\/127\.0\.0\.1:\d+\) FAILED: ECONNREFUSED after 1 attempt$/),
      '1 of 2 notifiers failed',
    ]);
    expect(received()).toEqual([{ path: '/hooks/tok-5c4b3a29', body: expect.objectContaining({ event: 'test', text: 'Clara DB: a test message from backupctl notify-test' }) }]);
    expectNoSecret(result.stdout + result.stderr);

    // validate and plugins show the notifiers where they are.
    const validate = await runCli(['validate', file], { env: await freshEnv({ DOWN_URL: down }) });
    expect(validate.stdout).toContain('clara: postgres -> gzip -> s3 [notify: webhook, webhook]');
    const plugins = await runCli(['plugins', file, '--json'], { env: await freshEnv({ DOWN_URL: down }) });
    expect((JSON.parse(plugins.stdout) as { plugins: unknown[] }).plugins).toContainEqual(
      expect.objectContaining({ use: 'webhook', kind: 'hook', usedAt: ['jobs.clara.notify.0', 'jobs.clara.notify.1'] }),
    );

    const json = await runCli(['notify-test', file, '--json', '--job', 'clara'], { env: await freshEnv({ DOWN_URL: hookUrl }) });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      {
        job: 'clara',
        outcomes: [
          { use: 'webhook', target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), status: 'sent' },
          { use: 'webhook', target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), status: 'sent' },
        ],
      },
    ]);
  });

  it('a pipeline without notifiers, or with a template naming an unknown field, is one line and exit 2', async () => {
    const none = await runCli(['notify-test', await writeClaraPipeline()], { env: await freshEnv() });
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toEqual([expect.stringContaining('no notifiers to test in the selected jobs (add a `notify:` list to a job')]);

    const badTemplate = await writeClaraPipeline({ jobLines: ['notify:', '  - use: webhook', '    with: { url: "${HOOK_URL}", message: "{title} is {staus}" }'] });
    for (const command of [['notify-test'], ['run']]) {
      const result = await runCli([...command, badTemplate], { env: await freshEnv() });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/backupctl\.yml:12:\d+: jobs\.clara\.notify\[0\]\.with\.message: may only use the fields \{job\}, \{title\}/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('serve: staleness', () => {
  async function health(url: string) {
    return (await (await fetch(`${url}/health`)).json()) as {
      status: string;
      jobs: Record<string, { freshness: { stale: boolean; lastBackupAt: string | null; staleAfterHours: number } | null }>;
    };
  }
  async function staleMetric(url: string): Promise<string | undefined> {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text.split('\n').find((line) => line.startsWith('backupctl_stale{'));
  }
  async function waitFor(check: () => Promise<boolean> | boolean, what: string, cli: RunningCli, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the server's log:\n${cli.output().stderr}`);
      await sleep(200);
    }
  }
  const events = () => received().map(({ body }) => body.event);

  it('raises stale once when the newest backup is too old, recovered once a new one lands, stale again when it ages', async () => {
    // 0.002 h = 7.2 s: checked every second (a tenth of it, at least 1 s).
    const file = await writeClaraPipeline({ jobLines: ['staleAfterHours: 0.002', 'notify:', '  - use: webhook', '    with: { url: "${HOOK_URL}", on: [stale, recovered], retries: 0 }'] });
    const env = await freshEnv();
    forget();
    // The schedule (1 January) never fires during the test: only the store's age matters.
    const cli = startCli(['serve', file, '--schedule', '0 0 1 1 *', '--host', '127.0.0.1', '--port', '0'], { env, timeoutMs: 120_000 });
    try {
      await cli.waitForOutput(/Health server listening on http:\/\/127\.0\.0\.1:\d+/);
      const url = /Health server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.output().stderr)![1]!;
      await cli.waitForOutput(/Staleness watched: clara after 0\.002 h/);

      // No backup yet: fresh until the service has been up longer than the limit, then stale.
      expect((await health(url)).status).toBe('ok');
      await waitFor(async () => (await health(url)).status === 'stale', 'stale', cli);
      const stale = await health(url);
      expect(stale.jobs.clara!.freshness).toEqual({ stale: true, lastBackupAt: null, staleAfterHours: 0.002, checkedAt: expect.any(String) });
      expect(await staleMetric(url)).toBe('backupctl_stale{job="clara"} 1');
      await waitFor(() => events().length === 1, 'the stale notification', cli);
      // Checked every second: still one notification after a few more checks.
      await sleep(3_000);
      expect(events()).toEqual(['stale']);
      expect(received()[0]!.body.text).toBe('Clara DB backups are stale: the store holds no backup, more than 0.002 h ago');

      // Another process backs up (a cron job, a pod): the store says so, the service follows.
      const run = await runCli(['run', file], { env });
      expect(run.code).toBe(0);
      await waitFor(() => events().length === 2, 'the recovered notification', cli);
      expect(received()[1]!.body).toMatchObject({ event: 'recovered', lastBackupAt: expect.any(String), staleAfterHours: 0.002 });
      const fresh = await health(url);
      expect(fresh.status).toBe('ok');
      expect(fresh.jobs.clara!.freshness).toMatchObject({ stale: false, lastBackupAt: received()[1]!.body.lastBackupAt });
      expect(await staleMetric(url)).toBe('backupctl_stale{job="clara"} 0');

      // Nothing new for longer than the limit: stale again, once.
      await waitFor(() => events().length === 3, 'the second stale notification', cli);
      expect(events()).toEqual(['stale', 'recovered', 'stale']);
      expect(received()[2]!.body.text).toMatch(/^Clara DB backups are stale: the newest backup is from \d{4}-\d\d-\d\dT[\d:.]+Z, more than 0\.002 h ago$/);
    } finally {
      cli.child.kill('SIGTERM');
      const { code, stderr } = await cli.result;
      expect(code).toBe(0);
      expect(stderr.match(/WARN: Clara DB backups are stale/g)).toHaveLength(2);
      expectNoSecret(stderr);
    }
  });

  it('under a short schedule whose runs keep failing, the job turns stale once; recovered once its database is back', async () => {
    const database = uniqueName('clara_later');
    const file = await writeClaraPipeline({ jobLines: ['staleAfterHours: 0.002', 'notify:', '  - use: webhook', '    with: { url: "${HOOK_URL}", on: [stale, recovered], retries: 0 }'] });
    const env = await freshEnv({ DATABASE_URL: pg.url(database) });
    forget();
    // A run every two seconds; the database does not exist yet, so each one fails.
    const cli = startCli(['serve', file, '--schedule', '*/2 * * * * *', '--host', '127.0.0.1', '--port', '0'], { env, timeoutMs: 120_000 });
    try {
      await cli.waitForOutput(/Health server listening on http:\/\/127\.0\.0\.1:\d+/);
      const url = /Health server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.output().stderr)![1]!;
      await waitFor(() => events().length === 1, 'the stale notification', cli);
      expect(events()).toEqual(['stale']);
      const stale = await health(url);
      // Failing wins over stale in the overall status; the job says both.
      expect(stale.status).toBe('failing');
      expect(stale.jobs.clara!.freshness).toMatchObject({ stale: true, lastBackupAt: null });
      expect(cli.output().stderr).toMatch(/Clara DB backup failed: .*does not exist/);

      // The database comes back: the next scheduled run stores a backup, and the job recovers.
      await pg.createDatabase(database);
      await seedClaraDatabase(pg, database);
      await waitFor(() => events().length === 2, 'the recovered notification', cli);
      expect(events()).toEqual(['stale', 'recovered']);
      await waitFor(async () => (await health(url)).status === 'ok', 'the status ok', cli);
      expect((await health(url)).jobs.clara!.freshness).toMatchObject({ stale: false, lastBackupAt: expect.any(String) });
    } finally {
      cli.child.kill('SIGTERM');
      await cli.result;
    }
  });
});
