import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TransformInstance } from '@backupctl/plugin-api';
import {
  createMemoryStore,
  createTestInstance,
  runTestPipeline,
  slowSink,
  sourceFrom,
  streamThrough,
  transformContract,
  transformRoundTrip,
} from '@backupctl/plugin-api/testing';
import zstd from '../src/index.js';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const dump = Buffer.from("INSERT INTO users VALUES (1, 'ada@example.com', now());\n".repeat(20_000));

async function zstdTransform(options: Record<string, unknown> = {}): Promise<TransformInstance> {
  return (await createTestInstance(zstd, options)).instance;
}

describe('zstd transform: the transform contract', () => {
  for (const check of transformContract()) it(check.name, async () => check.run(await zstdTransform()));
  it('round-trips with several threads', async () => {
    await transformRoundTrip(await zstdTransform({ threads: 2, level: 5 }), randomBytes(5 * 1024 * 1024), { keepEncoded: false });
  });
});

describe('zstd transform: what it stores', () => {
  it('writes a standard .zst file that the zstd command decompresses', async () => {
    const made = await createTestInstance(zstd, {});
    expect(made.artifact).toEqual({ extension: '.zst', contentType: 'application/zstd' });
    const encoded = await streamThrough(made.instance.encode(), dump);
    expect(encoded.subarray(0, 4).equals(ZSTD_MAGIC)).toBe(true);
    const unpacked = spawnSync('zstd', ['-d', '-c'], { input: encoded, maxBuffer: 64 * 1024 * 1024 });
    expect(unpacked.status).toBe(0);
    expect(unpacked.stdout.equals(dump)).toBe(true);
  });

  it('compresses harder at a higher level', async () => {
    const input = Buffer.concat(Array.from({ length: 200 }, (_, row) => Buffer.from(`${row},${'abcdefghij'.repeat(row % 17)},${row * 7919}\n`))).toString().repeat(50);
    const fast = await streamThrough((await zstdTransform({ level: 1 })).encode(), Buffer.from(input));
    const small = await streamThrough((await zstdTransform({ level: 19 })).encode(), Buffer.from(input));
    expect(small.length).toBeLessThan(fast.length);
  });
});

describe('zstd transform: failures', () => {
  it('fails to decode bytes that are not zstd, with zstd’s own words', async () => {
    const transform = await zstdTransform();
    await expect(streamThrough(transform.decode(), Buffer.from('this is plain text, not zstd'))).rejects.toMatchObject({
      code: 'TRANSFORM_FAILED',
      message: expect.stringMatching(/^zstd failed to decompress: exit code 1: zstd: /),
      hint: 'the object is not zstd data, or it is damaged',
    });
  });

  it('fails to decode a truncated object rather than returning part of it', async () => {
    const transform = await zstdTransform();
    const encoded = await streamThrough(transform.encode(), randomBytes(1024 * 1024));
    await expect(streamThrough(transform.decode(), encoded.subarray(0, encoded.length - 10))).rejects.toThrow(/zstd failed to decompress/);
  });

  it('says how to install zstd when the program is missing, in check() and when streaming', async () => {
    const transform = await zstdTransform({ path: '/nonexistent/zstd' });
    await expect(transform.check!()).rejects.toMatchObject({ code: 'TRANSFORM_FAILED', hint: expect.stringContaining('install zstd') });
    await expect(streamThrough(transform.encode(), dump)).rejects.toThrow('zstd: cannot start /nonexistent/zstd (ENOENT)');
  });

  it('commits nothing when the program exits non-zero', async () => {
    const run = await runTestPipeline({ source: sourceFrom([dump]), transforms: [{ plugin: zstd, options: { path: 'false' } }] });
    expect(run.result.status).toBe('failed');
    expect(run.result.error).toMatchObject({ code: 'TRANSFORM_FAILED', plugin: 'zstd', message: 'zstd failed to compress: exit code 1' });
    expect(run.objects).toEqual([]);
  });
});

describe('zstd transform in a pipeline', () => {
  it('backs up to <name>.zst and restores the same bytes', async () => {
    const run = await runTestPipeline({
      job: 'mem0',
      name: '{job}_{timestamp}.sql{ext}',
      source: sourceFrom([dump]),
      transforms: [{ plugin: zstd, options: { level: '6' } }],
      now: new Date('2026-02-01T03:00:00Z'),
    });
    expect(run.result.status).toBe('succeeded');
    expect(run.objects.map((object) => [object.key, object.size])).toEqual([['mem0_20260201_030000.sql.zst', run.result.artifact?.size]]);
    expect(run.result.artifact!.size).toBeLessThan(dump.length / 20);
    expect((await run.restore()).equals(dump)).toBe(true);
  });

  it('honours backpressure through the pipes: a slow sink keeps the source a bounded distance ahead', async () => {
    const CHUNK = 64 * 1024;
    let produced = 0;
    let lead = 0;
    const sink = slowSink(createMemoryStore(), { bytesPerSecond: 60e6 });
    const source = sourceFrom(
      (async function* () {
        while (produced < 48 * 1024 * 1024) {
          lead = Math.max(lead, produced - sink.consumed);
          produced += CHUNK;
          // Random bytes do not compress, so the sink sees as many bytes as the source sends.
          yield randomBytes(CHUNK);
        }
      })(),
    );
    const run = await runTestPipeline({ source, transforms: [{ plugin: zstd, options: { level: 1 } }], sink });
    expect(run.result.status).toBe('succeeded');
    // zstd itself holds a few MiB (its compression job and read-ahead: about 6 MiB measured at any
    // stream size); a transform that ignored backpressure would run the whole 48 MiB ahead.
    expect(lead).toBeLessThan(12 * 1024 * 1024);
  });
});
