import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { GatheredGzip } from '../src/gathered-gzip.js';

const MiB = 1024 * 1024;

describe('GatheredGzip', () => {
  it('takes no more input while nobody reads its output, then delivers it all', async () => {
    const gzip = new GatheredGzip({ level: 0, chunkSize: 64 * 1024 });
    let accepted = 0;
    const producer = (async () => {
      for (let index = 0; index < 64; index++) {
        const chunk = randomBytes(256 * 1024);
        if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
        accepted += chunk.length;
      }
      gzip.end();
    })();
    await sleep(300);
    // A piece being gathered, one in zlib, zlib's and the readable side's buffers: a few MiB of 16.
    expect(accepted).toBeLessThan(6 * MiB);

    const out: Buffer[] = [];
    gzip.on('data', (data: Buffer) => out.push(data));
    await producer;
    await new Promise((resolve) => gzip.once('end', resolve));
    expect(gunzipSync(Buffer.concat(out)).length).toBe(16 * MiB);
  });

  it('passes an upstream error on and stops zlib', async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(64 * 1024));
      },
    });
    setTimeout(() => failing.destroy(new Error('pg_dump died')), 50);
    const gzip = new GatheredGzip({ level: 1, chunkSize: 64 * 1024 });
    const sink = new PassThrough();
    sink.resume();
    await expect(pipeline(failing, gzip, sink)).rejects.toThrow('pg_dump died');
    expect(gzip.destroyed).toBe(true);
  });

  it('reuses its 1 MiB pieces once zlib is done with them, and the output is still the input', async () => {
    // A new piece per MiB made V8 run a full collection every ~150 ms of a backup (see the class comment).
    const allocations = [vi.spyOn(Buffer, 'allocUnsafe'), vi.spyOn(Buffer, 'allocUnsafeSlow')];
    try {
      const input = Buffer.concat(Array.from({ length: 32 }, (_, index) => Buffer.alloc(MiB, `row ${index}\t`)));
      const gzip = new GatheredGzip({ level: 1, chunkSize: 64 * 1024 });
      const output: Buffer[] = [];
      gzip.on('data', (chunk: Buffer) => output.push(chunk));
      await pipeline(Readable.from(Array.from({ length: 512 }, (_, index) => input.subarray(index * 64 * 1024, (index + 1) * 64 * 1024))), gzip);
      expect(gunzipSync(Buffer.concat(output)).equals(input)).toBe(true);
      const pieces = allocations.flatMap((spy) => spy.mock.calls).filter(([size]) => size === MiB);
      expect(pieces.length).toBeLessThanOrEqual(3);
    } finally {
      for (const spy of allocations) spy.mockRestore();
    }
  });

  it('emits nothing more after destroy', async () => {
    const gzip = new GatheredGzip({ level: 9, chunkSize: 64 * 1024 });
    const seen: string[] = [];
    gzip.on('data', () => seen.push('data'));
    gzip.on('end', () => seen.push('end'));
    gzip.on('error', (error) => seen.push(`error ${error.message}`));
    gzip.write(randomBytes(3 * MiB));
    gzip.destroy(new Error('run aborted'));
    await sleep(200);
    expect(seen).toEqual(['error run aborted']);
  });
});
