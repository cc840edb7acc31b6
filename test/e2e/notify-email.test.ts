import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatSize } from '@backupctl/plugin-api';
import { TEST_PG_PASSWORD, referenceEnv, runCli, seedClaraDatabase, uniqueName, usePostgres, useS3, writeClaraPipeline, type CliResult } from '../harness/index.js';
import { startSmtpServer, type TestSmtpServer } from '../harness/smtp.js';

// `use: email` in a job's notify: list, through the built CLI, against the
// run's PostgreSQL and S3 server and a real SMTP server (STARTTLS, a login).

const pg = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const claraDb = uniqueName('clara_email');
const SMTP_USER = 'backups@example.com';
const SMTP_PASSWORD = 'smtp-e2e-Pa55-9c1d';

let smtp: TestSmtpServer;

beforeAll(async () => {
  smtp = await startSmtpServer({ security: 'starttls', auth: { username: SMTP_USER, password: SMTP_PASSWORD } });
  await pg.createDatabase(claraDb);
  await seedClaraDatabase(pg, claraDb);
});
afterAll(async () => {
  await smtp?.stop();
});

/** A pipeline whose clara job emails through `email` (the notifier's `with:` lines, YAML flow style). */
function pipelineFile(email: Record<string, string>): Promise<string> {
  const options = {
    host: '127.0.0.1',
    port: '"${SMTP_PORT}"',
    username: SMTP_USER,
    password: '"${SMTP_PASSWORD}"',
    ca: '"${SMTP_CA}"',
    from: '"backupctl <backups@example.com>"',
    to: 'ops@example.com',
    timeoutSeconds: '5',
    ...email,
  };
  return writeClaraPipeline({ jobLines: ['notify:', '  - use: email', '    with:', ...Object.entries(options).map(([option, value]) => `      ${option}: ${value}`)] });
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('email-test');
  await s3.createBucket(bucket);
  return bucket;
}

function env(bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return referenceEnv(pg, { clara: claraDb }, bucket, {
    overrides: { SMTP_PORT: String(smtp.port), SMTP_PASSWORD, SMTP_CA: smtp.caFile!, ...overrides },
  });
}

function expectNoSecret(...results: CliResult[]): void {
  for (const { stdout, stderr } of results) {
    for (const output of [stdout, stderr]) {
      expect(output).not.toContain(SMTP_PASSWORD);
      expect(output).not.toContain(TEST_PG_PASSWORD);
      expect(output).not.toContain(s3Info.secretAccessKey);
    }
  }
}

describe('email notifier', () => {
  it('a failed run (the database does not exist) sends one email with the error, the hint and the log tail', async () => {
    const file = await pipelineFile({});
    const before = smtp.received.length;
    const result = await runCli(['run', file, '--debug'], { env: env(await freshBucket(), { DATABASE_URL: pg.url('no_such_db') }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/email: notified smtp:\/\/127\.0\.0\.1:\d+ \(failure\)/);
    const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
    expect(smtp.received).toHaveLength(before + 1);
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe(SMTP_USER);
    expect(mail!.envelope.to).toEqual(['ops@example.com']);
    expect(mail!.parsed.subject).toBe('[backupctl] Clara DB backup failed');
    const text = mail!.parsed.text!;
    expect(text).toMatch(/^Clara DB backup failed: .*no_such_db/);
    expect(text).toMatch(/^Error: +.*no_such_db.* \(SOURCE_FAILED\)$/m);
    expect(text).toMatch(/^Hint: +\S/m);
    // The run's last log lines, as the core hands them over.
    expect(text).toMatch(/^Last log lines:\n(?: {2}.*\n)* {2}ERROR: Clara DB backup failed: .*no_such_db/m);
    expect(text).not.toContain(TEST_PG_PASSWORD);
    expectNoSecret(result);
  });

  it('a successful run with on: [success] sends one email with the key and size', async () => {
    const file = await pipelineFile({ on: '[success]' });
    const bucket = await freshBucket();
    const before = smtp.received.length;
    const result = await runCli(['run', file], { env: env(bucket) });
    expect(result.code, result.stderr).toBe(0);
    const [key] = await s3.listKeys(bucket, 'backups/');
    const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
    expect(smtp.received).toHaveLength(before + 1);
    expect(mail!.parsed.subject).toBe('[backupctl] Clara DB backup complete');
    const text = mail!.parsed.text!;
    expect(text).toMatch(new RegExp(`^Key: +${key!.replaceAll('.', '\\.')}$`, 'm'));
    expect(text).toMatch(new RegExp(`^Size: +${formatSize((await s3.getObject(bucket, key!)).length).replace('.', '\\.')} \\(`, 'm'));
    expectNoSecret(result);
  });

  it('an invalid to: stops the run at load: exit 2, one line naming the option', async () => {
    const file = await pipelineFile({ to: 'ops.example.com' });
    const bucket = await freshBucket();
    const before = smtp.received.length;
    const result = await runCli(['run', file], { env: env(bucket) });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/backupctl\.yml:\d+:\d+: jobs\.clara\.notify\[0\]\.with\.to: must be an email address: name@example\.com/);
    expect(await s3.listKeys(bucket)).toEqual([]);
    expect(smtp.received).toHaveLength(before);
  });

  it('an SMTP server that is down does not change the result: a WARN line, and the backup stands', async () => {
    const down = await startSmtpServer({ security: 'none' });
    const port = String(down.port);
    await down.stop();
    const file = await pipelineFile({ on: '[success]', retries: '1' });
    const bucket = await freshBucket();
    const result = await runCli(['run', file], { env: env(bucket, { SMTP_PORT: port }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`WARN: email: could not send success to smtp://127\\.0\\.0\\.1:${port}: connection refused after 2 attempts$`, 'm'));
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
    expectNoSecret(result);
  });
});
