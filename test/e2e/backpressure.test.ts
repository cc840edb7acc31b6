import { Transform } from 'node:stream';
import type { SourceInstance } from '@backupctl/plugin-api';
import { createMemoryStore, createTestInstance, runTestPipeline, slowSink } from '@backupctl/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import gzip from '../../packages/plugin-gzip/src/index.js';
import postgresPlugin from '../../packages/plugin-postgres/src/index.js';
import { uniqueName, usePostgres } from '../harness/index.js';

// End to end, with a real pg_dump: when the sink is slow (a slow upload
// link), pg_dump is made to wait; the bytes between them stay a few blocks,
// whatever the size of the database.

const MiB = 1024 * 1024;
const postgres = usePostgres();
const database = uniqueName('backpressure');

beforeAll(async () => {
  await postgres.createDatabase(database);
  // ~30 MB of hex text: barely compressible, so stored bytes track dumped bytes.
  await postgres.psql(database, `CREATE TABLE t AS SELECT i, md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) AS v FROM generate_series(1, 280000) AS i;`);
});
afterAll(async () => {
  await postgres.dropDatabase(database);
});

/** The postgres source, counting the bytes pg_dump has written so far. */
async function countingPostgresSource(): Promise<{ source: SourceInstance; produced: () => number }> {
  const { instance } = await createTestInstance(postgresPlugin, { url: postgres.url(database) });
  let produced = 0;
  const source: SourceInstance = {
    ...instance,
    async open(signal) {
      const opened = await instance.open(signal);
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          produced += chunk.length;
          callback(null, chunk);
        },
      });
      opened.stream.on('error', (error) => counter.destroy(error));
      return { stream: opened.stream.pipe(counter), done: opened.done };
    },
  };
  return { source, produced: () => produced };
}

describe('a slow sink', () => {
  it('makes pg_dump wait instead of filling memory', async () => {
    const { source, produced } = await countingPostgresSource();
    const sink = slowSink(createMemoryStore(), { bytesPerSecond: 10 * MiB });
    let widestGap = 0;
    const sampler = setInterval(() => {
      widestGap = Math.max(widestGap, produced() - sink.consumed);
    }, 20);

    const started = performance.now();
    const run = await runTestPipeline({ source, transforms: [{ plugin: gzip, options: { level: 0, threads: 2 } }], sink });
    clearInterval(sampler);

    expect(run.result.error).toBeUndefined();
    const dumped = run.result.artifact?.sourceSize ?? 0;
    expect(dumped).toBeGreaterThan(25 * MiB);
    // The dump took as long as the sink needed, not as long as pg_dump needed.
    expect(performance.now() - started).toBeGreaterThan((dumped / (10 * MiB)) * 1000 * 0.8);
    expect(widestGap).toBeLessThan(8 * MiB);
  });
});
