import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '@backupctl/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEST_PG_PASSWORD, closedPort, referenceEnv, runCli, seedClaraDatabase, uniqueName, usePostgres, useS3, writeClaraPipeline, type CliResult } from '../harness/index.js';
import { guardSecret } from '../harness/secret-guard.js';

// The chat notifiers through the CLI: one job lists slack, discord, teams,
// telegram and ntfy under `notify:`, each pointed at one local receiver
// standing in for its service; each must get its own service's format.

const pg = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const claraDb = uniqueName('clara_main');

// Each service's credential, as it sits in its URL, path or header.
const SLACK_SECRET = 'slk-Hq8vX2mT4rB9';
const DISCORD_SECRET = 'dsc-Kp3nW7yZ1cF5';
const TEAMS_SIGNATURE = 'tms-Lr6uJ0aE8gD2';
const TELEGRAM_TOKEN = '7012345678:AAtgm-Ry5tN4pQ9wZ3vC';
const NTFY_TOKEN = 'tk_ntfyVb2xM8kQ1sH6';
const SECRETS = [SLACK_SECRET, DISCORD_SECRET, TEAMS_SIGNATURE, TELEGRAM_TOKEN, NTFY_TOKEN];

let service: HttpReceiver;

/** Each service's answer when it accepts a message. */
function answer(request: ReceivedRequest) {
  if (request.path.startsWith('/slack/')) return { status: 200, body: 'ok' };
  if (request.path.startsWith('/discord/')) return { status: 204 };
  if (request.path.startsWith('/teams/')) return { status: 202 };
  if (request.path.startsWith('/telegram/')) return { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true,"result":{"message_id":1}}' };
  return { status: 200, body: '{"id":"x","event":"message"}' };
}

/** What reached each service, by the path its notifier posts to. */
function receivedBy(channel: 'slack' | 'discord' | 'teams' | 'telegram' | 'ntfy', since: number): ReceivedRequest[] {
  return service.requests.slice(since).filter((request) => request.path.startsWith(`/${channel}/`));
}

function notifierEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_WEBHOOK_URL: `${service.url}/slack/services/T0/B0/${SLACK_SECRET}`,
    DISCORD_WEBHOOK_URL: `${service.url}/discord/api/webhooks/42/${DISCORD_SECRET}`,
    TEAMS_WEBHOOK_URL: `${service.url}/teams/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIGNATURE}`,
    TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
    TELEGRAM_API_URL: `${service.url}/telegram`,
    NTFY_SERVER: `${service.url}/ntfy`,
    NTFY_TOKEN,
    ...overrides,
  };
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('notify-chat');
  await s3.createBucket(bucket);
  return bucket;
}

const jobEnv = (bucket: string, overrides: Record<string, string> = {}) => referenceEnv(pg, { clara: claraDb }, bucket, { overrides: notifierEnv(overrides) });

/** The pipeline: the five notifiers under the job's `notify:`; `change` edits a line to break it. */
function pipelineFile(change: (line: string) => string = (line) => line): Promise<string> {
  const notify = [
    'notify:',
    '  - use: slack',
    '    with: { webhookUrl: "${SLACK_WEBHOOK_URL}", on: [failure, success], retries: 1 }',
    '  - use: discord',
    '    with: { webhookUrl: "${DISCORD_WEBHOOK_URL}", on: [failure, success], message: "{title}: {result} in {duration}" }',
    '  - use: teams',
    '    with: { webhookUrl: "${TEAMS_WEBHOOK_URL}", on: [failure, success] }',
    '  - use: telegram',
    '    with: { botToken: "${TELEGRAM_BOT_TOKEN}", chatId: -1001234567890, apiUrl: "${TELEGRAM_API_URL}", on: [failure, success] }',
    '  - use: ntfy',
    '    with: { server: "${NTFY_SERVER}", topic: clara-backups, token: "${NTFY_TOKEN}", on: [failure, success] }',
  ];
  return writeClaraPipeline({ jobLines: notify.map(change) });
}

function expectNoSecret(...results: CliResult[]): void {
  for (const { stdout, stderr } of results) {
    for (const output of [stdout, stderr]) {
      for (const secret of [...SECRETS, TEST_PG_PASSWORD, s3Info.secretAccessKey]) expect(output).not.toContain(secret);
    }
  }
}

beforeAll(async () => {
  for (const [index, secret] of SECRETS.entries()) guardSecret(`chat notifier secret ${index}`, secret);
  await pg.createDatabase(claraDb);
  await seedClaraDatabase(pg, claraDb);
  service = await startHttpReceiver(answer);
});
afterAll(() => service?.close());

describe('chat notifiers under a job\'s notify:', () => {
  it('a failed run reaches all five, each in its own format, and no output holds a credential', async () => {
    const file = await pipelineFile();
    const since = service.requests.length;
    const result = await runCli(['run', file, '--debug'], { env: jobEnv(await freshBucket(), { DATABASE_URL: pg.url('no_such_db') }) });
    expect(result.code).toBe(1);

    const [slack] = receivedBy('slack', since);
    expect(slack!.path).toBe(`/slack/services/T0/B0/${SLACK_SECRET}`);
    const slackBody = slack!.json() as { text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[] };
    expect(slackBody.text).toMatch(/^Clara DB backup failed: .*no_such_db/);
    expect(slackBody.blocks.map((block) => block.type)).toEqual(['header', 'section', 'context']);
    expect(slackBody.blocks[0]!.text!.text).toBe(':rotating_light: Clara DB backup failed');
    expect(slackBody.blocks[1]!.fields!.map((field) => field.text)).toEqual(
      expect.arrayContaining(['*Job*\nclara', '*Result*\nfailed', expect.stringMatching(/^\*Error\*\n.*no_such_db/), expect.stringMatching(/^\*Hint\*\n\S/)]),
    );

    const [discord] = receivedBy('discord', since);
    expect(discord!.path).toBe(`/discord/api/webhooks/42/${DISCORD_SECRET}`);
    expect(discord!.json()).toMatchObject({
      content: expect.stringMatching(/^Clara DB: failed in [\d.]+ s$/),
      embeds: [{ title: 'Clara DB backup failed', color: 0xd83c3e, fields: expect.arrayContaining([{ name: 'Error', value: expect.stringContaining('no_such_db'), inline: false }]) }],
      allowed_mentions: { parse: [] },
    });

    const [teams] = receivedBy('teams', since);
    expect(teams!.path).toContain(`sig=${TEAMS_SIGNATURE}`);
    expect(teams!.json()).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              { type: 'TextBlock', text: 'Clara DB backup failed', color: 'Attention' },
              { type: 'FactSet', facts: expect.arrayContaining([{ title: 'Error', value: expect.stringContaining('no_such_db') }]) },
              { type: 'TextBlock', isSubtle: true },
            ],
          },
        },
      ],
    });

    const [telegram] = receivedBy('telegram', since);
    expect(telegram!.path).toBe(`/telegram/bot${TELEGRAM_TOKEN}/sendMessage`);
    expect(telegram!.json()).toEqual({
      chat_id: '-1001234567890',
      parse_mode: 'HTML',
      text: expect.stringMatching(/^<b>Clara DB backup failed<\/b>\n<b>Job:<\/b> clara\n[^]*<b>Error:<\/b> .*&quot;no_such_db&quot;/),
    });

    const [ntfy] = receivedBy('ntfy', since);
    expect(ntfy!.path).toBe('/ntfy/');
    expect(ntfy!.headers.authorization).toBe(`Bearer ${NTFY_TOKEN}`);
    expect(ntfy!.json()).toEqual({
      topic: 'clara-backups',
      title: 'Clara DB backup failed',
      message: expect.stringMatching(/^Clara DB backup failed: .*no_such_db[^]*\nHint: \S/),
      priority: 4,
      tags: ['rotating_light', 'clara'],
    });

    expect(service.requests.length - since).toBe(5);
    for (const use of ['slack', 'discord', 'teams', 'telegram', 'ntfy']) {
      expect(result.stderr).toMatch(new RegExp(`${use}: notified http://127\\.0\\.0\\.1:\\d+ \\(failure\\)`));
    }
    expectNoSecret(result);
    expect(JSON.stringify(service.requests.slice(since).map((request) => request.body))).not.toContain(TEST_PG_PASSWORD);
  });

  it('a committed backup reaches all five with its key and size', async () => {
    const file = await pipelineFile();
    const bucket = await freshBucket();
    const since = service.requests.length;
    const result = await runCli(['run', file], { env: jobEnv(bucket) });
    expect(result.code).toBe(0);
    const [key] = await s3.listKeys(bucket, 'backups/');
    const name = key!.split('/').pop()!;

    const slack = receivedBy('slack', since)[0]!.json() as { text: string; blocks: { fields?: { text: string }[] }[] };
    expect(slack.text).toMatch(new RegExp(`^Clara DB backup complete: ${name.replaceAll('.', '\\.')} \\(`));
    expect(slack.blocks[1]!.fields!.map((field) => field.text)).toEqual(expect.arrayContaining(['*Result*\nsucceeded', `*Key*\n${key}`, expect.stringMatching(/^\*Size\*\n[\d.]+ (B|KB)$/)]));
    expect(receivedBy('discord', since)[0]!.json()).toMatchObject({
      content: expect.stringMatching(/^Clara DB: succeeded in [\d.]+ s$/),
      embeds: [{ title: 'Clara DB backup succeeded', color: 0x2ea043, fields: expect.arrayContaining([{ name: 'Key', value: key, inline: false }]) }],
    });
    const card = (receivedBy('teams', since)[0]!.json() as { attachments: { content: { body: { text?: string; color?: string; facts?: unknown[] }[] } }[] }).attachments[0]!.content;
    expect(card.body[0]).toMatchObject({ text: 'Clara DB backup succeeded', color: 'Good' });
    expect(card.body[1]!.facts).toContainEqual({ title: 'Key', value: key });
    expect((receivedBy('telegram', since)[0]!.json() as { text: string }).text).toContain(`\n<b>Key:</b> ${key}`);
    expect(receivedBy('ntfy', since)[0]!.json()).toMatchObject({ title: 'Clara DB backup succeeded', message: expect.stringContaining(name), priority: 3, tags: ['white_check_mark', 'clara'] });
    expectNoSecret(result);
  });

  it('a service that is down changes nothing: a warning without its URL, the others still told, the backup stands', async () => {
    const file = await pipelineFile();
    const bucket = await freshBucket();
    const down = `http://127.0.0.1:${await closedPort()}/slack/services/T0/B0/${SLACK_SECRET}`;
    const since = service.requests.length;
    const result = await runCli(['run', file], { env: jobEnv(bucket, { SLACK_WEBHOOK_URL: down }) });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/WARN: slack: could not send success to http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED after 2 attempts\n/);
    expect(result.stderr.match(/WARN/g)).toHaveLength(1);
    expect(service.requests.slice(since).map((request) => request.path.split('/')[1]).sort()).toEqual(['discord', 'ntfy', 'teams', 'telegram']);
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
    expectNoSecret(result);
  });

  it('refuses a telegram without botToken, or a template with an unknown field, before anything runs: exit 2, one line', async () => {
    const bucket = await freshBucket();
    const since = service.requests.length;
    const noToken = await pipelineFile((line) => line.replace('botToken: "${TELEGRAM_BOT_TOKEN}", ', ''));
    const missing = await runCli(['run', noToken], { env: jobEnv(bucket) });
    expect({ code: missing.code, lines: missing.stderr.split('\n').filter(Boolean) }).toEqual({
      code: 2,
      lines: [expect.stringMatching(/^Error: \S*backupctl\.yml:18:\d+: jobs\.clara\.notify\[3\]\.with\.botToken: is required$/)],
    });

    const badTemplate = await pipelineFile((line) => line.replace('"{title}: {result} in {duration}"', '"{title}: {result} in {durration}"'));
    const refused = await runCli(['run', badTemplate], { env: jobEnv(bucket) });
    expect({ code: refused.code, lines: refused.stderr.split('\n').filter(Boolean) }).toEqual({
      code: 2,
      lines: [expect.stringMatching(/^Error: \S*backupctl\.yml:14:\d+: jobs\.clara\.notify\[1\]\.with\.message: may only use the fields \{job\}, .*\{at\}$/)],
    });
    expect(service.requests.length).toBe(since);
    expect(await s3.listKeys(bucket, 'backups/')).toEqual([]);
    expectNoSecret(missing, refused);
  });
});
