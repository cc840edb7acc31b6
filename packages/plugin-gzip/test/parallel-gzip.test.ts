import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ParallelGzip } from '../src/parallel-gzip.js';

const KiB = 1024;
const BLOCK = 64 * KiB;

async function compress(input: Buffer, options: { threads?: number; level?: number; chunk?: number } = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const chunk = options.chunk ?? 10_000;
  const pieces = (function* () {
    for (let offset = 0; offset < input.length; offset += chunk) yield input.subarray(offset, offset + chunk);
  })();
  await pipeline(
    Readable.from(pieces, { objectMode: false }),
    new ParallelGzip({ level: options.level ?? 6, threads: options.threads ?? 2, blockSize: BLOCK }),
    new Writable({
      write(data: Buffer, _encoding, callback) {
        chunks.push(data);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks);
}

/** The ISIZE field of the last gzip member: the length of its uncompressed input. */
function lastMemberInputSize(gz: Buffer): number {
  return gz.readUInt32LE(gz.length - 4);
}

describe('ParallelGzip', () => {
  it.each([0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5.5 * BLOCK])('round-trips %d bytes', async (size) => {
    const input = randomBytes(size);
    const gz = await compress(input);
    expect(gunzipSync(gz).equals(input)).toBe(true);
  });

  it('cuts the input into one gzip member per block, in input order', async () => {
    const input = Buffer.from('INSERT INTO t VALUES (42);\n'.repeat(Math.ceil((5.5 * BLOCK) / 27))).subarray(0, 5.5 * BLOCK);
    const gz = await compress(input, { threads: 3 });
    expect(gunzipSync(gz).equals(input)).toBe(true);
    expect(lastMemberInputSize(gz)).toBe(0.5 * BLOCK);
    // Six members, each starting with the gzip magic and deflate method.
    const headers = [...gz.entries()].filter(([index]) => gz[index] === 0x1f && gz[index + 1] === 0x8b && gz[index + 2] === 8);
    expect(headers.length).toBeGreaterThanOrEqual(6);
  });

  it('keeps the order when later blocks finish first', async () => {
    // A slow first block (random bytes at level 9) and fast ones after it.
    const input = Buffer.concat([randomBytes(BLOCK), Buffer.alloc(6 * BLOCK, 'a'), randomBytes(BLOCK / 3)]);
    const gz = await compress(input, { threads: 4, level: 9 });
    expect(gunzipSync(gz).equals(input)).toBe(true);
  });

  it('writes a valid empty .gz for an empty stream', async () => {
    const gz = await compress(Buffer.alloc(0));
    expect(gz.length).toBeGreaterThan(0);
    expect(gunzipSync(gz).length).toBe(0);
  });

  it('is read whole by the gunzip program', () => {
    const input = Buffer.from(Array.from({ length: 40_000 }, (_, index) => `${index}\tuser${index}@example.com\n`).join(''));
    return compress(input, { threads: 2 }).then((gz) => {
      const result = spawnSync('gunzip', ['-c'], { input: gz, maxBuffer: 64 * 1024 * 1024 });
      expect(result.status, result.stderr.toString()).toBe(0);
      expect(result.stdout.equals(input)).toBe(true);
    });
  });

  it('takes no more input while nobody reads its output', async () => {
    const gzip = new ParallelGzip({ level: 1, threads: 2, blockSize: BLOCK });
    let accepted = 0;
    const producer = (async () => {
      for (let index = 0; index < 400; index++) {
        const chunk = randomBytes(16 * KiB);
        if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
        accepted += chunk.length;
      }
      gzip.end();
    })();
    await sleep(300);
    // 2 × threads blocks in flight, one filling, the readable buffer (one block) and a write buffer.
    const bound = (2 * 2 + 1 + 1) * BLOCK + 32 * KiB;
    expect(accepted).toBeLessThan(bound);
    const stalledAt = accepted;
    await sleep(100);
    expect(accepted).toBe(stalledAt);

    // Once read, everything flows.
    let out = 0;
    gzip.on('data', (data: Buffer) => (out += data.length));
    await producer;
    await new Promise((resolve) => gzip.once('end', resolve));
    expect(accepted).toBe(400 * 16 * KiB);
    expect(out).toBeGreaterThan(accepted);
  });

  it('passes an upstream error on and stops', async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(BLOCK));
      },
    });
    setTimeout(() => failing.destroy(new Error('pg_dump died')), 50);
    const gzip = new ParallelGzip({ level: 1, threads: 2, blockSize: BLOCK });
    const sink = new PassThrough();
    sink.resume();
    await expect(pipeline(failing, gzip, sink)).rejects.toThrow('pg_dump died');
    expect(gzip.destroyed).toBe(true);
  });

  it('emits nothing more after destroy, even from blocks still compressing', async () => {
    const gzip = new ParallelGzip({ level: 9, threads: 4, blockSize: BLOCK });
    const seen: string[] = [];
    gzip.on('data', () => seen.push('data'));
    gzip.on('end', () => seen.push('end'));
    gzip.on('error', (error) => seen.push(`error ${error.message}`));
    gzip.write(randomBytes(4 * BLOCK));
    gzip.destroy(new Error('run aborted'));
    await sleep(200); // the four blocks finish in the thread pool meanwhile
    expect(seen).toEqual(['error run aborted']);
  });

  it('lets the process exit once destroyed: nothing is left running', () => {
    const source = fileURLToPath(new URL('../src/parallel-gzip.ts', import.meta.url));
    const script = `
      const { ParallelGzip } = await import(${JSON.stringify(source)});
      const gzip = new ParallelGzip({ level: 9, threads: 4, blockSize: 65536 });
      gzip.on('error', () => {});
      gzip.write(Buffer.alloc(1 << 20, 1));
      gzip.destroy(new Error('stop'));
      console.log('destroyed');`;
    const started = Date.now();
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 });
    expect(result.stderr.toString()).toBe('');
    expect(result.stdout.toString()).toBe('destroyed\n');
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
