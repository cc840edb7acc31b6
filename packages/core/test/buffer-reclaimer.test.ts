import { afterEach, describe, expect, it } from 'vitest';
import { bufferReclaimer, RECLAIM_EVERY_BYTES, setYoungGenerationCollector } from '../src/streams/buffer-reclaimer.js';

describe('bufferReclaimer', () => {
  afterEach(() => setYoungGenerationCollector(undefined));

  it('collects once per RECLAIM_EVERY_BYTES of data, whatever the chunk sizes', () => {
    let collections = 0;
    setYoungGenerationCollector(() => void collections++);
    const reclaim = bufferReclaimer();
    const chunk = 64 * 1024 + 7;
    let bytes = 0;
    while (bytes + chunk <= 10 * RECLAIM_EVERY_BYTES) {
      reclaim(chunk);
      bytes += chunk;
    }
    // Each collection restarts the count, so the chunk that crossed the line is not carried over: 9 or 10 for 10 × the interval.
    expect(collections).toBeGreaterThanOrEqual(9);
    expect(collections).toBeLessThanOrEqual(10);
  });

  it('collects nothing once the collector is taken back (a program embedding the library has none)', () => {
    let collections = 0;
    setYoungGenerationCollector(() => void collections++);
    setYoungGenerationCollector(undefined);
    bufferReclaimer()(100 * RECLAIM_EVERY_BYTES);
    expect(collections).toBe(0);
  });

  it('counts each stream apart', () => {
    let collections = 0;
    setYoungGenerationCollector(() => void collections++);
    const first = bufferReclaimer();
    const second = bufferReclaimer();
    first(RECLAIM_EVERY_BYTES - 1);
    second(RECLAIM_EVERY_BYTES - 1);
    expect(collections).toBe(0);
    first(1);
    expect(collections).toBe(1);
  });
});
