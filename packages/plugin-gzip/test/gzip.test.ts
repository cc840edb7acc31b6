import { availableParallelism } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createTestInstance, streamThrough, transformContract, transformRoundTrip } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin, { GatheredGzip, ParallelGzip } from '../src/index.js';

/** About 6 MiB of COPY rows: text that compresses the way a dump does. */
const dump = Buffer.from(
  Array.from({ length: 60_000 }, (_, index) => `${index}\tuser${index % 977}@example.com\t${(index * 7919) % 100_000}\tactive\t2026-01-${1 + (index % 28)}\n`).join(''),
);

describe.each([1, 2, 4])('gzip with threads: %d', (threads) => {
  for (const check of transformContract()) {
    it(check.name, async () => check.run((await createTestInstance(plugin, { threads })).instance));
  }

  it('writes what gunzip reads back, a little over one zlib stream in size', async () => {
    const { instance } = await createTestInstance(plugin, { level: 6, threads });
    const report = await transformRoundTrip(instance, dump);
    expect(gunzipSync(report.encoded as Buffer).equals(dump)).toBe(true);
    // Independent 1 MiB members lose each block's first 32 KiB of history: measured well under 1%.
    expect(report.encodedBytes).toBeLessThan(gzipSync(dump, { level: 6 }).length * 1.01);
  });
});

describe('the gzip plugin', () => {
  it('writes, with threads: 1, exactly what zlib writes for the whole stream at once', async () => {
    const { instance } = await createTestInstance(plugin, { level: 6, threads: 1 });
    const chunks = Array.from({ length: Math.ceil(dump.length / 4096) }, (_, index) => dump.subarray(index * 4096, (index + 1) * 4096));
    expect((await streamThrough(instance.encode(), chunks)).equals(gzipSync(dump, { level: 6 }))).toBe(true);
  });

  it('adds .gz and the gzip content type to the artifact', async () => {
    const { artifact } = await createTestInstance(plugin);
    expect(artifact).toMatchObject({ extension: '.gz', contentType: 'application/gzip' });
  });

  it('uses one zlib stream for threads: 1 and parallel members above', async () => {
    expect((await createTestInstance(plugin, { threads: 1 })).instance.encode()).toBeInstanceOf(GatheredGzip);
    expect((await createTestInstance(plugin, { threads: 2 })).instance.encode()).toBeInstanceOf(ParallelGzip);
  });

  it("defaults to one thread per core, up to Node's thread pool", async () => {
    const cores = Math.min(availableParallelism(), Number(process.env.UV_THREADPOOL_SIZE) || 4);
    const encoder = (await createTestInstance(plugin)).instance.encode();
    expect(encoder).toBeInstanceOf(cores > 1 ? ParallelGzip : GatheredGzip);
  });

  it("warns when asked for more threads than Node's thread pool has", async () => {
    const { logs } = await createTestInstance(plugin, { threads: 256 });
    expect(logs.join('\n')).toMatch(/threads is 256 but Node's thread pool has \d+ threads; set UV_THREADPOOL_SIZE=256/);
    expect((await createTestInstance(plugin, { threads: 1 })).logs).toEqual([]);
  });

  it('refuses a thread count below 1, and describes every option', async () => {
    await expect(createTestInstance(plugin, { threads: 0 })).rejects.toThrow(/with\.threads must be >= 1/);
    for (const [name, schema] of Object.entries(plugin.schema.properties)) expect(schema.description, name).toMatch(/\w/);
  });

  it('decodes what another gzip wrote, and refuses what is not gzip', async () => {
    const { instance } = await createTestInstance(plugin);
    expect((await streamThrough(instance.decode(), gzipSync(dump))).equals(dump)).toBe(true);
    await expect(streamThrough(instance.decode(), Buffer.from('plain text'))).rejects.toThrow(/incorrect header check/);
  });
});
