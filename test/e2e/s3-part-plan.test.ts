import { Readable } from 'node:stream';
import { testContext } from '@backupctl/plugin-api/testing';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import plugin, { type S3Options } from '../../packages/plugin-s3/src/index.js';
import { uploadStream } from '../../packages/plugin-s3/src/upload.js';
import { uniqueName, useS3 } from '../harness/index.js';

// How the s3 sink sizes its parts, against a real S3 server: parts grow with
// the source's estimate, and a stream that outgrows 10,000 parts (here: a
// lowered limit) fails with a clear error before S3 would refuse a part.

const MiB = 1024 * 1024;
const s3 = useS3();
const server = inject('s3');
const client = s3.client();
const bucket = uniqueName('part-plan');
const silent = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  await s3.createBucket(bucket);
});
afterAll(() => {
  client.destroy();
});

/** `size` bytes in 1 MiB chunks. */
function bytes(size: number): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < size; sent += MiB) yield Buffer.alloc(Math.min(MiB, size - sent), sent % 251);
    })(),
  );
}

function target(key: string) {
  return { client, bucket, key, contentType: 'application/gzip', partSize: 5 * MiB, queueSize: 2, logger: silent, endpoint: 'test' };
}

describe('the part limit', () => {
  it('stores a stream that fills every allowed part exactly', async () => {
    const key = 'exact.sql.gz';
    await expect(uploadStream(bytes(10 * MiB), { ...target(key), maxParts: 2 }, new AbortController().signal)).resolves.toBe(10 * MiB);
    expect((await s3.getObject(bucket, key)).length).toBe(10 * MiB);
  });

  it('stops a stream one byte past the limit with a clear error, and stores nothing', async () => {
    const key = 'too-big.sql.gz';
    const upload = uploadStream(bytes(10 * MiB + 1), { ...target(key), maxParts: 2, expectedSize: 4 * MiB }, new AbortController().signal);
    await expect(upload).rejects.toMatchObject({
      code: 'SINK_FAILED',
      message: expect.stringMatching(/outgrew 10\.0 MB, all that 2 parts of 5 MiB hold \(the source estimated 4\.0 MB\); nothing was stored$/),
      hint: expect.stringContaining('raise partSizeMiB'),
    });
    expect(await s3.listKeys(bucket, key)).toEqual([]);
  });
});

describe('the sink', () => {
  function context(expectedSize: number | undefined) {
    const artifact = { extension: '.sql.gz', contentType: 'application/gzip', ...(expectedSize === undefined ? {} : { expectedSize }) };
    const made = testContext({ job: 'clara', use: 's3', artifact });
    return Object.assign(made.context, { logs: made.entries });
  }

  async function sinkFor(expectedSize: number | undefined) {
    const options = Value.Default(plugin.schema, {
      bucket,
      endpoint: server.endpoint,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      prefix: 'planned/',
    }) as S3Options;
    const ctx = context(expectedSize);
    return { sink: await plugin.create(options, ctx), logs: ctx.logs };
  }

  it('raises the part size for a large database and says what it costs', async () => {
    const { sink, logs } = await sinkFor(100e9);
    try {
      await expect(sink.write(bytes(3 * MiB), 'big.sql.gz', new AbortController().signal)).resolves.toEqual({ key: 'planned/big.sql.gz', size: 3 * MiB });
    } finally {
      await sink.close?.();
    }
    expect(logs).toContainEqual({
      level: 'info',
      message: expect.stringMatching(/the source expects about 93\.1 GB: parts of 22 MiB, 2 at a time \(~66 MiB of upload buffers at most\), so up to 214\.8 GB fit in S3's 10,000 parts$/),
    });
  });

  it('keeps the configured parts, without a word, for a small database', async () => {
    const { sink, logs } = await sinkFor(1e9);
    try {
      await sink.write(bytes(MiB), 'small.sql.gz', new AbortController().signal);
    } finally {
      await sink.close?.();
    }
    expect(logs.filter((line) => line.message.includes('parts of'))).toEqual([]);
  });
});
