import { afterEach, describe, expect, it } from 'vitest';
import { checkSchema } from '@backupctl/plugin-api';
import { createTestNotifier, sampleNotification, startHttpReceiver, type HttpReceiver, type ReceiverAnswer } from '@backupctl/plugin-api/testing';
import slack, { type SlackMessage } from '../src/index.js';

const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

/** A local stand-in for hooks.slack.com, answering `ok` as Slack does. */
async function slackService(answers: ReceiverAnswer[] = [{ status: 200, body: 'ok' }]) {
  const service = await startHttpReceiver(answers);
  receivers.push(service);
  return { ...service, webhookUrl: `${service.url}/services/T0AAA/B0BBB/xoxsecret123` };
}

const failure = sampleNotification('failure', {
  error: { code: 'SOURCE_FAILED', message: 'pg_dump: database "nope" does not exist', hint: 'check DATABASE_URL & the <database> name' },
});
const success = sampleNotification('success');
const test = sampleNotification('test');
const { at } = failure;

describe('slack notifier', () => {
  it('posts a failure as Block Kit: a header, the facts as fields, a context line, and the summary as the fallback text', async () => {
    const service = await slackService();
    const { notify } = await createTestNotifier(slack, { webhookUrl: service.webhookUrl });
    await expect(notify(failure)).resolves.toBe(true);
    expect(service.requests).toHaveLength(1);
    const [request] = service.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/services/T0AAA/B0BBB/xoxsecret123');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json()).toEqual({
      text: 'Clara DB backup failed: pg_dump: database "nope" does not exist',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: ':rotating_light: Clara DB backup failed', emoji: true } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Job*\nclara' },
            { type: 'mrkdwn', text: '*Result*\nfailed' },
            { type: 'mrkdwn', text: '*Duration*\n1.2 s' },
            { type: 'mrkdwn', text: '*Error*\npg_dump: database "nope" does not exist' },
            // Slack's own markup characters are escaped, so a <database> is no link.
            { type: 'mrkdwn', text: '*Hint*\ncheck DATABASE_URL &amp; the &lt;database&gt; name' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `backupctl · failure · <!date^${Date.parse(at) / 1000}^{date_short_pretty} {time}|${at}>` }] },
      ],
    } satisfies SlackMessage);
  });

  it('sends a success only when on: asks for it, with size, duration and key; a test whatever on: says', async () => {
    const service = await slackService();
    const quiet = await createTestNotifier(slack, { webhookUrl: service.webhookUrl });
    await expect(quiet.notify(success)).resolves.toBe(false);
    expect(service.requests).toHaveLength(0);

    const loud = await createTestNotifier(slack, { webhookUrl: service.webhookUrl, on: ['success'] });
    await expect(loud.notify(success)).resolves.toBe(true);
    const body = service.requests[0]!.json() as SlackMessage;
    expect(body.text).toBe(success.summary);
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: ':white_check_mark: Clara DB backup succeeded', emoji: true } });
    expect(body.blocks[1]).toEqual({
      type: 'section',
      fields: ['*Job*\nclara', '*Result*\nsucceeded', '*Size*\n4.2 MB', '*Duration*\n1 min 5 s', '*Key*\nbackups/clara/clara_20260301_030007.sql.gz'].map((text) => ({ type: 'mrkdwn', text })),
    });

    await expect(loud.notify(test)).resolves.toBe(true);
    const sent = service.requests[1]!.json() as SlackMessage;
    expect(sent.text).toBe('Clara DB: a test message from backupctl notify-test');
    expect(sent.blocks[0]).toMatchObject({ text: { text: ':information_source: Clara DB test notification' } });
  });

  it('a message: template becomes the text and the first section, the facts stay; it is text, so it pings nobody', async () => {
    const service = await slackService();
    const { notify } = await createTestNotifier(slack, { webhookUrl: service.webhookUrl, message: '<!here> {title} {result}: {error}' });
    await notify(failure);
    const body = service.requests[0]!.json() as SlackMessage;
    const text = '&lt;!here&gt; Clara DB failed: pg_dump: database "nope" does not exist';
    expect(body.text).toBe(text);
    expect(body.blocks.map((block) => block.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(body.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text } });
  });

  it('keeps within Slack\'s limits: a 5000-character error is cut in its field', async () => {
    const service = await slackService();
    const { notify } = await createTestNotifier(slack, { webhookUrl: service.webhookUrl });
    const long = 'x'.repeat(5000);
    await notify({ ...failure, summary: `Clara DB backup failed: ${long}`, error: { code: 'SOURCE_FAILED', message: long } });
    const body = service.requests[0]!.json() as SlackMessage;
    expect(body.text.length).toBeLessThanOrEqual(3000);
    for (const field of (body.blocks[1] as { fields: { text: string }[] }).fields) expect(field.text.length).toBeLessThanOrEqual(2000);
  });

  it('retries on 5xx, then succeeds', async () => {
    const service = await slackService([{ status: 503 }, { status: 200, body: 'ok' }]);
    const { notify } = await createTestNotifier(slack, { webhookUrl: service.webhookUrl, retries: 1 });
    await expect(notify(failure)).resolves.toBe(true);
    expect(service.requests).toHaveLength(2);
    expect(service.requests[1]!.json()).toEqual(service.requests[0]!.json());
  });

  it('a refused or unreachable webhook is a rejection that never holds its URL, which is masked as a secret', async () => {
    const service = await slackService([{ status: 404, body: 'no_service' }]);
    const { notify, redact } = await createTestNotifier(slack, { webhookUrl: service.webhookUrl, retries: 1 });
    const refused = await notify(failure).then(() => undefined, (error: Error) => error.message);
    // A 404 is not retried: the URL is wrong and stays wrong.
    expect(refused).toBe('HTTP 404 after 1 attempt: no_service');
    expect(service.requests).toHaveLength(1);
    await service.close();
    const down = await notify(failure).then(() => undefined, (error: Error) => error.message);
    expect(down).toMatch(/^ECONNREFUSED after 2 attempts$/);
    expect(redact(`posting to ${service.webhookUrl} failed; path /services/T0AAA/B0BBB/xoxsecret123`)).not.toContain('xoxsecret123');
  }, 30_000);

  it('refuses, when the pipeline loads, a missing or empty URL, an unknown event and an unknown template field', () => {
    const options: Record<string, unknown> = { webhookUrl: 'https://hooks.slack.com/services/T/B/x' };
    expect(checkSchema(slack.schema, options)).toEqual([]);
    expect(options).toEqual({
      webhookUrl: 'https://hooks.slack.com/services/T/B/x',
      on: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
      timeoutSeconds: 10,
      retries: 2,
    });
    expect(checkSchema(slack.schema, {})).toEqual([{ path: ['webhookUrl'], message: 'is required' }]);
    expect(checkSchema(slack.schema, { webhookUrl: '' })).toEqual([
      { path: ['webhookUrl'], message: 'must be the incoming webhook URL Slack gave (https://hooks.slack.com/services/...)' },
    ]);
    expect(checkSchema(slack.schema, { webhookUrl: 'https://x/y', on: ['sometimes'] })).not.toEqual([]);
    expect(checkSchema(slack.schema, { webhookUrl: 'https://x/y', channel: '#ops' })).toEqual([
      expect.objectContaining({ path: ['channel'], message: expect.stringMatching(/^is not a known option/) }),
    ]);
    expect(checkSchema(slack.schema, { webhookUrl: 'https://x/y', message: '{job} {sise}' })).toEqual([
      expect.objectContaining({ path: ['message'], message: expect.stringContaining('may only use the fields {job}, {title}') }),
    ]);
  });
});
