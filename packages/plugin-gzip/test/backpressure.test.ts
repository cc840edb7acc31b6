import { randomBytes } from 'node:crypto';
import { createMemoryStore, runTestPipeline, slowSink, sourceFrom } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const MiB = 1024 * 1024;

describe('a slow sink behind parallel gzip', () => {
  it('slows the source down instead of buffering what it produced', async () => {
    const total = 24 * MiB;
    let produced = 0;
    const source = sourceFrom(
      (function* () {
        // Incompressible, so bytes stored match bytes produced and the two can be compared.
        for (let sent = 0; sent < total; sent += 64 * 1024) {
          produced += 64 * 1024;
          yield randomBytes(64 * 1024);
        }
      })(),
    );
    const sink = slowSink(createMemoryStore(), { bytesPerSecond: 16 * MiB });
    let widestGap = 0;
    const sampler = setInterval(() => {
      widestGap = Math.max(widestGap, produced - sink.consumed);
    }, 20);

    const started = performance.now();
    const run = await runTestPipeline({ source, transforms: [{ plugin, options: { level: 1, threads: 2 } }], sink });
    clearInterval(sampler);

    expect(run.result.status).toBe('succeeded');
    expect(run.result.artifact?.sourceSize).toBe(total);
    // The sink set the pace: 24 MiB at 16 MiB/s.
    expect(performance.now() - started).toBeGreaterThan(1_200);
    // Ahead of the sink by at most the blocks in flight (2 × 2 + 1 of 1 MiB) and a few stream buffers.
    expect(widestGap).toBeLessThan(8 * MiB);
  });
});
