import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadedJob, LoadedStep } from '../src/config/load-pipeline.js';
import { checkSchema, definePlugin, Secrets, Type } from '@backupctl/plugin-api';
import { createLogger } from '../src/log/logger.js';
import { runJob } from '../src/backup/run-job.js';
import webhook, { type WebhookPayload } from '../src/hooks/webhook.js';
import { createMemoryStore, sourceFrom } from '@backupctl/plugin-api/testing';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: WebhookPayload;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A local receiver answering each request with the next status (the last one repeats); 0 = never answer. */
async function receiver(statuses: number[] = [200]) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(body) as WebhookPayload });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      if (status) response.writeHead(status).end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('webhook hook', () => {
  const noOptions = Type.Object({});
  const step = (kind: LoadedStep['kind'], use: string, create: () => unknown): LoadedStep =>
    ({ use, kind, from: 'test', options: {}, path: `jobs.clara.${use}`, plugin: definePlugin({ name: use, kind, schema: noOptions, create: create as never }) }) as never;
  const webhookStep = (options: Record<string, unknown>): LoadedStep => {
    const filled = structuredClone(options);
    expect(checkSchema(webhook.schema, filled)).toEqual([]);
    return { use: 'webhook', kind: 'hook', from: 'builtin', options: filled, path: 'jobs.clara.sink.hooks[0]', plugin: webhook as never };
  };
  const job = (source: ReturnType<typeof sourceFrom>, hook: LoadedStep): LoadedJob => ({
    name: 'clara',
    title: 'Clara DB',
    nameTemplate: '{job}_{timestamp}{ext}',
    source: step('source', 'fake', () => source),
    transforms: [],
    sink: step('sink', 'memory', () => createMemoryStore({ prefix: 'backups/clara/' })),
    hooks: [hook],
  });
  const run = async (loaded: LoadedJob, secrets = new Secrets()) => {
    const lines: string[] = [];
    const result = await runJob(loaded, { logger: createLogger({ secrets, write: (line) => lines.push(line) }), secrets });
    return { result, lines };
  };

  it('fills defaults: the problems and recovery, 10 s, 2 retries; refuses a URL that is not http(s), an unknown event or template field', () => {
    const options: Record<string, unknown> = { url: 'https://hooks.example/x' };
    expect(checkSchema(webhook.schema, options)).toEqual([]);
    expect(options).toEqual({ url: 'https://hooks.example/x', on: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'], timeoutSeconds: 10, retries: 2 });
    expect(checkSchema(webhook.schema, { url: 'ftp://x' })).not.toEqual([]);
    expect(checkSchema(webhook.schema, { url: 'https://x', on: ['sometimes'] })).not.toEqual([]);
    expect(checkSchema(webhook.schema, { url: 'https://x', on: ['error', 'success'] })).toEqual([]);
    expect(checkSchema(webhook.schema, { url: 'https://x', message: '{job} {sise}' })).toEqual([
      expect.objectContaining({ message: expect.stringContaining('may only use the fields {job}, {title}') }),
    ]);
  });

  it('posts a Slack/Discord-compatible summary when the backup fails, with secrets masked, and the job still reports its own error', async () => {
    const hook = await receiver();
    const secrets = new Secrets();
    secrets.add('hunter22');
    const failing = sourceFrom([Buffer.from('x')], { fail: new Error('pg_dump: password authentication failed for hunter22') });
    const { result, lines } = await run(job(failing, webhookStep({ url: `${hook.url}/services/T000/B000/token-abc123`, headers: { Authorization: 'Bearer sekret-header' } })), secrets);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('SOURCE_FAILED');
    expect(hook.received).toHaveLength(1);
    const { path, headers, body } = hook.received[0]!;
    expect(path).toBe('/services/T000/B000/token-abc123');
    expect(headers.authorization).toBe('Bearer sekret-header');
    expect(body).toEqual({
      text: 'Clara DB backup failed: fake done: pg_dump: password authentication failed for ***',
      content: 'Clara DB backup failed: fake done: pg_dump: password authentication failed for ***',
      job: 'clara',
      title: 'Clara DB',
      result: 'failed',
      event: 'failure',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      durationSeconds: expect.any(Number),
      error: { code: 'SOURCE_FAILED', message: 'fake done: pg_dump: password authentication failed for ***' },
    });
    expect(lines.join('\n')).not.toContain('token-abc123');
  });

  it('posts on success only when asked (error and success, the older names, still work), with the key, size and checksum', async () => {
    const quiet = await receiver();
    const ok = await run(job(sourceFrom([Buffer.from('data')]), webhookStep({ url: quiet.url })));
    expect(ok.result.status).toBe('succeeded');
    expect(quiet.received).toHaveLength(0);

    const loud = await receiver();
    const { result } = await run(job(sourceFrom([Buffer.from('data')]), webhookStep({ url: loud.url, on: ['error', 'success'] })));
    expect(result.status).toBe('succeeded');
    expect(loud.received.map(({ body }) => body)).toEqual([
      expect.objectContaining({
        text: 'Clara DB backup complete: clara_' + result.artifact!.key.split('_').slice(1).join('_') + ' (4 B)',
        result: 'succeeded',
        event: 'success',
        key: result.artifact!.key,
        bytes: 4,
        sha256: result.artifact!.sha256,
      }),
    ]);
  });

  it('a webhook that fails never changes the result: a warning without the URL', async () => {
    const broken = await receiver([500]);
    const { result, lines } = await run(job(sourceFrom([Buffer.from('data')]), webhookStep({ url: `${broken.url}/secret-path-xyz`, on: ['success'], retries: 0 })));
    expect(result.status).toBe('succeeded');
    expect(lines).toContainEqual(expect.stringMatching(/WARN: webhook: could not send success to http:\/\/127\.0\.0\.1:\d+: HTTP 500 after 1 attempt$/));
    expect(lines.join('\n')).not.toContain('secret-path-xyz');
  });

  it('fills a message template, and sends start and skipped when asked', async () => {
    const hook = await receiver();
    const { result } = await run(job(sourceFrom([Buffer.from('data')]), webhookStep({ url: hook.url, on: ['start', 'success'], message: '{title}: {result} {size} ({event})' })));
    expect(result.status).toBe('succeeded');
    expect(hook.received.map(({ body }) => [body.event, body.text])).toEqual([
      ['start', 'Clara DB: started  (start)'],
      ['success', 'Clara DB: succeeded 4 B (success)'],
    ]);
  });

  it('does nothing with an empty URL (an unset ${WEBHOOK_URL:-})', async () => {
    const { result, lines } = await run(job(sourceFrom([Buffer.from('x')], { fail: new Error('boom') }), webhookStep({ url: '' })));
    // The source's failure, not a refused URL, and not a word from the webhook.
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('boom');
    expect(lines.filter((line) => line.includes('webhook'))).toEqual([]);
  });
});
