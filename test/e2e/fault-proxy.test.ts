import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, s3Operation, type FaultProxy } from '../harness/fault-proxy.js';

// The fault proxy itself, against a plain HTTP server that echoes what it got:
// the S3 fault tests rely on it forwarding bodies intact and faulting exactly
// what it is told to.

let upstream: http.Server;
let proxy: FaultProxy;

beforeAll(async () => {
  upstream = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => response.end(`${request.method} ${request.url} ${Buffer.concat(chunks).toString('utf8')}`));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startFaultProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await proxy.close();
  await new Promise((resolve) => upstream.close(resolve));
});

beforeEach(() => proxy.setMode({ kind: 'pass' }));

/** One request through the proxy on a fresh connection; chunked when `chunks` has several parts. */
function send(method: string, path: string, chunks: string[] = []): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${proxy.url}${path}`, { method, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe('fault proxy', () => {
  it('forwards requests with length-delimited and chunked bodies intact, and logs them', async () => {
    const before = proxy.requests.length;
    expect(await send('PUT', '/bucket/key?partNumber=1&uploadId=u', ['part-data'])).toEqual({ status: 200, body: 'PUT /bucket/key?partNumber=1&uploadId=u part-data' });
    const chunked = await send('POST', '/bucket/key?uploads', ['one,', 'two,', 'three']);
    expect(chunked).toEqual({ status: 200, body: 'POST /bucket/key?uploads one,two,three' });
    expect(proxy.requests.slice(before).map((request) => [s3Operation(request), request.outcome])).toEqual([
      ['UploadPart', 'forwarded'],
      ['CreateMultipartUpload', 'forwarded'],
    ]);
  });

  it('answers 500 to the next N matching requests only', async () => {
    proxy.setMode({ kind: 'status', count: 2, match: (request) => request.method === 'PUT' });
    expect((await send('GET', '/bucket/a')).status).toBe(200);
    expect((await send('PUT', '/bucket/a', ['x'])).status).toBe(500);
    expect((await send('PUT', '/bucket/a', ['y'.repeat(100_000)])).status).toBe(500);
    expect(await send('PUT', '/bucket/a', ['z'])).toEqual({ status: 200, body: 'PUT /bucket/a z' });
  });

  it('resets connections when refusing, and cuts one past its byte limit', async () => {
    proxy.setMode({ kind: 'refuse' });
    await expect(send('GET', '/bucket/a')).rejects.toMatchObject({ code: 'ECONNRESET' });
    proxy.setMode({ kind: 'cut', afterBytes: 1000, times: 1 });
    await expect(send('PUT', '/bucket/a', ['x'.repeat(5000)])).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    expect((await send('PUT', '/bucket/a', ['x'.repeat(5000)])).status).toBe(200);
  });

  it('delays answers in delay mode', async () => {
    proxy.setMode({ kind: 'delay', ms: 300 });
    const started = Date.now();
    expect((await send('GET', '/bucket/a')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});
