import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
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
