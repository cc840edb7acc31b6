import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { BackupctlError, checkSchema } from '@backupctl/plugin-api';
import { createTestNotifier, sampleNotification, startHttpReceiver, type HttpReceiver } from '@backupctl/plugin-api/testing';
import ping, { BODY_LIMIT_BYTES, capBytes, pingBody, pingUrl } from '../src/index.js';

interface Ping {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

/** A local monitor answering each ping with the next status (the last one repeats). */
async function monitor(statuses: number[] = [200]) {
  const receiver = await startHttpReceiver(statuses.map((status) => ({ status, body: 'OK' })));
  receivers.push(receiver);
  return {
    get pings(): Ping[] {
      return receiver.requests.map(({ method, path, headers, body }) => {
        const url = new URL(path, 'http://monitor');
        return { method, path: url.pathname, query: url.searchParams, headers, body };
      });
    },
    origin: receiver.url,
  };
}

const CHECK = '/5f0e8a1c-7b1d-4c1e-9a57-3f0b2d6c9e41';
// What backupctl gives every event of one run (outside a run there is none).
const RUN = { runId: '0b9a3c1e-2f4d-4e6a-8b7c-1d2e3f4a5b6c' };
const OTHER_RUN = { runId: '7e6d5c4b-3a29-4187-9f6e-5d4c3b2a1908' };

/** A ping notifier as backupctl creates it for one run (options checked, defaults filled in). */
const notifier = (options: Record<string, unknown>) => createTestNotifier(ping, options, { job: 'clara' });

describe('ping notifier: options', () => {
  it('defaults to healthchecks.io: POST, /start, the bare URL, /fail, /log, rid; start, success, failure and skipped', () => {
    const options: Record<string, unknown> = { url: `https://hc-ping.com${CHECK}` };
    expect(checkSchema(ping.schema, options)).toEqual([]);
    expect(options).toEqual({
      url: `https://hc-ping.com${CHECK}`,
      method: 'POST',
      startPath: '/start',
      successPath: '',
      failPath: '/fail',
      logPath: '/log',
      runIdParam: 'rid',
      on: ['start', 'success', 'failure', 'skipped'],
      timeoutSeconds: 10,
      retries: 2,
    });
  });

  it('refuses what is not an http(s) URL, a method other than GET/POST, a suffix that is neither a path nor a query, an unknown event or template field', () => {
    const problems = (options: Record<string, unknown>) => checkSchema(ping.schema, options).map(({ path, message }) => `${path.join('.')} ${message}`);
    expect(problems({ url: 'ftp://hc-ping.com/x' })).toEqual(['url must be an http(s) URL (or empty)']);
    expect(problems({ url: 'https://hc ping.com/x' })).toEqual(['url must be an http(s) URL (or empty)']);
    expect(problems({})).toEqual([expect.stringMatching(/url/)]);
    expect(problems({ url: 'https://x/y', method: 'PUT' })).toEqual([expect.stringMatching(/^method /)]);
    expect(problems({ url: 'https://x/y', failPath: 'fail' })).toEqual(['failPath must be empty, a /path, a ?query or a /path?query']);
    expect(problems({ url: 'https://x/y', successPath: '/ok#here' })).toHaveLength(1);
    expect(problems({ url: 'https://x/y', messageParam: 'm sg' })).toHaveLength(1);
    expect(problems({ url: 'https://x/y', on: ['sometimes'] })).not.toEqual([]);
    expect(problems({ url: 'https://x/y', message: '{job} {sise}' })).toEqual([expect.stringContaining('may only use the fields {job}, {title}')]);
    // Uptime Kuma's and Cronitor's shapes pass.
    expect(problems({ url: 'https://kuma.example/api/push/Ab12Cd34?status=up&msg=OK&ping=', successPath: '?status=up', failPath: '?status=down', messageParam: 'msg' })).toEqual([]);
    expect(problems({ url: 'https://cronitor.link/p/key123/nightly', startPath: '?state=run', successPath: '?state=complete', failPath: '?state=fail', method: 'GET' })).toEqual([]);
  });

  it('an empty URL (an unset ${PING_URL:-}) turns it off: no notify, nothing registered as secret', async () => {
    const { instance, context } = await notifier({ url: '' });
    expect(instance.notify).toBeUndefined();
    expect(context.secrets.redact?.('https://hc-ping.com/x')).toBe('https://hc-ping.com/x');
  });

  it('refuses a URL the schema lets through but no URL parser reads, as one line naming the step', async () => {
    const refused = await notifier({ url: 'https://[not-an-ip]/x' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BackupctlError);
    expect((refused as BackupctlError).message).toBe('ping: url is not a valid URL');
    expect((refused as BackupctlError).code).toBe('CONFIG_INVALID');
  });

  it('registers the URL and its path as secrets; the target for log lines is the origin alone', async () => {
    const { instance, redact } = await notifier({ url: `https://hc-ping.com${CHECK}` });
    expect(instance.target).toBe('https://hc-ping.com');
    expect(redact(`went to https://hc-ping.com${CHECK}/fail?rid=1`)).not.toContain(CHECK.slice(1));
    expect(redact(`path ${CHECK}`)).toBe('path ***');
  });
});

describe('ping notifier: pings', () => {
  it("a run: POST /start, then the bare URL with a short line, both with the run's id as rid", async () => {
    const hc = await monitor();
    const { notify } = await notifier({ url: `${hc.origin}${CHECK}` });
    expect(await notify(sampleNotification('start', RUN))).toBe(true);
    expect(await notify(sampleNotification('success', RUN))).toBe(true);
    expect(hc.pings.map(({ method, path }) => [method, path])).toEqual([
      ['POST', `${CHECK}/start`],
      ['POST', CHECK],
    ]);
    const [start, success] = hc.pings;
    expect(start!.query.get('rid')).toBe(RUN.runId);
    expect(success!.query.get('rid')).toBe(start!.query.get('rid'));
    expect(start!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(start!.body).toBe('Clara DB backup started');
    expect(success!.body).toBe('Clara DB backup complete: clara_20260301_030007.sql.gz (4.2 MB) in 1 min 5 s');
  });

  it('overlapping runs keep their own rid; a skipped run pings success', async () => {
    const hc = await monitor();
    const first = await notifier({ url: `${hc.origin}${CHECK}` });
    const second = await notifier({ url: `${hc.origin}${CHECK}` });
    await first.notify(sampleNotification('start', RUN));
    await second.notify(sampleNotification('start', OTHER_RUN));
    await first.notify(sampleNotification('success', RUN));
    await second.notify(sampleNotification('failure', OTHER_RUN));
    expect(hc.pings.map(({ query }) => query.get('rid'))).toEqual([RUN.runId, OTHER_RUN.runId, RUN.runId, OTHER_RUN.runId]);

    const skipped = await notifier({ url: `${hc.origin}${CHECK}` });
    await skipped.notify(sampleNotification('skipped', RUN));
    const last = hc.pings.at(-1)!;
    expect([last.method, last.path, last.query.get('rid'), last.body]).toEqual([
      'POST',
      CHECK,
      RUN.runId,
      'Clara DB backup skipped: last backup 2026-03-01 02:10:03 UTC (50 minutes ago); next allowed after 2026-03-02 01:10:03 UTC (respawn protection: 23 hours)',
    ]);
  });

  it('a failure: /fail with the error line, its code and hint, then the log tail', async () => {
    const hc = await monitor();
    const { notify } = await notifier({ url: `${hc.origin}${CHECK}` });
    await notify(sampleNotification('start', RUN));
    await notify(sampleNotification('failure', RUN));
    const fail = hc.pings[1]!;
    expect([fail.method, fail.path, fail.query.get('rid')]).toEqual(['POST', `${CHECK}/fail`, hc.pings[0]!.query.get('rid')]);
    expect(fail.body).toBe(
      [
        'Clara DB backup failed: pg_dump: database "nope" does not exist',
        'Code: SOURCE_FAILED',
        'Hint: check DATABASE_URL',
        '',
        'Last log lines:',
        'ERROR: Clara DB backup failed: pg_dump: database "nope" does not exist',
        'INFO: Hint for Clara DB: check DATABASE_URL',
      ].join('\n'),
    );
  });

  it('the problems a user lists ping fail; verified and recovered ping success; notify-test pings /log without a rid', async () => {
    const hc = await monitor();
    const { notify } = await notifier({ url: `${hc.origin}${CHECK}`, on: ['copy-failed', 'anomaly', 'verify-failed', 'stale', 'verified', 'recovered'] });
    for (const kind of ['copy-failed', 'anomaly', 'verify-failed', 'stale', 'verified', 'recovered', 'test', 'start', 'success'] as const) await notify(sampleNotification(kind));
    expect(hc.pings.map(({ path }) => path.slice(CHECK.length) || '(bare)')).toEqual(['/fail', '/fail', '/fail', '/fail', '(bare)', '(bare)', '/log']);
    expect(hc.pings.some(({ query }) => query.has('rid'))).toBe(false);
  });

  it('a run failed by its verification pings fail once, as verify-failed, to a notifier listening for it', async () => {
    const hc = await monitor();
    const { notify } = await notifier({ url: `${hc.origin}${CHECK}`, on: ['failure', 'verify-failed'] });
    await notify(sampleNotification('failure', { error: { code: 'VERIFY_FAILED', message: 'rows differ' } }));
    expect(hc.pings.map(({ path }) => path)).toEqual([`${CHECK}/fail`]);
  });

  it('GET sends no body; a message template fills the body and the message parameter', async () => {
    const hc = await monitor();
    const get = await notifier({ url: `${hc.origin}${CHECK}`, method: 'GET' });
    await get.notify(sampleNotification('failure', { logTail: ['ERROR: boom'] }));
    expect(hc.pings[0]).toMatchObject({ method: 'GET', path: `${CHECK}/fail`, body: '' });

    const templated = await notifier({ url: `${hc.origin}${CHECK}`, message: '{title} {result}: {error}', messageParam: 'msg' });
    await templated.notify(sampleNotification('failure', { error: { code: 'SOURCE_FAILED', message: 'boom' }, logTail: ['ERROR: boom'] }));
    expect(hc.pings[1]!.body.split('\n').slice(0, 2)).toEqual(['Clara DB failed: boom', 'Code: SOURCE_FAILED']);
    expect(hc.pings[1]!.query.get('msg')).toBe('Clara DB failed: boom');
  });

  it("Uptime Kuma's push URL: the suffixes' query replaces status, msg carries the line, the path stays", async () => {
    const kuma = await monitor();
    const { notify } = await notifier({
      url: `${kuma.origin}/api/push/Ab12Cd34Ef?status=up&msg=OK&ping=`,
      method: 'GET',
      on: ['success', 'failure', 'skipped'],
      successPath: '?status=up',
      failPath: '?status=down',
      messageParam: 'msg',
    });
    await notify(sampleNotification('start'));
    await notify(sampleNotification('success'));
    await notify(sampleNotification('failure'));
    expect(kuma.pings.map(({ method, path, query }) => [method, path, query.get('status'), query.get('msg'), query.get('ping'), query.has('rid')])).toEqual([
      ['GET', '/api/push/Ab12Cd34Ef', 'up', 'Clara DB backup complete: clara_20260301_030007.sql.gz (4.2 MB) in 1 min 5 s', '', false],
      ['GET', '/api/push/Ab12Cd34Ef', 'down', 'Clara DB backup failed: pg_dump: database "nope" does not exist', '', false],
    ]);
  });

  it('a ping the monitor refuses rejects with one line that holds no URL, after the retries', async () => {
    const hc = await monitor([503, 404]);
    const { notify } = await notifier({ url: `${hc.origin}${CHECK}`, retries: 1 });
    const error = await notify(sampleNotification('start')).then(
      () => undefined,
      (rejection: unknown) => rejection as Error,
    );
    expect(error?.message).toBe('HTTP 404 after 2 attempts');
    expect(error?.message).not.toContain(CHECK.slice(1));
    expect(hc.pings).toHaveLength(2);
  });
});

describe('ping URL and body', () => {
  it('appends a path to the URL path (one slash), merges a query, and sets the parameters', () => {
    expect(pingUrl(`https://hc-ping.com${CHECK}`, '/start', { rid: 'r1' })).toBe(`https://hc-ping.com${CHECK}/start?rid=r1`);
    expect(pingUrl(`https://hc-ping.com${CHECK}/`, '/fail')).toBe(`https://hc-ping.com${CHECK}/fail`);
    expect(pingUrl(`https://hc-ping.com${CHECK}`, '')).toBe(`https://hc-ping.com${CHECK}`);
    expect(pingUrl('https://hc-ping.com/pingkey/db-backup', '/start')).toBe('https://hc-ping.com/pingkey/db-backup/start');
    expect(pingUrl('https://cronitor.link/p/key/nightly', '?state=run', { message: 'a b&c' })).toBe('https://cronitor.link/p/key/nightly?state=run&message=a+b%26c');
    expect(pingUrl('https://kuma.example/api/push/T?status=up&msg=OK&ping=', '?status=down')).toBe('https://kuma.example/api/push/T?status=down&msg=OK&ping=');
  });

  it(`caps a failure's body at healthchecks.io's ${BODY_LIMIT_BYTES} bytes, dropping the oldest log lines first`, () => {
    // 20 lines of ~10 kB: the newest 9 fit beside the head, not 10.
    const tail = Array.from({ length: 20 }, (_, index) => `INFO: line ${index} ${'x'.repeat(10_000)}`);
    const body = pingBody(sampleNotification('failure', { error: { code: 'SOURCE_FAILED', message: 'boom' }, logTail: tail }), 'Clara DB backup failed: boom');
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(BODY_LIMIT_BYTES);
    const lines = body.split('\n');
    expect(lines.slice(0, 4)).toEqual(['Clara DB backup failed: boom', 'Code: SOURCE_FAILED', '', 'Last log lines (11 older left out to stay within 100000 bytes):']);
    expect(lines.slice(4).map((line) => line.slice(0, 14).trim())).toEqual(Array.from({ length: 9 }, (_, index) => `INFO: line ${index + 11}`));
    expect(lines.at(-1)).toBe(tail.at(-1));
    // A single line over the limit is cut, never through a character.
    const huge = pingBody(sampleNotification('failure'), 'é'.repeat(BODY_LIMIT_BYTES));
    expect(Buffer.byteLength(huge)).toBeLessThanOrEqual(BODY_LIMIT_BYTES);
    expect(huge).toMatch(/^é+ \[cut\]$/);
    expect(capBytes('short', 10)).toBe('short');
  });
});
