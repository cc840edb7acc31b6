import { afterEach, describe, expect, it } from 'vitest';
import { checkSchema } from '@backupctl/plugin-api';
import { createTestNotifier, sampleNotification, startHttpReceiver, type HttpReceiver, type ReceiverAnswer } from '@backupctl/plugin-api/testing';
import telegram from '../src/index.js';

const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const TOKEN = '123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0';
const sent = (text = '') => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ok: true, result: { message_id: 42, text } }) });

/** A local stand-in for api.telegram.org, answering as the Bot API does. */
async function botApi(answers: ReceiverAnswer[] = [sent()]) {
  const service = await startHttpReceiver(answers);
  receivers.push(service);
  return service;
}

const failure = sampleNotification('failure', {
  title: 'Clara & Co DB',
  error: { code: 'SOURCE_FAILED', message: 'pg_dump: relation <users> does not exist', hint: 'check DATABASE_URL' },
});
const success = sampleNotification('success');
const test = sampleNotification('test');

describe('telegram notifier', () => {
  it('POSTs sendMessage to <apiUrl>/bot<token>/ with the chat, HTML text with every value escaped', async () => {
    const api = await botApi();
    const { notify } = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '-1001234567890', apiUrl: `${api.url}/` });
    await expect(notify(failure)).resolves.toBe(true);
    const [request] = api.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json()).toEqual({
      chat_id: '-1001234567890',
      parse_mode: 'HTML',
      text: [
        '<b>Clara &amp; Co DB backup failed</b>',
        '<b>Job:</b> clara',
        '<b>Result:</b> failed',
        '<b>Duration:</b> 1.2 s',
        '<b>Error:</b> pg_dump: relation &lt;users&gt; does not exist',
        '<b>Hint:</b> check DATABASE_URL',
      ].join('\n'),
    });
  });

  it('a success (when on: asks) with size, duration and key; a test whatever on: says; a numeric chatId from YAML', async () => {
    const api = await botApi();
    const quiet = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '42', apiUrl: api.url });
    await expect(quiet.notify(success)).resolves.toBe(false);
    expect(api.requests).toHaveLength(0);

    // YAML reads chatId: 42 as a number; the schema takes it as the string it is.
    const loud = await createTestNotifier(telegram, { botToken: TOKEN, chatId: 42, apiUrl: api.url, on: ['success'] });
    await loud.notify(success);
    expect(api.requests[0]!.json()).toMatchObject({
      chat_id: '42',
      text: [
        '<b>Clara DB backup succeeded</b>',
        '<b>Job:</b> clara',
        '<b>Result:</b> succeeded',
        '<b>Size:</b> 4.2 MB',
        '<b>Duration:</b> 1 min 5 s',
        '<b>Key:</b> backups/clara/clara_20260301_030007.sql.gz',
      ].join('\n'),
    });
    await expect(loud.notify(test)).resolves.toBe(true);
    expect(api.requests[1]!.json()).toMatchObject({ text: '<b>Clara DB test notification</b>\n<b>Job:</b> clara\n<b>Result:</b> test' });
  });

  it('a message: template replaces the text, escaped; a long one is cut to 4096 characters', async () => {
    const api = await botApi();
    const { notify } = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '@clara_ops', apiUrl: api.url, message: '{title} {result}: {error}' });
    await notify(failure);
    expect(api.requests[0]!.json()).toMatchObject({ chat_id: '@clara_ops', text: 'Clara &amp; Co DB failed: pg_dump: relation &lt;users&gt; does not exist' });

    await notify({ ...failure, title: 'Clara', error: { code: 'SOURCE_FAILED', message: 'x'.repeat(9000) } });
    expect((api.requests[1]!.json() as { text: string }).text.length).toBe(4096);
    const plain = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '1', apiUrl: api.url });
    await plain.notify({ ...failure, error: { code: 'SOURCE_FAILED', message: 'y'.repeat(9000), hint: 'check DATABASE_URL' } });
    const text = (api.requests[2]!.json() as { text: string }).text;
    // What Telegram counts: the text once its tags are parsed.
    expect(text.replace(/<\/?b>/g, '').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>').length).toBeLessThanOrEqual(4096);
    expect(text).toContain('<b>Hint:</b> check DATABASE_URL');
  });

  it('an answer with ok: false is a failure, with what the Bot API said and never the token', async () => {
    const api = await botApi([{ status: 200, body: JSON.stringify({ ok: false, error_code: 400, description: `Bad Request: chat not found for bot${TOKEN}` }) }]);
    const { notify } = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '7', apiUrl: api.url });
    const message = await notify(failure).then(() => '', (error: Error) => error.message);
    expect(message).toBe('the Bot API refused the message: Bad Request: chat not found for bot***');

    const proxy = await botApi([{ status: 200, body: '<html>captive portal</html>' }]);
    const behindProxy = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '7', apiUrl: proxy.url });
    expect(await behindProxy.notify(failure).then(() => '', (error: Error) => error.message)).toBe('the Bot API answered with something other than JSON');
  });

  it('retries on 5xx, then succeeds', async () => {
    const api = await botApi([{ status: 502 }, sent()]);
    const { notify } = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '7', apiUrl: api.url, retries: 1 });
    await expect(notify(failure)).resolves.toBe(true);
    expect(api.requests).toHaveLength(2);
  });

  it('a refused or unreachable API is a rejection that never holds the token (it is in the URL), masked as a secret', async () => {
    const api = await botApi([
      { status: 400, body: JSON.stringify({ ok: false, error_code: 400, description: 'Bad Request: chat not found' }) },
      { status: 401, body: '<html>401</html>' },
    ]);
    const { notify, redact } = await createTestNotifier(telegram, { botToken: TOKEN, chatId: '7', apiUrl: api.url, retries: 1 });
    // A 4xx is not retried; what the Bot API said comes with it.
    const refused = await notify(failure).then(() => '', (error: Error) => error.message);
    expect(refused).toBe('HTTP 400 after 1 attempt: Bad Request: chat not found');
    expect(await notify(failure).then(() => '', (error: Error) => error.message)).toBe('HTTP 401 after 1 attempt');
    await api.close();
    const down = await notify(failure).then(() => '', (error: Error) => error.message);
    expect(down).toBe('ECONNREFUSED after 2 attempts');
    for (const message of [refused, down]) expect(message).not.toContain('AAHfiqks');
    expect(redact(`${api.url}/bot${TOKEN}/sendMessage`)).not.toContain('AAHfiqks');
  });

  it('refuses, when the pipeline loads, a missing or malformed token, a bad chat id, an unknown template field', () => {
    const options: Record<string, unknown> = { botToken: TOKEN, chatId: -1001234567890 };
    expect(checkSchema(telegram.schema, options)).toEqual([]);
    expect(options).toEqual({
      botToken: TOKEN,
      chatId: '-1001234567890',
      apiUrl: 'https://api.telegram.org',
      on: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
      timeoutSeconds: 10,
      retries: 2,
    });
    expect(checkSchema(telegram.schema, { chatId: '7' })).toEqual([{ path: ['botToken'], message: 'is required' }]);
    const malformed = checkSchema(telegram.schema, { botToken: 'AAHfiqksKZ8WmR2z', chatId: '7' });
    expect(malformed).toEqual([{ path: ['botToken'], message: 'must be the token @BotFather gave (123456789:AA...)' }]);
    // The refusal never quotes the value: it is a credential.
    expect(JSON.stringify(malformed)).not.toContain('AAHfiqks');
    expect(checkSchema(telegram.schema, { botToken: TOKEN, chatId: 'my group' })).toEqual([
      { path: ['chatId'], message: 'must be a chat id (123456789, -1001234567890) or a public channel (@name)' },
    ]);
    expect(checkSchema(telegram.schema, { botToken: TOKEN, chatId: '7', message: '{job} {host}' })).toEqual([
      expect.objectContaining({ path: ['message'], message: expect.stringContaining('may only use the fields') }),
    ]);
  });
});
