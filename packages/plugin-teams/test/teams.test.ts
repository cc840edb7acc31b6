import { afterEach, describe, expect, it } from 'vitest';
import { checkSchema } from '@backupctl/plugin-api';
import { createTestNotifier, sampleNotification, startHttpReceiver, type HttpReceiver, type ReceiverAnswer } from '@backupctl/plugin-api/testing';
import teams, { type AdaptiveCard, type TeamsMessage } from '../src/index.js';

const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const SIGNATURE = 'Zx9sIgNaTuRe-0123456789abcdef';

/** A local stand-in for a Workflows trigger URL, answering 202 as Power Automate does. */
async function teamsService(answers: ReceiverAnswer[] = [{ status: 202 }]) {
  const service = await startHttpReceiver(answers);
  receivers.push(service);
  const path = `/workflows/0a1b2c3d/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIGNATURE}`;
  return { ...service, path, webhookUrl: `${service.url}${path}` };
}

const failure = sampleNotification('failure');
const success = sampleNotification('success');
const test = sampleNotification('test');

const cardOf = (body: unknown) => (body as TeamsMessage).attachments[0].content;

describe('teams notifier', () => {
  it('posts a failure as a message with one Adaptive Card: the headline in red, the facts as a FactSet, the time', async () => {
    const service = await teamsService();
    const { notify } = await createTestNotifier(teams, { webhookUrl: service.webhookUrl });
    await expect(notify(failure)).resolves.toBe(true);
    const [request] = service.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(service.path);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json()).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              { type: 'TextBlock', text: 'Clara DB backup failed', size: 'Large', weight: 'Bolder', color: 'Attention', wrap: true },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Job', value: 'clara' },
                  { title: 'Result', value: 'failed' },
                  { title: 'Duration', value: '1.2 s' },
                  { title: 'Error', value: 'pg_dump: database "nope" does not exist' },
                  { title: 'Hint', value: 'check DATABASE_URL' },
                ],
              },
              { type: 'TextBlock', text: 'backupctl · failure · {{DATE(2026-03-01T03:00:07Z, SHORT)}} {{TIME(2026-03-01T03:00:07Z)}}', size: 'Small', isSubtle: true, wrap: true },
            ],
            msteams: { width: 'Full' },
          },
        },
      ],
    } satisfies TeamsMessage);
  });

  it('a success is green with its size and key, sent only when on: asks; a test whatever on: says', async () => {
    const service = await teamsService();
    const quiet = await createTestNotifier(teams, { webhookUrl: service.webhookUrl });
    await expect(quiet.notify(success)).resolves.toBe(false);
    expect(service.requests).toHaveLength(0);

    const loud = await createTestNotifier(teams, { webhookUrl: service.webhookUrl, on: ['success', 'failure'] });
    await loud.notify(success);
    const card: AdaptiveCard = cardOf(service.requests[0]!.json());
    expect(card.body[0]).toMatchObject({ text: 'Clara DB backup succeeded', color: 'Good' });
    expect(card.body[1]).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Job', value: 'clara' },
        { title: 'Result', value: 'succeeded' },
        { title: 'Size', value: '4.2 MB' },
        { title: 'Duration', value: '1 min 5 s' },
        { title: 'Key', value: 'backups/clara/clara_20260301_030007.sql.gz' },
      ],
    });

    await expect(loud.notify(test)).resolves.toBe(true);
    expect(cardOf(service.requests[1]!.json()).body[0]).toMatchObject({ text: 'Clara DB test notification', color: 'Default' });
  });

  it('a message: template is a text block under the headline', async () => {
    const service = await teamsService();
    const { notify } = await createTestNotifier(teams, { webhookUrl: service.webhookUrl, message: '{title} {result}: {error}' });
    await notify(failure);
    const card = cardOf(service.requests[0]!.json());
    expect(card.body.map((block) => block.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet', 'TextBlock']);
    expect(card.body[1]).toEqual({ type: 'TextBlock', text: 'Clara DB failed: pg_dump: database "nope" does not exist', wrap: true });
  });

  it('retries on 5xx, then succeeds', async () => {
    const service = await teamsService([{ status: 500 }, { status: 202 }]);
    const { notify } = await createTestNotifier(teams, { webhookUrl: service.webhookUrl, retries: 1 });
    await expect(notify(failure)).resolves.toBe(true);
    expect(service.requests).toHaveLength(2);
  });

  it('a refused or unreachable workflow is a rejection that never holds its signature, which is masked as a secret', async () => {
    const service = await teamsService([{ status: 400 }]);
    const { notify, redact } = await createTestNotifier(teams, { webhookUrl: service.webhookUrl, retries: 1 });
    expect(await notify(failure).then(() => '', (error: Error) => error.message)).toBe('HTTP 400 after 1 attempt');
    await service.close();
    expect(await notify(failure).then(() => '', (error: Error) => error.message)).toBe('ECONNREFUSED after 2 attempts');
    expect(redact(`${service.webhookUrl} ${service.path} sig=${SIGNATURE}`)).not.toContain(SIGNATURE);
  });

  it('refuses, when the pipeline loads, a missing URL and an unknown template field', () => {
    const options: Record<string, unknown> = { webhookUrl: 'https://prod-00.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?sig=y' };
    expect(checkSchema(teams.schema, options)).toEqual([]);
    expect(options).toMatchObject({ on: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'], timeoutSeconds: 10, retries: 2 });
    expect(checkSchema(teams.schema, {})).toEqual([{ path: ['webhookUrl'], message: 'is required' }]);
    expect(checkSchema(teams.schema, { webhookUrl: '' })).toEqual([
      { path: ['webhookUrl'], message: 'must be the URL of the Workflow\'s "When a Teams webhook request is received" trigger' },
    ]);
    expect(checkSchema(teams.schema, { webhookUrl: 'https://x/y', message: '{size} {bytes}' })).toEqual([
      expect.objectContaining({ path: ['message'], message: expect.stringContaining('may only use the fields') }),
    ]);
  });
});
