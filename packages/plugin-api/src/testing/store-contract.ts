import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { SinkInstance } from '../plugin.js';

/** One check of the store contract; throws (an AssertionError) when the store breaks it. */
export interface ContractCase {
  name: string;
  run(store: SinkInstance): Promise<void>;
}

/**
 * The behaviour every sink/store must have, as test-runner-agnostic cases:
 *
 *   for (const check of storeContract()) it(check.name, () => check.run(makeStore()));
 *
 * Give each case a fresh, empty store.
 */
export function storeContract(): ContractCase[] {
  return [
    {
      name: 'write then get returns the same bytes, and list shows the key with its size',
      async run(store) {
        const body = randomBytes(300_000);
        const written = await store.write(Readable.from(chunk(body, 64 * 1024)), 'one_20260201_030000.bin', new AbortController().signal);
        assertEqual(written.key, `${store.prefix}one_20260201_030000.bin`, 'written key');
        assertEqual(written.size, body.length, 'written size');
        assertEqual(sha256(await readAll(await store.get(written.key))), sha256(body), 'bytes read back');
        const listed = await collect(store.list(store.prefix));
        assertEqual(JSON.stringify(listed.map((object) => [object.key, object.size])), JSON.stringify([[written.key, body.length]]), 'listing');
        assert(listed[0]?.lastModified instanceof Date && !Number.isNaN(listed[0].lastModified.getTime()), 'lastModified is a date');
      },
    },
    {
      name: 'a stream that errors leaves no object',
      async run(store) {
        const failing = new Readable({ read() {} });
        failing.push(randomBytes(100_000));
        setTimeout(() => failing.destroy(new Error('source broke')), 20);
        const outcome = await store.write(failing, 'broken_20260201_030000.bin', new AbortController().signal).then(
          () => 'resolved',
          (error: Error) => error.message,
        );
        assert(outcome !== 'resolved', 'write must reject when its stream errors');
        assertEqual((await collect(store.list(store.prefix))).length, 0, 'objects after a failed write');
      },
    },
    {
      name: 'an aborted signal leaves no object',
      async run(store) {
        const controller = new AbortController();
        // Data arrives asynchronously, as from a real database, so timers still run.
        const endless = new Readable({
          read() {
            setImmediate(() => this.push(randomBytes(16 * 1024)));
          },
        });
        setTimeout(() => controller.abort(new Error('cancelled')), 20);
        const outcome = await store.write(endless, 'aborted_20260201_030000.bin', controller.signal).then(() => 'resolved', () => 'rejected');
        endless.destroy();
        assertEqual(outcome, 'rejected', 'write after abort');
        assertEqual((await collect(store.list(store.prefix))).length, 0, 'objects after an aborted write');
      },
    },
    {
      name: 'list filters by prefix and delete removes only the given keys',
      async run(store) {
        const signal = new AbortController().signal;
        const keys = [];
        for (const name of ['a_20260101_000000.bin', 'a_20260102_000000.bin', 'b_20260101_000000.bin']) {
          keys.push((await store.write(Readable.from([Buffer.from(name)]), name, signal)).key);
        }
        const onlyA = await collect(store.list(`${store.prefix}a_`));
        assertEqual(onlyA.map((object) => object.key).sort().join(','), keys.slice(0, 2).join(','), 'keys under the a_ prefix');
        await store.delete([keys[0] as string, `${store.prefix}missing_20200101_000000.bin`]);
        const left = (await collect(store.list(store.prefix))).map((object) => object.key).sort();
        assertEqual(left.join(','), keys.slice(1).join(','), 'keys left after delete');
      },
    },
    {
      name: 'metadata round-trips as JSON and is undefined when absent',
      async run(store) {
        assertEqual(await store.readMetadata('contract_test.json'), undefined, 'absent metadata');
        const value = { clara: { key: 'backups/clara/clara_20260201_030000.sql.gz', size: 12 }, written: '2026-02-01T03:00:05.000Z' };
        await store.writeMetadata('contract_test.json', value);
        assertEqual(JSON.stringify(await store.readMetadata('contract_test.json')), JSON.stringify(value), 'metadata read back');
        await store.writeMetadata('contract_test.json', { replaced: true });
        assertEqual(JSON.stringify(await store.readMetadata('contract_test.json')), '{"replaced":true}', 'metadata replaced');
        await store.writeMetadata('checksums/backups/x/a_20260101_000000.bin.json', { sha256: 'ab' });
        await store.deleteMetadata(['contract_test.json', 'checksums/backups/x/a_20260101_000000.bin.json', 'never_written.json']);
        assertEqual(await store.readMetadata('contract_test.json'), undefined, 'deleted metadata');
        assertEqual(await store.readMetadata('checksums/backups/x/a_20260101_000000.bin.json'), undefined, 'deleted nested metadata');
      },
    },
    {
      name: 'get of a missing key rejects',
      async run(store) {
        const outcome = await store.get(`${store.prefix}missing_20200101_000000.bin`).then(() => 'resolved', () => 'rejected');
        assertEqual(outcome, 'rejected', 'get of a missing key');
      },
    },
  ];
}

function* chunk(buffer: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const piece of stream) chunks.push(piece as Buffer);
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function sha256(buffer: Buffer): string {
  return createHash('sha256').update(buffer).digest('hex');
}

function assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`store contract: ${what}`);
}

function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`store contract: ${what}: expected ${String(expected)}, got ${String(actual)}`);
}
