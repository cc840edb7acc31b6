import { spawnSync } from 'node:child_process';
import { startHttpReceiver, type HttpReceiver } from '@backupctl/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI_ENTRY, cliEnvironment } from '../harness/cli.js';
import { startProcess } from '../harness/process.js';
import { TEST_PG_PASSWORD, closedPort, referenceEnv, runCli, seedClaraDatabase, uniqueName, usePostgres, useS3, writeClaraPipeline } from '../harness/index.js';
import { writeHeldPipeline } from './held-source.js';

// Structured logs, the progress line, and failure notifications, through the CLI.

const pg15 = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const claraDb = uniqueName('clara_main');
// Control characters other than newline: what a progress line would leave in a log file.
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F]/;

function jobEnv(bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return referenceEnv(pg15, { clara: claraDb }, bucket, { overrides });
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('logs-test');
  await s3.createBucket(bucket);
  return bucket;
}

/** Every stderr line parsed as JSON; fails the test on a line that is not one object. */
function jsonLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const record = JSON.parse(line) as unknown;
      expect(record, line).toBeTypeOf('object');
      expect(record).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), level: expect.any(String), message: expect.any(String) });
      return record as Record<string, unknown>;
    });
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(TEST_PG_PASSWORD);
  expect(text).not.toContain(encodeURIComponent(TEST_PG_PASSWORD));
  expect(text).not.toContain(s3Info.secretAccessKey);
}

beforeAll(async () => {
  await pg15.createDatabase(claraDb);
  await seedClaraDatabase(pg15, claraDb);
});

describe('--log-format json', () => {
  it('prints one JSON object a line, with job, event, bytes and duration, and no secret', async () => {
    const bucket = await freshBucket();
    const result = await runCli(['run', '--log-format', 'json'], { env: jobEnv(bucket) });
    expect(result.code).toBe(0);
    expectNoSecret(result.stderr);
    const records = jsonLines(result.stderr);
    expect(records[0]).toMatchObject({ level: 'info', message: 'Starting backup...', event: 'run-started' });
    expect(records.at(-1)).toMatchObject({ level: 'info', message: 'Backup complete', event: 'run-complete' });
    expect(records).toContainEqual(expect.objectContaining({ job: 'mem0', event: 'skipped', message: 'Mem0 DB backup skipped: MEM0_DATABASE_URL is not set' }));
    const complete = records.find((record) => record.event === 'complete')!;
    const [key] = await s3.listKeys(bucket, 'backups/');
    expect(complete).toMatchObject({
      level: 'info',
      job: 'clara',
      key,
      bytes: (await s3.getObject(bucket, key!)).length,
      sourceBytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      durationMs: expect.any(Number),
    });
    expect(complete.message).toMatch(/^Clara DB backup complete: clara_\d{8}_\d{6}\.sql\.gz \(/);
    // Plugins' lines carry the job too.
    expect(records).toContainEqual(expect.objectContaining({ job: 'clara', message: expect.stringMatching(/^Connected to PostgreSQL /) }));
  });

  it('a failed job and a fatal error are JSON lines too (BACKUPCTL_LOG_FORMAT works as the flag)', async () => {
    const bucket = await freshBucket();
    const failed = await runCli(['run', '--job', 'clara'], {
      env: jobEnv(bucket, { DATABASE_URL: pg15.url('no_such_db'), BACKUPCTL_LOG_FORMAT: 'json' }),
    });
    expect(failed.code).toBe(1);
    expectNoSecret(failed.stderr);
    const records = jsonLines(failed.stderr);
    expect(records).toContainEqual(
      expect.objectContaining({ level: 'error', job: 'clara', event: 'failed', code: 'SOURCE_FAILED', durationMs: expect.any(Number), message: expect.stringMatching(/^Clara DB backup failed: /) }),
    );
    // What to do about it: the record right after the failure.
    const failedAt = records.findIndex((record) => record.event === 'failed');
    expect(records[failedAt + 1]).toMatchObject({ level: 'info', job: 'clara', event: 'hint', code: 'SOURCE_FAILED', message: expect.stringMatching(/^Hint for Clara DB: \S/) });
    expect(records.at(-1)).toMatchObject({ level: 'error', event: 'run-failed' });

    const bad = await runCli(['run', '--log-format=json'], { env: { S3_BUCKET: 'b' } });
    expect(bad.code).toBe(2);
    expect(jsonLines(bad.stderr)).toEqual([
      expect.objectContaining({ level: 'error', event: 'exit', exitCode: 2, message: expect.stringMatching(/^Error: .*environment variable DATABASE_URL is not set/) }),
    ]);
  });
});

describe('progress', () => {
  it('off a terminal: the reference log lines only, no control characters', async () => {
    const bucket = await freshBucket();
    const file = await writeHeldPipeline({ bucket, s3: s3Info, mib: 2, holdMs: 1200 });
    const result = await runCli(['run', file], { env: { HELD_S3_SECRET: s3Info.secretAccessKey } });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(CONTROL);
    expect(result.stdout).not.toMatch(CONTROL);
    expect(result.stderr).not.toContain(' read, ');
    for (const line of result.stderr.trim().split('\n')) expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - /);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('on a terminal: a progress line redrawn in place, cleared before the next log line', async () => {
    const bucket = await freshBucket();
    const file = await writeHeldPipeline({ bucket, s3: s3Info, mib: 2, holdMs: 1200 });
    // script(1) gives the CLI a pseudo-terminal, as a user's shell would.
    const command = [process.execPath, CLI_ENTRY, 'run', file].map((arg) => `'${arg}'`).join(' ');
    const tty = startProcess('script', ['-qefc', command, '/dev/null'], {
      env: cliEnvironment({ HELD_S3_SECRET: s3Info.secretAccessKey }),
      timeoutMs: 60_000,
    });
    const result = await tty.result;
    expect(result.code).toBe(0);
    const output = result.stdout.replaceAll('\r\n', '\n');
    // eslint-disable-next-line no-control-regex -- the terminal's erase-line sequence is what is checked
    expect(output).toMatch(/\r\u001B\[KHeld DB: [\d.]+ (KB|MB) read, [\d.]+ (B|KB|MB) stored, [\d.]+ (B|KB|MB)\/s, 0:0\d/);
    // The status is wiped before the "complete" line, which starts at the left edge.
    // eslint-disable-next-line no-control-regex -- as above
    expect(output).toMatch(/\r\u001B\[K\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - Held DB backup complete: held_\d{8}_\d{6}\.bin\.gz/);
    // JSON logs never get one.
    const json = await startProcess('script', ['-qefc', `${command} --log-format json`, '/dev/null'], {
      env: cliEnvironment({ HELD_S3_SECRET: s3Info.secretAccessKey, FORCE_BACKUP: 'true' }),
      timeoutMs: 60_000,
    }).result;
    expect(json.code).toBe(0);
    expect(json.stdout.replaceAll('\r\n', '\n')).not.toMatch(CONTROL);
  });
});

describe('webhook hook', () => {
  let receiver: HttpReceiver;
  let hookUrl = '';
  let since = 0;
  /** What the receiver got since `since`, bodies parsed. */
  const received = () => receiver.requests.slice(since).map((request) => ({ path: request.path, body: request.json() as Record<string, unknown> }));

  beforeAll(async () => {
    receiver = await startHttpReceiver([{ status: 200, body: 'ok' }]);
    hookUrl = `${receiver.url}/services/T0/B0/tok-9f8e7d6c`;
  });
  afterAll(() => receiver?.close());

  const pipelineFile = () => writeClaraPipeline({ sinkHooks: ['- use: webhook', '  with: { url: "${WEBHOOK_URL}", on: [error, success], timeoutSeconds: 5 }'] });

  it('POSTs a Slack/Discord-compatible summary when a backup fails and when one is committed, and never logs its URL', async () => {
    const file = await pipelineFile();
    const bucket = await freshBucket();
    since = receiver.requests.length;
    const failed = await runCli(['run', file], { env: jobEnv(bucket, { DATABASE_URL: pg15.url('no_such_db'), WEBHOOK_URL: hookUrl }) });
    expect(failed.code).toBe(1);
    expect(received()).toHaveLength(1);
    expect(received()[0]!.path).toBe('/services/T0/B0/tok-9f8e7d6c');
    expect(received()[0]!.body).toMatchObject({
      text: expect.stringMatching(/^Clara DB backup failed: .*no_such_db/),
      job: 'clara',
      title: 'Clara DB',
      result: 'failed',
      error: { code: 'SOURCE_FAILED', message: expect.any(String) },
    });
    expect(received()[0]!.body.content).toBe(received()[0]!.body.text);
    expectNoSecret(JSON.stringify(received()[0]!.body));

    const ok = await runCli(['run', file, '--debug'], { env: jobEnv(bucket, { WEBHOOK_URL: hookUrl }) });
    expect(ok.code).toBe(0);
    const [key] = await s3.listKeys(bucket, 'backups/');
    expect(received()[1]!.body).toMatchObject({
      text: expect.stringMatching(new RegExp(`^Clara DB backup complete: ${key!.split('/').pop()!.replaceAll('.', '\\.')} \\(`)),
      result: 'succeeded',
      key,
      bytes: (await s3.getObject(bucket, key!)).length,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(ok.stderr).toMatch(/webhook: notified http:\/\/127\.0\.0\.1:\d+ \(success\)/);
    for (const output of [failed.stderr, ok.stderr, failed.stdout, ok.stdout]) expect(output).not.toContain('tok-9f8e7d6c');
  });

  it('a receiver that is down does not change the result: a warning, and the backup stands', async () => {
    const file = await pipelineFile();
    const bucket = await freshBucket();
    const down = `http://127.0.0.1:${await closedPort()}/hook`;
    const result = await runCli(['run', file], { env: jobEnv(bucket, { WEBHOOK_URL: down }) });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/WARN: webhook: could not send success to http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED after 3 attempts/);
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
  });
});
