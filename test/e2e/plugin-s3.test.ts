import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { inspect } from 'node:util';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SinkInstance, StoredObject } from '@backupctl/plugin-api';
import { testContext } from '@backupctl/plugin-api/testing';
import { Value } from '@sinclair/typebox/value';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import plugin, { type S3Options } from '../../packages/plugin-s3/src/index.js';
import { uniqueName, useS3 } from '../harness/index.js';

// The s3 sink and store against a real S3 HTTP server (s3rver, started by the
// e2e global setup), created the way the runner creates it.

const MiB = 1024 * 1024;
const NAME = 'clara_20260201_030000.sql.gz';
const PREFIX = 'backups/clara/';

const s3 = useS3();
const server = inject('s3');
// Every sink in this file talks to the server through the recording proxy.
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;

beforeAll(async () => {
  proxy = await startRecordingProxy(server.endpoint);
});
afterAll(async () => {
  await proxy.close();
});

/** The S3 operations the plugin sent for `bucket/key`, in the order answered. */
function operationsOn(bucket: string, key: string): string[] {
  return proxy.seen.filter((request) => request.path === `/${bucket}/${key}`).map((request) => request.operation);
}

/** The kit's context as the s3 tests read it: the job's artifact, the log entries, the registered secrets. */
function s3TestContext() {
  const made = testContext({ job: 'clara', use: 's3', artifact: { extension: '.sql.gz', contentType: 'application/gzip' } });
  return Object.assign(made.context, { logs: made.entries, secrets: Object.assign(made.context.secrets, { registered: made.registered }) });
}

/** Options as the runner passes them: the pipeline's `with:` plus every schema default, validated. */
function s3Options(given: Partial<S3Options> & Pick<S3Options, 'bucket'>): S3Options {
  const options = Value.Default(plugin.schema, {
    endpoint: proxy.endpoint,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    prefix: PREFIX,
    partSizeMiB: 5,
    ...given,
  });
  expect(Value.Errors(plugin.schema, options).First()).toBeUndefined();
  return options as S3Options;
}

const openSinks: SinkInstance[] = [];

async function createSink(given: Partial<S3Options> & Pick<S3Options, 'bucket'>, context = s3TestContext()): Promise<SinkInstance> {
  const sink = await plugin.create(s3Options(given), context);
  openSinks.push(sink);
  return sink;
}

afterEach(async () => {
  for (const sink of openSinks.splice(0)) await sink.close?.();
});

/**
 * `data` as a stream of 64 KiB chunks, yielding to the event loop between
 * chunks like a real producer. With `failAfter`, it errors with `error` once
 * that many bytes went out; `onProgress` sees the bytes produced so far.
 */
function streamOf(
  data: Buffer,
  options: { failAfter?: number; error?: Error; onProgress?: (bytes: number) => void } = {},
): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < data.length; offset += 64 * 1024) {
      if (options.failAfter !== undefined && offset >= options.failAfter) throw options.error;
      await nextTurn();
      const chunk = data.subarray(offset, offset + 64 * 1024);
      yield chunk;
      options.onProgress?.(offset + chunk.length);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listAll(sink: SinkInstance, prefix: string): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for await (const object of sink.list(prefix)) objects.push(object);
  return objects.sort((a, b) => a.key.localeCompare(b.key));
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('plugin-s3');
  await s3.createBucket(bucket);
  return bucket;
}

/**
 * A multipart upload was started, never completed, and its abort was asked
 * for. s3rver answers AbortMultipartUpload with 405 (not implemented); the
 * sink must then log a warning and still reject with the original error.
 */
function expectAbandonedUpload(bucket: string, key: string, context?: ReturnType<typeof s3TestContext>): void {
  const operations = operationsOn(bucket, key);
  expect(operations).toContain('CreateMultipartUpload');
  expect(operations).toContain('AbortMultipartUpload');
  expect(operations).not.toContain('CompleteMultipartUpload');
  expect(operations).not.toContain('PutObject');
  if (context !== undefined) {
    const abort = proxy.seen.find((request) => request.operation === 'AbortMultipartUpload' && request.path === `/${bucket}/${key}`);
    const warned = context.logs.some((line) => line.level === 'warn' && line.message.includes(`could not abort the multipart upload of s3://${bucket}/${key}`));
    expect(warned).toBe((abort?.status ?? 0) >= 300);
  }
}

describe('s3 sink: write', () => {
  let bucket: string;
  let client: S3Client;

  beforeAll(async () => {
    bucket = await freshBucket();
    client = s3.client();
  });
  afterAll(() => client.destroy());

  it('streams a multi-part backup that reads back byte for byte', async () => {
    const data = randomBytes(20 * MiB + 12_345);
    const sink = await createSink({ bucket });
    const startedAt = Date.now();

    const written = await sink.write(streamOf(data), NAME, new AbortController().signal);

    expect(written).toEqual({ key: PREFIX + NAME, size: data.length });
    // 5 MiB parts of 20 MiB and a bit: five parts, then the commit.
    expect(operationsOn(bucket, PREFIX + NAME)).toEqual([
      'CreateMultipartUpload',
      ...Array<string>(5).fill('UploadPart'),
      'CompleteMultipartUpload',
    ]);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: PREFIX + NAME }));
    expect(head.ContentLength).toBe(data.length);
    expect(head.ContentType).toBe('application/gzip');

    const readBack = await readAll(await sink.get(PREFIX + NAME));
    expect(readBack.length).toBe(data.length);
    expect(sha256(readBack)).toBe(sha256(data));

    const listed = await listAll(sink, PREFIX);
    expect(listed.map(({ key, size }) => ({ key, size }))).toEqual([{ key: PREFIX + NAME, size: data.length }]);
    const lastModified = listed[0]?.lastModified.getTime() ?? 0;
    expect(lastModified).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000 - 1000);
    expect(lastModified).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('writes a small backup with a single PUT, and an empty one', async () => {
    const sink = await createSink({ bucket, prefix: 'backups/small/' });
    const data = Buffer.from('-- PostgreSQL database dump\nSELECT 1;\n');
    await expect(sink.write(streamOf(data), 'small.sql.gz', new AbortController().signal)).resolves.toEqual({
      key: 'backups/small/small.sql.gz',
      size: data.length,
    });
    await expect(sink.write(streamOf(Buffer.alloc(0)), 'empty.sql.gz', new AbortController().signal)).resolves.toEqual({
      key: 'backups/small/empty.sql.gz',
      size: 0,
    });
    expect(operationsOn(bucket, 'backups/small/small.sql.gz')).toEqual(['PutObject']);
    expect(await s3.getObject(bucket, 'backups/small/small.sql.gz')).toEqual(data);
    expect((await listAll(sink, 'backups/small/')).map(({ key, size }) => [key, size])).toEqual([
      ['backups/small/empty.sql.gz', 0],
      ['backups/small/small.sql.gz', data.length],
    ]);
  });

  it('rejects with the stream’s own error midway and leaves no object', async () => {
    const prefix = 'backups/failing/';
    const context = s3TestContext();
    const sink = await createSink({ bucket, prefix }, context);
    const failure = new Error('pg_dump exited with code 1');

    // Two 5 MiB parts are uploaded before the failure, so a multipart upload exists.
    const attempt = sink.write(streamOf(randomBytes(16 * MiB), { failAfter: 12 * MiB, error: failure }), NAME, new AbortController().signal);

    await expect(attempt).rejects.toBe(failure);
    expectAbandonedUpload(bucket, prefix + NAME, context);
    expect(await s3.listKeys(bucket, prefix)).toEqual([]);
    expect(await listAll(sink, prefix)).toEqual([]);
  });

  it('rejects with the stream’s error when it fails before the first part', async () => {
    const prefix = 'backups/failing-early/';
    const sink = await createSink({ bucket, prefix });
    const failure = new Error('connection to server lost');

    await expect(
      sink.write(streamOf(randomBytes(MiB), { failAfter: 256 * 1024, error: failure }), NAME, new AbortController().signal),
    ).rejects.toBe(failure);
    expect(await s3.listKeys(bucket, prefix)).toEqual([]);
  });

  it('rejects when the stream is closed before it ended, and leaves no object', async () => {
    const prefix = 'backups/closed/';
    const sink = await createSink({ bucket, prefix });
    const input = streamOf(randomBytes(12 * MiB), {
      onProgress: (bytes) => {
        if (bytes >= 7 * MiB) input.destroy();
      },
    });

    await expect(sink.write(input, NAME, new AbortController().signal)).rejects.toMatchObject({
      code: 'ERR_STREAM_PREMATURE_CLOSE',
    });
    expectAbandonedUpload(bucket, prefix + NAME);
    expect(await s3.listKeys(bucket, prefix)).toEqual([]);
  });

  it('stops, rejects with ABORTED and leaves no object when the signal aborts', async () => {
    const prefix = 'backups/aborted/';
    const sink = await createSink({ bucket, prefix });
    const controller = new AbortController();
    let produced = 0;
    const input = streamOf(randomBytes(30 * MiB), {
      onProgress: (bytes) => {
        produced = bytes;
        if (bytes >= 12 * MiB && !controller.signal.aborted) controller.abort(new Error('SIGTERM'));
      },
    });

    await expect(sink.write(input, NAME, controller.signal)).rejects.toMatchObject({
      name: 'BackupctlError',
      code: 'ABORTED',
      plugin: 's3',
      message: `upload of s3://${bucket}/${prefix}${NAME} aborted; nothing was stored`,
    });
    expect(produced).toBeLessThan(30 * MiB);
    expect(input.destroyed).toBe(true);
    expectAbandonedUpload(bucket, prefix + NAME);
    expect(await s3.listKeys(bucket, prefix)).toEqual([]);
  });

  it('does not start when the signal is already aborted', async () => {
    const prefix = 'backups/aborted-before/';
    const sink = await createSink({ bucket, prefix });
    const controller = new AbortController();
    controller.abort();

    await expect(sink.write(streamOf(Buffer.from('data')), NAME, controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(operationsOn(bucket, prefix + NAME)).toEqual([]);
    expect(await s3.listKeys(bucket, prefix)).toEqual([]);
  });
});

describe('s3 store', () => {
  let bucket: string;

  beforeAll(async () => {
    bucket = await freshBucket();
  });

  it('names the bucket as its location and keeps its prefix', async () => {
    const sink = await createSink({ bucket });
    expect(sink.location).toBe(bucket);
    expect(sink.prefix).toBe(PREFIX);
    await expect(sink.check?.()).resolves.toBeUndefined();
  });

  it('lists only under the prefix asked for, and deletes in batches of 1000', async () => {
    // 1005 keys make two DeleteObjects batches. They sit under two
    // sub-prefixes because s3rver cannot return a truncated listing (it
    // builds the continuation token with DES, which OpenSSL 3 refuses), so
    // every listing here stays under 1000 keys; paging is unit-tested.
    const keys = Array.from({ length: 1005 }, (_, index) => `${PREFIX}${index < 600 ? 'a' : 'b'}/clara_${String(index).padStart(4, '0')}.sql.gz`);
    const others = ['backups/clara-old/x.sql.gz', 'backups/mem0/mem0_20260201_030000.sql.gz'];
    for (let start = 0; start < keys.length; start += 25) {
      await Promise.all(keys.slice(start, start + 25).map((key) => s3.putObject(bucket, key, key)));
    }
    for (const key of others) await s3.putObject(bucket, key, 'other');
    const sink = await createSink({ bucket });

    const listed = [...(await listAll(sink, `${PREFIX}a/`)), ...(await listAll(sink, `${PREFIX}b/`))];
    expect(listed.map((object) => object.key)).toEqual(keys);
    expect(listed.every((object, index) => object.size === keys[index]?.length)).toBe(true);

    const deletesAnswered = (): number =>
      proxy.seen.filter((request) => request.operation === 'DeleteObjects' && request.status === 200).length;
    const deletesBefore = deletesAnswered();
    await sink.delete([...keys, `${PREFIX}never-existed.sql.gz`]);

    // Counted by answers, not attempts: s3rver deletes a batch's keys
    // concurrently and races on removing their emptied directory, so a batch
    // may first fail with 500, and the SDK retries it.
    expect(deletesAnswered() - deletesBefore).toBe(2);
    expect(await listAll(sink, PREFIX)).toEqual([]);
    expect(await s3.listKeys(bucket)).toEqual(others);
  });

  it('keeps metadata at the bucket root and reads it back', async () => {
    const sink = await createSink({ bucket });
    const lastBackup = { clara: { key: `${PREFIX}${NAME}`, finishedAt: '2026-02-01T03:00:12.000Z', size: 2_500_000 } };

    expect(await sink.readMetadata('last_backup.json')).toBeUndefined();
    await sink.writeMetadata('last_backup.json', lastBackup);

    expect(await sink.readMetadata('last_backup.json')).toEqual(lastBackup);
    expect(JSON.parse((await s3.getObject(bucket, 'metadata/last_backup.json')).toString('utf8'))).toEqual(lastBackup);
    expect(await s3.listKeys(bucket, 'metadata/')).toEqual(['metadata/last_backup.json']);
    expect(await s3.listKeys(bucket, PREFIX)).toEqual([]);

    await sink.writeMetadata('last_backup.json', { replaced: true });
    expect(await sink.readMetadata('last_backup.json')).toEqual({ replaced: true });
  });

  it('says which object is missing', async () => {
    const sink = await createSink({ bucket });
    await expect(sink.get(`${PREFIX}clara_19990101_000000.sql.gz`)).rejects.toMatchObject({
      name: 'BackupctlError',
      code: 'STORE_FAILED',
      message: `no object ${PREFIX}clara_19990101_000000.sql.gz in bucket ${bucket}`,
    });
  });
});

describe('s3 sink: clear failures', () => {
  let bucket: string;

  beforeAll(async () => {
    bucket = await freshBucket();
  });

  it('registers the secret key and session token as secrets', async () => {
    const context = s3TestContext();
    await createSink({ bucket, sessionToken: 'session-token-value' }, context);
    expect(context.secrets.registered).toEqual([server.secretAccessKey, 'session-token-value']);
  });

  it('refuses an access key without a secret before any request', async () => {
    await expect(plugin.create(s3Options({ bucket, secretAccessKey: '' }), s3TestContext())).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 's3 accessKeyId is set but secretAccessKey is empty',
    });
  });

  it('says wrong credentials are wrong, without printing them', async () => {
    const secret = 'definitely-not-the-secret';
    const sink = await createSink({ bucket, secretAccessKey: secret });
    const expected = {
      message: `${proxy.endpoint} rejected the S3 credentials for bucket ${bucket} (SignatureDoesNotMatch)`,
      hint: expect.stringContaining('S3_SECRET_KEY'),
    };

    await expect(sink.write(streamOf(Buffer.from('x')), NAME, new AbortController().signal)).rejects.toMatchObject({
      code: 'SINK_FAILED',
      ...expected,
    });
    await expect(listAll(sink, PREFIX)).rejects.toMatchObject({ code: 'STORE_FAILED', ...expected });
    const error: unknown = await sink.readMetadata('last_backup.json').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'STORE_FAILED', ...expected });
    // All a CLI could print, the cause included: neither the secret nor the
    // key id (S3 echoes the key id in SignatureDoesNotMatch).
    const printed = inspect(error, { depth: 10 });
    expect(printed).not.toContain(secret);
    expect(printed).not.toContain(server.accessKeyId);

    const unknownKey = await createSink({ bucket, accessKeyId: 'NOT-A-KNOWN-KEY' });
    await expect(unknownKey.check?.()).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringMatching(/credentials|access denied/) });
    await expect(listAll(unknownKey, PREFIX)).rejects.toMatchObject({
      message: `${proxy.endpoint} rejected the S3 credentials for bucket ${bucket} (InvalidAccessKeyId)`,
    });
  });

  it('says a missing bucket does not exist', async () => {
    const missing = uniqueName('no-such-bucket');
    const sink = await createSink({ bucket: missing });
    const message = `bucket ${missing} does not exist at ${proxy.endpoint}`;

    await expect(sink.check?.()).rejects.toMatchObject({ code: 'STORE_FAILED', message, hint: expect.stringContaining('S3_BUCKET') });
    await expect(sink.write(streamOf(randomBytes(6 * MiB)), NAME, new AbortController().signal)).rejects.toMatchObject({
      code: 'SINK_FAILED',
      message,
    });
    await expect(listAll(sink, PREFIX)).rejects.toMatchObject({ code: 'STORE_FAILED', message });
  });

  it('says an endpoint nobody listens on cannot be reached', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const sink = await createSink({ bucket, endpoint });

    await expect(sink.check?.()).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: `cannot reach S3 endpoint ${endpoint} (ECONNREFUSED)`,
      hint: expect.stringContaining('S3_ENDPOINT_URL'),
    });
  });
});

/** One request that went through the recording proxy, named as the S3 API names it. */
interface SeenRequest {
  operation: string;
  /** Path without the query: /bucket/key. */
  path: string;
  status: number;
}

function operationOf(method: string, query: URLSearchParams, path: string): string {
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'PUT' && query.has('partNumber')) return 'UploadPart';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
  if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
  const isBucket = path.split('/').filter(Boolean).length === 1;
  if (method === 'HEAD') return isBucket ? 'HeadBucket' : 'HeadObject';
  if (method === 'PUT') return 'PutObject';
  if (method === 'GET') return 'GetObject';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method} ${path}`;
}

/**
 * An HTTP proxy in front of the S3 server that records which S3 operations
 * the plugin sends and what the server answered, so tests can see that a
 * failed upload was never completed and that its abort was asked for. It
 * forwards requests untouched (the Host header too, so signatures hold).
 */
async function startRecordingProxy(upstream: string): Promise<{ endpoint: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const target = new URL(upstream);
  const seen: SeenRequest[] = [];
  const proxy = createHttpServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://proxy');
    const method = incoming.method ?? 'GET';
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        const status = answer.statusCode ?? 502;
        seen.push({ operation: operationOf(method, url.searchParams, url.pathname), path: decodeURIComponent(url.pathname), status });
        outgoing.writeHead(status, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

/** A port that was free a moment ago and has no listener now. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
