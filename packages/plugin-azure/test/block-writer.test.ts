import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { planBlocks, MAX_BLOCKS } from '../src/block-plan.js';
import type { BlockTarget } from '../src/block-writer.js';
import { uploadStream, type UploadTarget } from '../src/upload.js';

const MiB = 1024 * 1024;

/** A block blob in memory that records the requests it gets, as Azure would answer them. */
function memoryBlob(options: { failStageAt?: number; stageDelayMs?: number } = {}) {
  const staged = new Map<string, Buffer>();
  const requests: string[] = [];
  let committed: Buffer | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const blob: BlockTarget & { deleteIfExists(): Promise<unknown> } = {
    async stageBlock(id: string, body: unknown, length: number) {
      requests.push(`stage ${staged.size}`);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, options.stageDelayMs ?? 1));
      inFlight -= 1;
      if (options.failStageAt !== undefined && staged.size >= options.failStageAt) {
        throw Object.assign(new Error('Server busy'), { name: 'RestError', statusCode: 503, code: 'ServerBusy' });
      }
      staged.set(id, Buffer.from((body as Buffer).subarray(0, length)));
      return {} as never;
    },
    async commitBlockList(ids: string[]) {
      requests.push(`commit ${ids.length}`);
      committed = Buffer.concat(ids.map((id) => staged.get(id) as Buffer));
      return {} as never;
    },
    async upload(body: unknown, length: number) {
      requests.push('put');
      committed = Buffer.from((body as Buffer).subarray(0, length));
      return {} as never;
    },
    async deleteIfExists() {
      requests.push('delete');
      committed = undefined;
      return {};
    },
  } as never;
  return { blob, requests, committed: () => committed, maxInFlight: () => maxInFlight };
}

const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as unknown as UploadTarget['logger'];

function target(blob: UploadTarget['blob'], given: Partial<UploadTarget> = {}): UploadTarget {
  return { blob, container: 'c', key: 'k', contentType: 'application/gzip', blockSize: MiB, concurrency: 3, logger, endpoint: 'http://azurite', ...given };
}

function chunks(data: Buffer, failAfter?: number): Readable {
  return Readable.from(
    (async function* () {
      for (let offset = 0; offset < data.length; offset += 64 * 1024) {
        if (failAfter !== undefined && offset >= failAfter) throw new Error('pg_dump failed');
        yield data.subarray(offset, offset + 64 * 1024);
      }
    })(),
  );
}

describe('uploadStream (block blobs)', () => {
  it('stages blocks as they fill, at most `concurrency` at once, and commits them in order at the end', async () => {
    const data = randomBytes(5 * MiB + 123);
    const memory = memoryBlob({ stageDelayMs: 5 });
    expect(await uploadStream(chunks(data), target(memory.blob), new AbortController().signal)).toBe(data.length);
    expect(memory.committed()?.equals(data)).toBe(true);
    expect(memory.requests.at(-1)).toBe('commit 6');
    expect(memory.requests.filter((request) => request.startsWith('commit'))).toHaveLength(1);
    expect(memory.maxInFlight()).toBeLessThanOrEqual(3);
  });

  it('sends what fits in one block as a single Put Blob; an empty stream as an empty blob', async () => {
    const small = memoryBlob();
    await uploadStream(chunks(randomBytes(1000)), target(small.blob), new AbortController().signal);
    expect(small.requests).toEqual(['put']);
    const empty = memoryBlob();
    expect(await uploadStream(Readable.from([]), target(empty.blob), new AbortController().signal)).toBe(0);
    expect(empty.committed()?.length).toBe(0);
  });

  it('commits nothing when the input fails, a block fails, or the run is aborted', async () => {
    const data = randomBytes(4 * MiB);
    const failing = memoryBlob();
    await expect(uploadStream(chunks(data, 2 * MiB + 1), target(failing.blob), new AbortController().signal)).rejects.toThrow('pg_dump failed');
    expect(failing.committed()).toBeUndefined();
    expect(failing.requests.some((request) => request.startsWith('commit'))).toBe(false);

    const refused = memoryBlob({ failStageAt: 1 });
    await expect(uploadStream(chunks(data), target(refused.blob), new AbortController().signal)).rejects.toMatchObject({ code: 'SINK_FAILED' });
    expect(refused.committed()).toBeUndefined();

    const aborted = memoryBlob({ stageDelayMs: 20 });
    const controller = new AbortController();
    const upload = uploadStream(chunks(data), target(aborted.blob), controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(upload).rejects.toMatchObject({ code: 'ABORTED' });
    expect(aborted.committed()).toBeUndefined();
  });

  it('stops with one clear line at the first byte past maxBlocks × blockSize', async () => {
    const memory = memoryBlob();
    const upload = uploadStream(chunks(randomBytes(3 * MiB)), target(memory.blob, { maxBlocks: 2, expectedSize: MiB }), new AbortController().signal);
    await expect(upload).rejects.toThrow(/outgrew 2\.0 MB, all that 2 blocks of 1 MiB hold \(the source estimated 1\.0 MB\); nothing was stored/);
    expect(memory.committed()).toBeUndefined();
  });
});

describe('planBlocks', () => {
  it('keeps the configured block size up to ~176 GiB expected, then grows blocks and lowers concurrency', () => {
    const GiB = 1024 * MiB;
    expect(planBlocks({ partSize: 8 * MiB, queueSize: 4, expectedSize: 100 * GiB })).toMatchObject({ partSize: 8 * MiB, queueSize: 4, raised: false });
    const big = planBlocks({ partSize: 8 * MiB, queueSize: 4, expectedSize: 2 * 1024 * GiB });
    expect(big.raised).toBe(true);
    expect(big.maxBytes).toBeGreaterThanOrEqual(2 * 2 * 1024 * GiB);
    expect(big.maxBytes).toBe(big.partSize * MAX_BLOCKS);
    expect(big.queueSize).toBe(2);
    expect(planBlocks({ partSize: 8 * MiB, queueSize: 4 }).maxBytes).toBe(8 * MiB * 50_000);
  });
});
