import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, slowSink } from '@backupctl/plugin-api/testing';
import { CommitGate } from '../src/backup/commit-gate.js';
import { CutLooseError, fanOut } from '../src/streams/fan-out.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A small seeded generator, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A byte stream (Readable.from defaults to object mode, which would read 16 chunks ahead). */
function byteStream(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Readable {
  return Readable.from(chunks, { objectMode: false });
}

function sha256(chunks: Iterable<Buffer>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** `total` bytes in fresh Buffers of `size` (each its own memory, as a real source's reads are). */
function* freshChunks(total: number, size: number, onChunk?: (sent: number) => void): Generator<Buffer> {
  const template = randomBytes(size);
  for (let sent = 0; sent < total; sent += size) {
    onChunk?.(sent);
    const chunk = Buffer.allocUnsafe(size);
    template.copy(chunk);
    chunk.writeUInt32BE(sent / size);
    yield chunk;
  }
}

interface ConsumeOptions {
  /** Milliseconds to wait after each chunk (0: none). */
  delayMs?: () => number;
  /** Fails the write (as a sink whose upload failed) once this many bytes arrived. */
  failAfter?: number;
  /** Counts chunks that are not one of these very Buffers. */
  known?: Set<Buffer>;
}

/** A sink-like consumer: pipes the stream into a Writable that hashes it. */
function consume(stream: Readable, options: ConsumeOptions = {}) {
  const hash = createHash('sha256');
  const seen = { bytes: 0, foreign: 0 };
  const writable = new Writable({
    highWaterMark: 64 * KiB,
    write(chunk: Buffer, _encoding, callback) {
      seen.bytes += chunk.length;
      hash.update(chunk);
      if (options.known && !options.known.has(chunk)) seen.foreign++;
      if (options.failAfter !== undefined && seen.bytes >= options.failAfter) return callback(new Error('disk full'));
      const delay = options.delayMs?.() ?? 0;
      if (delay > 0) setTimeout(callback, delay);
      else callback();
    },
  });
  const done = pipeline(stream, writable).then(() => ({ bytes: seen.bytes, sha256: hash.digest('hex') }));
  return { seen, done };
}

/** Resolves on 'close' (events.once would reject on the 'error' before it). */
function closed(stream: Readable): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

const signal = new AbortController().signal;

describe('fanOut', () => {
  it('gives every branch the same bytes in the same order, as the same Buffers', async () => {
    const random = seeded(16);
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < 24 * MiB) {
      const chunk = randomBytes(1 + Math.floor(random() * 256 * KiB));
      chunks.push(chunk);
      total += chunk.length;
    }
    const known = new Set(chunks);
    const out = fanOut(byteStream(chunks), [
      { name: 'a', required: true },
      { name: 'b', required: true },
      { name: 'c', required: false },
    ], { highWaterMark: 256 * KiB, maxLagBytes: 64 * MiB });

    const consumers = [
      consume(out.branch('a').stream, { known }),
      consume(out.branch('b').stream, { known, delayMs: () => (random() < 0.05 ? 2 : 0) }),
      consume(out.branch('c').stream, { known, delayMs: () => (random() < 0.02 ? 5 : 0) }),
    ];
    const results = await Promise.all(consumers.map((consumer) => consumer.done));

    for (const result of results) expect(result).toEqual({ bytes: total, sha256: sha256(chunks) });
    // Every chunk a consumer got is one of the input's own Buffers: shared, not copied.
    for (const consumer of consumers) expect(consumer.seen.foreign).toBe(0);
    for (const branch of out.branches) {
      expect(branch.state).toEqual({ kind: 'ended' });
      expect(branch.delivered).toBe(total);
    }
  });

  it('paces the input by the slowest required branch: it never runs more than maxLagBytes ahead of it', async () => {
    const total = 12 * MiB;
    const maxLag = 2 * MiB;
    const slow = slowSink(createMemoryStore(), { bytesPerSecond: 40e6 });
    let produced = 0;
    let lead = 0;
    const input = byteStream(freshChunks(total, 64 * KiB, () => {
      lead = Math.max(lead, produced - slow.consumed);
      produced += 64 * KiB;
    }));
    const out = fanOut(input, [{ name: 'fast', required: true }, { name: 'slow', required: true }], { highWaterMark: 256 * KiB, maxLagBytes: maxLag });

    const [fast, stored] = await Promise.all([consume(out.branch('fast').stream).done, slow.write(out.branch('slow').stream, 'slow.bin', signal)]);

    expect(fast.bytes).toBe(total);
    expect(stored.size).toBe(total);
    // Read ahead: the input's own buffer, the slow branch's high-water mark and the lump its consumer is chewing on.
    expect(lead).toBeGreaterThan(0);
    expect(lead).toBeLessThanOrEqual(maxLag);
    expect(lead).toBeLessThanOrEqual(1 * MiB);
  });

  it('cuts a slow non-required branch loose past maxLagBytes; its sink stores nothing and the required one completes at full speed', async () => {
    const total = 16 * MiB;
    const chunks = [...freshChunks(total, 64 * KiB)];
    const offsite = createMemoryStore();
    const slowOffsite = slowSink(offsite, { bytesPerSecond: 2e6 });
    const reports: [string, string][] = [];
    const out = fanOut(byteStream(chunks), [{ name: 'primary', required: true }, { name: 'offsite', required: false }], {
      highWaterMark: 128 * KiB,
      maxLagBytes: 1 * MiB,
      onCutLoose: (name, reason) => reports.push([name, reason]),
    });
    const started = performance.now();

    const offsiteWrite = slowOffsite.write(out.branch('offsite').stream, 'offsite.bin', signal);
    const primary = await consume(out.branch('primary').stream).done;
    const primaryMs = performance.now() - started;

    await expect(offsiteWrite).rejects.toThrow(CutLooseError);
    await expect(offsiteWrite).rejects.toThrow('offsite was cut loose from the other copies: it fell 1.0 MB behind');
    expect(reports).toEqual([['offsite', 'fell 1.0 MB behind']]);
    expect(offsite.objects.size).toBe(0);
    expect(out.branch('offsite').state).toEqual({ kind: 'cut-loose', reason: 'fell 1.0 MB behind' });
    expect(out.branch('offsite').delivered).toBeLessThan(2 * MiB);
    expect(primary).toEqual({ bytes: total, sha256: sha256(chunks) });
    expect(out.branch('primary').state).toEqual({ kind: 'ended' });
    // The offsite branch alone would take 8 s at its pace.
    expect(primaryMs).toBeLessThan(2000);
  });

  it('cuts a non-required branch that takes nothing loose after stallMs', async () => {
    const reports: [string, string][] = [];
    const started = performance.now();
    const out = fanOut(byteStream([...freshChunks(512 * KiB, 64 * KiB)]), [{ name: 'primary', required: true }, { name: 'stuck', required: false }], {
      stallMs: 300,
      highWaterMark: 64 * KiB,
      onCutLoose: (name, reason) => reports.push([name, reason]),
    });
    const stuck = out.branch('stuck');

    // The stuck branch holds no one back: the required one ends long before the stall is called.
    expect((await consume(out.branch('primary').stream).done).bytes).toBe(512 * KiB);
    expect(performance.now() - started).toBeLessThan(300);
    expect(stuck.state).toEqual({ kind: 'flowing' });

    await closed(stuck.stream);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(1000);
    expect(stuck.state).toEqual({ kind: 'cut-loose', reason: 'stalled for 0.3 s' });
    expect(stuck.stream.errored).toBeInstanceOf(CutLooseError);
    expect(stuck.delivered).toBe(0);
    expect(reports).toEqual([['stuck', 'stalled for 0.3 s']]);
  });

  it('calls no stall while the input itself is quiet', async () => {
    const input = byteStream((async function* () {
      yield* freshChunks(256 * KiB, 64 * KiB);
      await sleep(400);
      yield* freshChunks(256 * KiB, 64 * KiB);
    })());
    const out = fanOut(input, [{ name: 'a', required: false }, { name: 'b', required: false }], { stallMs: 100, highWaterMark: 64 * KiB });
    const results = await Promise.all(out.branches.map((branch) => consume(branch.stream).done));
    for (const result of results) expect(result.bytes).toBe(512 * KiB);
    for (const branch of out.branches) expect(branch.state).toEqual({ kind: 'ended' });
  });

  it('drops a branch whose consumer fails, required or not; the others complete and it holds nothing back', async () => {
    const total = 8 * MiB;
    const chunks = [...freshChunks(total, 64 * KiB)];
    const out = fanOut(byteStream(chunks), [
      { name: 'failing', required: true },
      { name: 'healthy', required: true },
      { name: 'quitter', required: false },
    ], { highWaterMark: 128 * KiB });
    const failing = consume(out.branch('failing').stream, { failAfter: 1 * MiB });
    const healthy = consume(out.branch('healthy').stream);
    // A consumer that destroys its stream without an error, after 2 MiB.
    const quitter = out.branch('quitter').stream;
    let quitterBytes = 0;
    quitter.on('data', (chunk: Buffer) => {
      quitterBytes += chunk.length;
      if (quitterBytes >= 2 * MiB) quitter.destroy();
    });

    await expect(failing.done).rejects.toThrow('disk full');
    expect(await healthy.done).toEqual({ bytes: total, sha256: sha256(chunks) });
    expect(out.branch('failing').state).toEqual({ kind: 'failed', error: expect.objectContaining({ message: 'disk full' }) });
    expect(out.branch('failing').delivered).toBeLessThan(2 * MiB);
    expect(out.branch('quitter').state).toEqual({ kind: 'failed', error: expect.objectContaining({ message: 'quitter closed its stream before the end' }) });
    expect(out.branch('quitter').delivered).toBe(2 * MiB);
    expect(out.branch('healthy').state).toEqual({ kind: 'ended' });
  });

  it('destroys every branch with the error of an input that fails mid-stream', async () => {
    const failure = new Error('pg_dump: connection lost');
    const input = byteStream((function* () {
      yield* freshChunks(2 * MiB, 64 * KiB);
      throw failure;
    })());
    const stores = [createMemoryStore(), createMemoryStore(), createMemoryStore()];
    const out = fanOut(input, [{ name: 'a', required: true }, { name: 'b', required: true }, { name: 'c', required: false }]);

    const writes = out.branches.map((branch, index) => stores[index]!.write(branch.stream, 'x.bin', signal));

    for (const write of writes) await expect(write).rejects.toBe(failure);
    for (const store of stores) expect(store.objects.size).toBe(0);
    for (const branch of out.branches) expect(branch.state).toEqual({ kind: 'failed', error: failure });
  });

  it('destroys every branch when the commit gate fails at the end (the source exited non-zero)', async () => {
    const failure = new Error('pg_dump exited with code 1');
    const sourceDone = Promise.reject(failure);
    sourceDone.catch(() => undefined);
    const gate = new CommitGate(sourceDone);
    const flowed = pipeline(byteStream([...freshChunks(1 * MiB, 64 * KiB)]), gate);
    flowed.catch(() => undefined);
    const stores = [createMemoryStore(), createMemoryStore()];
    const out = fanOut(gate, [{ name: 'primary', required: true }, { name: 'offsite', required: false }]);

    const writes = out.branches.map((branch, index) => stores[index]!.write(branch.stream, 'x.bin', signal));

    for (const write of writes) await expect(write).rejects.toBe(failure);
    for (const store of stores) expect(store.objects.size).toBe(0);
    // Each branch got every byte before the failure; none of them saw an end.
    for (const branch of out.branches) expect(branch.state).toEqual({ kind: 'failed', error: failure });
  });

  it('fails every branch when the input closes without ending', async () => {
    const input = new Readable({ read() {} });
    const out = fanOut(input, [{ name: 'a', required: true }, { name: 'b', required: false }]);
    const consumers = out.branches.map((branch) => consume(branch.stream));
    input.push(randomBytes(1000));
    await sleep(10);
    input.destroy();
    for (const consumer of consumers) await expect(consumer.done).rejects.toThrow('the fan-out input closed before its end');
  });

  it('stops the input once every branch is gone', async () => {
    let produced = 0;
    const input = byteStream((function* () {
      for (;;) {
        produced += 64 * KiB;
        yield Buffer.alloc(64 * KiB);
      }
    })());
    const out = fanOut(input, [{ name: 'a', required: true }, { name: 'b', required: false }], { highWaterMark: 64 * KiB, stallMs: 50 });
    // The required branch fails; the non-required one never reads and is cut loose as stalled.
    const failing = consume(out.branch('a').stream, { failAfter: 1 * MiB });

    await expect(failing.done).rejects.toThrow('disk full');
    await closed(input);
    expect(input.errored?.message).toBe('every branch of the fan-out failed or was cut loose');
    expect(out.branch('b').state).toEqual({ kind: 'cut-loose', reason: 'stalled for 0.05 s' });
    const stopped = produced;
    await sleep(20);
    expect(produced).toBe(stopped);
  });

  it('refuses branches it could not tell apart and a lag below the high-water mark', () => {
    const input = (): Readable => byteStream([]);
    expect(() => fanOut(input(), [])).toThrow('at least one branch');
    expect(() => fanOut(input(), [{ name: 's3', required: true }, { name: 's3', required: false }])).toThrow('unique');
    expect(() => fanOut(input(), [{ name: 'a', required: true }], { maxLagBytes: 1 * KiB, highWaterMark: 64 * KiB })).toThrow(RangeError);
    expect(() => fanOut(input(), [{ name: 'a', required: true }]).branch('b')).toThrow('no fan-out branch named b');
  });

  it('keeps memory flat: 200 MiB through a slow-but-progressing required branch grows RSS by far less than the stream', async () => {
    const TOTAL = 200 * MiB;
    const CHUNK = 256 * KiB;
    const maxLag = 16 * MiB;
    let produced = 0;
    let lead = 0;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let slowConsumed = () => 0;
    const input = byteStream(freshChunks(TOTAL, CHUNK, (sent) => {
      if (sent % (4 * MiB) === 0) peak = Math.max(peak, process.memoryUsage().rss);
      lead = Math.max(lead, produced - slowConsumed());
      produced += CHUNK;
    }));
    const out = fanOut(input, [
      { name: 'fast', required: true },
      { name: 'slow', required: true },
      { name: 'spare', required: false },
    ], { maxLagBytes: maxLag });
    const slow = consume(out.branch('slow').stream, { delayMs: () => 1 });
    slowConsumed = () => slow.seen.bytes;

    const results = await Promise.all([consume(out.branch('fast').stream).done, slow.done, consume(out.branch('spare').stream).done]);

    for (const result of results) expect(result.bytes).toBe(TOTAL);
    expect(lead).toBeLessThanOrEqual(maxLag);
    expect(peak - baseline).toBeLessThan(64 * MiB);
  }, 20_000);
});
