import { afterEach, describe, expect, it } from 'vitest';
import { checkSchema } from '@backupctl/plugin-api';
import { createTestNotifier, sampleNotification, startHttpReceiver, type HttpReceiver, type ReceiverAnswer } from '@backupctl/plugin-api/testing';
import ntfy, { type NtfyMessage } from '../src/index.js';

const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const published = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"id":"hwQ2YpKdmg","event":"message"}' };

/** A local stand-in for an ntfy server. */
async function ntfyServer(answers: ReceiverAnswer[] = [published]) {
  const service = await startHttpReceiver(answers);
  receivers.push(service);
  return service;
}

const failure = sampleNotification('failure', { title: 'Base de données' });
const success = sampleNotification('success');
const test = sampleNotification('test');

describe('ntfy notifier', () => {
  it('publishes a failure as JSON to the server root: title (any script), the summary and hint, high priority, tags', async () => {
    const server = await ntfyServer();
    const { notify } = await createTestNotifier(ntfy, { server: `${server.url}/`, topic: 'clara-backups-x7Gq' });
    await expect(notify(failure)).resolves.toBe(true);
    const [request] = server.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.json()).toEqual({
      topic: 'clara-backups-x7Gq',
      title: 'Base de données backup failed',
      message: 'Base de données backup failed: pg_dump: database "nope" does not exist\nHint: check DATABASE_URL',
      priority: 4,
      tags: ['rotating_light', 'clara'],
    } satisfies NtfyMessage);
  });

  it('a success at default priority (when on: asks), a test whatever on: says; a token as Bearer, a user as Basic', async () => {
    const server = await ntfyServer();
    const quiet = await createTestNotifier(ntfy, { server: server.url, topic: 'ops' });
    await expect(quiet.notify(success)).resolves.toBe(false);
    expect(server.requests).toHaveLength(0);

    const withToken = await createTestNotifier(ntfy, { server: server.url, topic: 'ops', token: 'tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2', on: ['success'] });
    await withToken.notify(success);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2');
    expect(server.requests[0]!.json()).toEqual({
      topic: 'ops',
      title: 'Clara DB backup succeeded',
      message: 'Clara DB backup complete: clara_20260301_030007.sql.gz (4.2 MB)',
      priority: 3,
      tags: ['white_check_mark', 'clara'],
    });

    const withUser = await createTestNotifier(ntfy, { server: server.url, topic: 'ops', username: 'phil', password: 'mypass-9f8e' });
    await expect(withUser.notify(test)).resolves.toBe(true);
    expect(server.requests[1]!.headers.authorization).toBe(`Basic ${Buffer.from('phil:mypass-9f8e').toString('base64')}`);
    expect(server.requests[1]!.json()).toMatchObject({ title: 'Clara DB test notification', message: test.summary, priority: 3, tags: ['information_source', 'clara'] });
  });

  it('a message: template is the text; a long one is cut under 4096 bytes (ntfy would make it an attachment)', async () => {
    const server = await ntfyServer();
    const { notify } = await createTestNotifier(ntfy, { server: server.url, topic: 'ops', message: '{title}: {result} after {duration}' });
    await notify(failure);
    expect(server.requests[0]!.json()).toMatchObject({ title: 'Base de données backup failed', message: 'Base de données: failed after 1.2 s' });

    const long = await createTestNotifier(ntfy, { server: server.url, topic: 'ops', message: '{error}' });
    await long.notify({ ...failure, error: { code: 'SOURCE_FAILED', message: 'données '.repeat(1000) } });
    const { message } = server.requests[1]!.json() as NtfyMessage;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(4096);
    expect(message.endsWith('…')).toBe(true);
  });

  it('retries on 5xx, then succeeds', async () => {
    const server = await ntfyServer([{ status: 503 }, published]);
    const { notify } = await createTestNotifier(ntfy, { server: server.url, topic: 'ops', retries: 1 });
    await expect(notify(failure)).resolves.toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('a refused or unreachable server is a rejection that never holds the token or password, which are masked', async () => {
    const server = await ntfyServer([{ status: 403, body: '{"code":40301,"http":403,"error":"forbidden"}' }]);
    const { notify, redact } = await createTestNotifier(ntfy, { server: server.url, topic: 'ops', token: 'tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2', retries: 1 });
    expect(await notify(failure).then(() => '', (error: Error) => error.message)).toBe('HTTP 403 after 1 attempt');
    await server.close();
    expect(await notify(failure).then(() => '', (error: Error) => error.message)).toBe('ECONNREFUSED after 2 attempts');
    expect(redact('Authorization: Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2')).toBe('Authorization: Bearer ***');
    const user = await createTestNotifier(ntfy, { server: server.url, topic: 'ops', username: 'phil', password: 'mypass-9f8e' });
    expect(user.redact('phil:mypass-9f8e')).toBe('phil:***');
  });

  it('refuses a bad topic or server when the pipeline loads, and half a login when the job starts', async () => {
    const options: Record<string, unknown> = { topic: 'clara-backups' };
    expect(checkSchema(ntfy.schema, options)).toEqual([]);
    expect(options).toEqual({
      server: 'https://ntfy.sh',
      topic: 'clara-backups',
      on: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
      timeoutSeconds: 10,
      retries: 2,
    });
    expect(checkSchema(ntfy.schema, {})).toEqual([{ path: ['topic'], message: 'is required' }]);
    expect(checkSchema(ntfy.schema, { topic: 'clara/backups' })).toEqual([{ path: ['topic'], message: 'must be 1 to 64 letters, digits, - or _' }]);
    expect(checkSchema(ntfy.schema, { topic: 'ops', server: 'ntfy.sh' })).toEqual([expect.objectContaining({ path: ['server'] })]);
    expect(checkSchema(ntfy.schema, { topic: 'ops', token: '' })).toEqual([expect.objectContaining({ path: ['token'] })]);
    expect(checkSchema(ntfy.schema, { topic: 'ops', message: '{topic}' })).toEqual([
      expect.objectContaining({ path: ['message'], message: expect.stringContaining('may only use the fields') }),
    ]);
    await expect(createTestNotifier(ntfy, { topic: 'ops', username: 'phil' })).rejects.toThrow(/^ntfy: username and password go together$/);
    await expect(createTestNotifier(ntfy, { topic: 'ops', token: 'tk_x', username: 'phil', password: 'p' })).rejects.toThrow(/^ntfy: give a token or a username and password, not both$/);
  });
});
