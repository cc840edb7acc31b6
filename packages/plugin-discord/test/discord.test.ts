import { afterEach, describe, expect, it } from 'vitest';
import { checkSchema } from '@backupctl/plugin-api';
import { createTestNotifier, sampleNotification, startHttpReceiver, type HttpReceiver, type ReceiverAnswer } from '@backupctl/plugin-api/testing';
import discord, { type DiscordMessage } from '../src/index.js';

const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

/** A local stand-in for discord.com's webhooks, answering 204 as Discord does without ?wait=true. */
async function discordService(answers: ReceiverAnswer[] = [{ status: 204 }]) {
  const service = await startHttpReceiver(answers);
  receivers.push(service);
  return { ...service, webhookUrl: `${service.url}/api/webhooks/123456789/tokEn-SeCrEt_42` };
}

const RED = 0xd83c3e;
const GREEN = 0x2ea043;
const failure = sampleNotification('failure', {
  error: { code: 'SOURCE_FAILED', message: 'pg_dump: database "nope" does not exist @everyone', hint: 'check DATABASE_URL' },
});
const success = sampleNotification('success');
const test = sampleNotification('test');
const { at } = failure;

/** Every text Discord counts toward an embed's 6000 characters. */
const embedLength = (message: DiscordMessage) => {
  const [embed] = message.embeds;
  return embed.title.length + embed.footer.text.length + embed.fields.reduce((sum, field) => sum + field.name.length + field.value.length, 0);
};

describe('discord notifier', () => {
  it('posts a failure as one red embed: the headline, the facts as fields (short ones inline), pinging nobody', async () => {
    const service = await discordService();
    const { notify } = await createTestNotifier(discord, { webhookUrl: service.webhookUrl });
    await expect(notify(failure)).resolves.toBe(true);
    const [request] = service.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/api/webhooks/123456789/tokEn-SeCrEt_42');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json()).toEqual({
      embeds: [
        {
          title: 'Clara DB backup failed',
          color: RED,
          fields: [
            { name: 'Job', value: 'clara', inline: true },
            { name: 'Result', value: 'failed', inline: true },
            { name: 'Duration', value: '1.2 s', inline: true },
            { name: 'Error', value: 'pg_dump: database "nope" does not exist @everyone', inline: false },
            { name: 'Hint', value: 'check DATABASE_URL', inline: false },
          ],
          footer: { text: 'backupctl · failure' },
          timestamp: at,
        },
      ],
      allowed_mentions: { parse: [] },
    } satisfies DiscordMessage);
  });

  it('a success is green with size, duration and key, sent only when on: asks; a test is sent whatever on: says; username when given', async () => {
    const service = await discordService();
    const quiet = await createTestNotifier(discord, { webhookUrl: service.webhookUrl });
    await expect(quiet.notify(success)).resolves.toBe(false);
    expect(service.requests).toHaveLength(0);

    const loud = await createTestNotifier(discord, { webhookUrl: service.webhookUrl, on: ['success'], username: 'Backups' });
    await loud.notify(success);
    const body = service.requests[0]!.json() as DiscordMessage;
    expect(body.username).toBe('Backups');
    expect(body.content).toBeUndefined();
    expect(body.embeds[0]).toMatchObject({ title: 'Clara DB backup succeeded', color: GREEN });
    expect(body.embeds[0].fields.map(({ name, value }) => `${name}: ${value}`)).toEqual([
      'Job: clara',
      'Result: succeeded',
      'Size: 4.2 MB',
      'Duration: 1 min 5 s',
      'Key: backups/clara/clara_20260301_030007.sql.gz',
    ]);

    await expect(loud.notify(test)).resolves.toBe(true);
    expect((service.requests[1]!.json() as DiscordMessage).embeds[0]).toMatchObject({ title: 'Clara DB test notification', footer: { text: 'backupctl · test' } });
  });

  it('a message: template is the content above the embed', async () => {
    const service = await discordService();
    const { notify } = await createTestNotifier(discord, { webhookUrl: service.webhookUrl, message: '**{title}** {result} after {duration}' });
    await notify(failure);
    const body = service.requests[0]!.json() as DiscordMessage;
    expect(body.content).toBe('**Clara DB** failed after 1.2 s');
    expect(body.embeds[0].title).toBe('Clara DB backup failed');
  });

  it("keeps within Discord's limits: content 2000, a field 1024, the embed 6000", async () => {
    const service = await discordService();
    const { notify } = await createTestNotifier(discord, { webhookUrl: service.webhookUrl, message: '{error}' });
    const long = 'x'.repeat(9000);
    await notify({ ...failure, error: { code: 'SOURCE_FAILED', message: long, hint: 'h'.repeat(3000) }, reasons: ['r'.repeat(3000)], key: 'k'.repeat(3000) });
    const body = service.requests[0]!.json() as DiscordMessage;
    expect(body.content!.length).toBe(2000);
    for (const field of body.embeds[0].fields) expect(field.value.length).toBeLessThanOrEqual(1024);
    expect(embedLength(body)).toBeLessThanOrEqual(6000);
    expect(body.embeds[0].fields.find((field) => field.name === 'Job')!.value).toBe('clara');
  });

  it('retries on 5xx, then succeeds', async () => {
    const service = await discordService([{ status: 502 }, { status: 204 }]);
    const { notify } = await createTestNotifier(discord, { webhookUrl: service.webhookUrl, retries: 1 });
    await expect(notify(failure)).resolves.toBe(true);
    expect(service.requests).toHaveLength(2);
  });

  it('a refused or unreachable webhook is a rejection that never holds its token, which is masked as a secret', async () => {
    const service = await discordService([{ status: 401, body: '{"message": "Invalid Webhook Token", "code": 50027}' }]);
    const { notify, redact } = await createTestNotifier(discord, { webhookUrl: service.webhookUrl, retries: 1 });
    expect(await notify(failure).then(() => '', (error: Error) => error.message)).toBe('HTTP 401 after 1 attempt');
    await service.close();
    const down = await notify(failure).then(() => '', (error: Error) => error.message);
    expect(down).toBe('ECONNREFUSED after 2 attempts');
    expect(redact(`POST ${service.webhookUrl}: /api/webhooks/123456789/tokEn-SeCrEt_42`)).not.toContain('tokEn-SeCrEt_42');
  });

  it('refuses, when the pipeline loads, a missing URL, a too long username and an unknown template field', () => {
    const options: Record<string, unknown> = { webhookUrl: 'https://discord.com/api/webhooks/1/x' };
    expect(checkSchema(discord.schema, options)).toEqual([]);
    expect(options).toMatchObject({ on: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'], timeoutSeconds: 10, retries: 2 });
    expect(checkSchema(discord.schema, {})).toEqual([{ path: ['webhookUrl'], message: 'is required' }]);
    expect(checkSchema(discord.schema, { webhookUrl: 'discord.com/api/webhooks/1/x' })).toEqual([
      { path: ['webhookUrl'], message: 'must be the webhook URL Discord gave (https://discord.com/api/webhooks/...)' },
    ]);
    expect(checkSchema(discord.schema, { webhookUrl: 'https://x/y', username: 'u'.repeat(81) })).toEqual([expect.objectContaining({ path: ['username'] })]);
    expect(checkSchema(discord.schema, { webhookUrl: 'https://x/y', message: '{tittle}' })).toEqual([
      expect.objectContaining({ path: ['message'], message: expect.stringContaining('may only use the fields') }),
    ]);
  });
});
