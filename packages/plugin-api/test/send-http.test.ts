import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, sendHttp } from '../src/send-http.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A local receiver answering each request with the next status (the last one repeats); 0 = never answer. */
async function receiver(statuses: number[] = [200]) {
  const received: { method?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ method: request.method, headers: request.headers, body });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      if (status) response.writeHead(status).end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const payload = { text: 'Clara DB backup failed: x' };

describe('sendHttp', () => {
  it('retries on 5xx and 429, then succeeds; an object goes as JSON', async () => {
    const hook = await receiver([500, 429, 204]);
    await expect(sendHttp(`${hook.url}/x`, { body: payload }, { timeoutMs: 2000, retries: 2, retryDelayMs: 10 })).resolves.toEqual({ status: 204, attempts: 3, body: '' });
    expect(hook.received).toHaveLength(3);
    expect(hook.received[0]!.headers['content-type']).toBe('application/json');
    expect(hook.received[0]!.method).toBe('POST');
    expect(JSON.parse(hook.received[2]!.body)).toEqual(payload);
  });

  it('sends a GET without a body, and text as given', async () => {
    const hook = await receiver([200]);
    await sendHttp(hook.url, { method: 'GET' }, { timeoutMs: 2000, retries: 0 });
    await sendHttp(hook.url, { body: 'plain words', headers: { 'content-type': 'text/plain' } }, { timeoutMs: 2000, retries: 0 });
    expect(hook.received.map(({ method, body, headers }) => [method, body, headers['content-type']])).toEqual([
      ['GET', '', undefined],
      ['POST', 'plain words', 'text/plain'],
    ]);
  });

  it('gives up after the retries and says what the last attempt got; a 4xx is not retried', async () => {
    const failing = await receiver([503]);
    await expect(sendHttp(failing.url, { body: payload }, { timeoutMs: 2000, retries: 1, retryDelayMs: 10 })).rejects.toThrow('HTTP 503 after 2 attempts');
    const refused = await receiver([404]);
    await expect(sendHttp(refused.url, { body: payload }, { timeoutMs: 2000, retries: 3, retryDelayMs: 10 })).rejects.toThrow('HTTP 404 after 1 attempt');
    expect(refused.received).toHaveLength(1);
  });

  it('keeps a refusal\'s status and answer on the error, apart from its message (a notifier may explain them)', async () => {
    const refused = await receiver([400]);
    const error = await sendHttp(refused.url, { body: payload }, { timeoutMs: 2000, retries: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ name: 'HttpError', message: 'HTTP 400 after 1 attempt', status: 400, answer: 'ok' });
    const closed = await receiver();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const unreachable = await sendHttp(closed.url, { body: payload }, { timeoutMs: 500, retries: 0 }).catch((caught: unknown) => caught);
    expect(unreachable).toMatchObject({ message: 'ECONNREFUSED after 1 attempt', status: undefined, answer: undefined });
  });

  it('stops waiting for a receiver that does not answer after the timeout', async () => {
    const silent = await receiver([0]);
    const started = Date.now();
    await expect(sendHttp(silent.url, { body: payload }, { timeoutMs: 200, retries: 1, retryDelayMs: 10 })).rejects.toThrow('no answer within 0.2 s after 2 attempts');
    expect(Date.now() - started).toBeLessThan(2000);
    const closed = await receiver();
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await expect(sendHttp(closed.url, { body: payload }, { timeoutMs: 500, retries: 0 })).rejects.toThrow('ECONNREFUSED after 1 attempt');
  });
});
