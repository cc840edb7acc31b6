import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema, type HookInstance, type Notification } from '@backupctl/plugin-api';
import { sampleNotification, testContext } from '@backupctl/plugin-api/testing';
import email from '../src/index.js';
import { makeTempDir, removeTempDir } from '../../../test/harness/temp-dir.js';
import { startSmtpServer, type TestSmtpServer } from '../../../test/harness/smtp.js';

// The notifier against a real SMTP server (the harness's smtp-server, in
// this process): what arrives is what mailparser reads of the real bytes.

const USER = 'backups@example.com';
const PASSWORD = 'smtp-Pa55-word-7f3a';

const failure = sampleNotification('failure');
const success = sampleNotification('success', { tables: 12 });

/** The options as backupctl hands them over: checked, defaults filled in. */
function checked(options: Record<string, unknown>): Record<string, unknown> {
  const filled = structuredClone(options);
  expect(checkSchema(email.schema, filled)).toEqual([]);
  return filled;
}

function create(options: Record<string, unknown>) {
  const test = testContext({ use: 'email', job: 'clara' });
  const instance = email.create(checked(options) as never, test.context) as HookInstance;
  return { instance, test, notify: (notification: Notification) => instance.notify!(notification, AbortSignal.timeout(30_000)) };
}

let starttls: TestSmtpServer;
let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('backupctl-email-');
  starttls = await startSmtpServer({ security: 'starttls', auth: { username: USER, password: PASSWORD } });
});
afterAll(async () => {
  await starttls?.stop();
  await removeTempDir(dir);
});

const loggedIn = () => ({ host: starttls.host, port: starttls.port, username: USER, password: PASSWORD, ca: starttls.caFile, from: `backupctl <${USER}>` });

describe('email notifier', () => {
  it('over STARTTLS with a login, trusting the test CA from a file: a failure email with the error, hint and log tail', async () => {
    const { notify, instance, test } = create({ ...loggedIn(), to: ['ops@example.com', 'Dana Ops <dana@example.org>'], cc: 'audit@example.com' });
    expect(instance.target).toBe(`smtp://127.0.0.1:${starttls.port}`);
    expect(test.registered).toContain(PASSWORD);
    const before = starttls.received.length;
    expect(await notify(failure)).toBe(true);

    const [mail] = (await starttls.waitForMessages(before + 1)).slice(before);
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe(USER);
    expect(mail!.envelope).toEqual({ from: USER, to: ['ops@example.com', 'dana@example.org', 'audit@example.com'] });
    const { parsed } = mail!;
    expect(parsed.subject).toBe('[backupctl] Clara DB backup failed');
    expect(parsed.from?.value).toEqual([{ address: USER, name: 'backupctl' }]);
    expect(parsed.cc).toMatchObject({ value: [{ address: 'audit@example.com' }] });
    const text = parsed.text!;
    expect(text.split('\n')[0]).toBe(failure.summary);
    expect(text).toMatch(/^Job: +clara \(Clara DB\)$/m);
    expect(text).toMatch(/^Event: +failure \(failed\)$/m);
    expect(text).toMatch(/^Error: +pg_dump: database "nope" does not exist \(SOURCE_FAILED\)$/m);
    expect(text).toMatch(/^Hint: +check DATABASE_URL$/m);
    expect(text).toMatch(/^Duration: +1\.2 s$/m);
    expect(text).toContain(`Last log lines:\n  ${failure.logTail![0]}\n  ${failure.logTail![1]}\n`);
    // The HTML alternative says the same, escaped.
    expect(parsed.html).toContain('database &#34;nope&#34; does not exist');
    expect(parsed.html).toContain('<pre style="font-size:12px">ERROR: Clara DB backup failed: pg_dump: database &#34;nope&#34; does not exist');
    expect(JSON.stringify(mail)).not.toContain(PASSWORD);
  });

  it('a success email, when on: asks for it, with the key, size, checksum and tables', async () => {
    const { notify } = create({ ...loggedIn(), to: 'ops@example.com', on: ['success'] });
    const before = starttls.received.length;
    expect(await notify(failure)).toBe(false);
    expect(await notify(success)).toBe(true);
    const [mail] = (await starttls.waitForMessages(before + 1)).slice(before);
    expect(mail!.parsed.subject).toBe('[backupctl] Clara DB backup complete');
    const text = mail!.parsed.text!;
    expect(text).toMatch(/^Key: +backups\/clara\/clara_20260301_030007\.sql\.gz$/m);
    expect(text).toMatch(/^Size: +4\.2 MB \(18\.4 MB before transforms\)$/m);
    expect(text).toMatch(/^Duration: +1 min 5 s$/m);
    expect(text).toMatch(/^SHA-256: +64427adf0d6d019faf86ed2923b8be4dbcfde4fa6d3aa0e3541a571c30fc5657$/m);
    expect(text).toMatch(/^Tables: +12$/m);
    expect(text).not.toContain('Last log lines');
    expect(starttls.received).toHaveLength(before + 1);
  });

  it('over implicit TLS (the CA given as PEM text), with subject and message templates', async () => {
    const server = await startSmtpServer({ security: 'tls' });
    try {
      const { notify, instance } = create({
        host: server.host,
        port: server.port,
        security: 'tls',
        ca: server.ca,
        from: USER,
        to: 'ops@example.com',
        subjectPrefix: '',
        subject: '{title}: {result} ({size})',
        message: '{job} {result}: {key}',
        on: ['success'],
      });
      expect(instance.target).toBe(`smtps://127.0.0.1:${server.port}`);
      await notify(success);
      const [mail] = await server.waitForMessages(1);
      expect(mail!.secure).toBe(true);
      expect(mail!.parsed.subject).toBe('Clara DB: succeeded (4.2 MB)');
      expect(mail!.parsed.text).toBe('clara succeeded: backups/clara/clara_20260301_030007.sql.gz\n');
      expect(mail!.parsed.html).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it('security: none sends in plain text to a relay that offers no TLS; starttls refuses that relay', async () => {
    const relay = await startSmtpServer({ security: 'none' });
    try {
      const plain = create({ host: relay.host, port: relay.port, security: 'none', from: USER, to: 'ops@example.com' });
      await plain.notify(failure);
      const [mail] = await relay.waitForMessages(1);
      expect(mail!.secure).toBe(false);
      expect(mail!.parsed.subject).toBe('[backupctl] Clara DB backup failed');

      const strict = create({ host: relay.host, port: relay.port, from: USER, to: 'ops@example.com', retries: 0 });
      await expect(strict.notify(failure)).rejects.toThrow(/^the server does not offer STARTTLS \(500 [^)]*\): security: starttls never sends in clear text/);
      expect(relay.received).toHaveLength(1);
    } finally {
      await relay.stop();
    }
  });

  it('a wrong password is refused at once (no retry), and the rejection never holds the password', async () => {
    const wrong = 'not-the-Pa55-word';
    const { notify, test } = create({ ...loggedIn(), password: wrong, to: 'ops@example.com', retries: 2 });
    const started = Date.now();
    const rejection = await notify(failure).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(rejection?.message).toBe('authentication failed: 535 Authentication failed');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(test.registered).toContain(wrong);
    expect(JSON.stringify(rejection, Object.getOwnPropertyNames(rejection))).not.toContain(wrong);
  });

  it('a certificate signed by an unknown CA is refused, unless insecureSkipVerify says otherwise', async () => {
    const { ca: _ca, ...untrusted } = loggedIn();
    await expect(create({ ...untrusted, to: 'ops@example.com' }).notify(failure)).rejects.toThrow(
      /^certificate not trusted: unable to verify the first certificate \(a private CA: give its certificate as ca\)$/,
    );
    const before = starttls.received.length;
    await create({ ...untrusted, to: 'ops@example.com', insecureSkipVerify: true }).notify(failure);
    await starttls.waitForMessages(before + 1);
  });

  it('a server that is down: connection refused, after the retries', async () => {
    const gone = await startSmtpServer({ security: 'none' });
    const { port } = gone;
    await gone.stop();
    const { notify } = create({ host: '127.0.0.1', port, security: 'none', from: USER, to: 'ops@example.com', retries: 1 });
    await expect(notify(failure)).rejects.toThrow(/^connection refused after 2 attempts$/);
  });

  it('a server that never answers: no answer within timeoutSeconds, each attempt', async () => {
    const silent = createServer(() => {
      // Accepts the connection and never says a word.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const { notify } = create({ host: '127.0.0.1', port, security: 'tls', from: USER, to: 'ops@example.com', timeoutSeconds: 0.5, retries: 0 });
      await expect(notify(failure)).rejects.toThrow(/^no answer within 0\.5 s$/);
    } finally {
      silent.close();
    }
  });

  it('the schema refuses an invalid address, an unknown template field, a URL for a host; accepts a display name and fills defaults', () => {
    const base = { host: 'smtp.example.com', from: USER, to: 'ops@example.com' };
    const filled = checked(base);
    expect(filled).toEqual({ ...base, security: 'starttls', subjectPrefix: '[backupctl]', insecureSkipVerify: false, on: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'], timeoutSeconds: 10, retries: 2 });
    expect(create(base).instance.target).toBe('smtp://smtp.example.com:587');
    expect(create({ ...base, security: 'tls' }).instance.target).toBe('smtps://smtp.example.com:465');

    const problems = (options: Record<string, unknown>) => checkSchema(email.schema, { ...base, ...options });
    const invalidAddress = 'must be an email address: name@example.com or "Name <name@example.com>"; several go in a list, one address each';
    expect(problems({ to: 'ops.example.com' })).toEqual([{ path: ['to'], message: invalidAddress }]);
    expect(problems({ to: 'ops@example.com, dana@example.org' })).toEqual([{ path: ['to'], message: invalidAddress }]);
    expect(problems({ to: ['ops@example.com', 'dana@'] })).toEqual([{ path: ['to', 1], message: invalidAddress }]);
    expect(problems({ cc: 'not an address' })).toEqual([{ path: ['cc'], message: invalidAddress }]);
    expect(problems({ from: '<backups@example.com' })).toEqual([{ path: ['from'], message: invalidAddress }]);
    expect(problems({ to: [] })).toEqual([{ path: ['to'], message: expect.stringContaining('fewer than 1') }]);
    expect(problems({ to: ['Dana Ops <dana@example.org>', 'root@localhost'], from: 'backupctl <backups@example.com>' })).toEqual([]);

    const fields = expect.stringMatching(/^may only use the fields \{job\}, \{title\}/);
    expect(problems({ message: '{title} {sise}' })).toEqual([{ path: ['message'], message: fields }]);
    expect(problems({ subject: '{titel} failed' })).toEqual([{ path: ['subject'], message: fields }]);
    expect(problems({ host: 'smtp://smtp.example.com' })).toEqual([{ path: ['host'], message: expect.stringContaining('without scheme, port or user') }]);
    expect(problems({ security: 'ssl' })).toEqual([{ path: ['security'], message: 'must be one of "starttls", "tls", "none"' }]);
  });

  it('refuses at creation a password without a user and a CA file it cannot read; does nothing with an empty host', async () => {
    const base = { host: 'smtp.example.com', from: USER, to: 'ops@example.com' };
    expect(() => create({ ...base, password: PASSWORD })).toThrow(/^email: give username and password together/);
    expect(() => create({ ...base, username: USER, password: '' })).toThrow(/^email: give username and password together/);
    expect(create({ ...base, username: '', password: '' }).instance.target).toBe('smtp://smtp.example.com:587');
    expect(() => create({ ...base, ca: `${dir}/missing.pem` })).toThrow(`email: ca: cannot read ${dir}/missing.pem: ENOENT`);
    await writeFile(`${dir}/not-a-cert.pem`, 'hello\n');
    expect(() => create({ ...base, ca: `${dir}/not-a-cert.pem` })).toThrow(/^email: ca: .*not-a-cert\.pem holds no PEM certificate/);
    expect(create({ ...base, host: '' }).instance).toEqual({});
  });
});
