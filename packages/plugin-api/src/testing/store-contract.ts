import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ErrorCodes, isBackupctlError } from '../errors.js';
import type { SinkInstance } from '../plugin.js';
import type { StoredObject } from '../store.js';

/** One check of the store contract; throws (an AssertionError) when the store breaks it. */
export interface ContractCase {
  name: string;
  run(store: SinkInstance): Promise<void>;
}

/** Options of {@link storeContract}. */
export interface StoreContractOptions {
  /**
   * Adds a case that writes this many small objects (give more than 1000,
   * S3's page and delete-batch size), lists them back and deletes them in
   * one call. Opt-in: it is slow on a real server, and only worth running
   * where the server pages (continuation tokens) as S3 does.
   */
  manyKeys?: number;
}

/**
 * The behaviour every sink/store must have, as test-runner-agnostic cases:
 *
 *   for (const check of storeContract()) it(check.name, () => check.run(makeStore()));
 *
 * Give each case a fresh, empty store. The cases cover what backupctl's
 * hooks and commands rely on (retention, respawn, ls, restore, verify):
 * list() gives exactly the committed keys under a prefix (a string prefix,
 * not a folder), in full and with their sizes; a failed or aborted write
 * leaves nothing; delete and deleteMetadata take batches and ignore what is
 * missing; metadata documents at nested names are read back as written,
 * replaced whole, undefined when absent.
 */
export function storeContract(options: StoreContractOptions = {}): ContractCase[] {
  const cases: ContractCase[] = [
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
      name: 'list returns exactly the keys under a prefix: not a sibling prefix, nested keys in full, sizes right',
      async run(store) {
        const p = store.prefix;
        const sizes: Record<string, number> = {
          'clara/clara_20260101_000000.bin': 1000,
          'clara/empty_20260101_000000.bin': 0,
          'clara/nested/clara_20260102_000000.bin': 70_000,
          'clara-old/clara_20260101_000000.bin': 1,
        };
        await writeAll(store, sizes);
        const listing = async (prefix: string) => describeListing(await collect(store.list(prefix)));
        const expected = (names: string[]) =>
          names
            .map((name) => `${p}${name}=${sizes[name] ?? '?'}`)
            .sort()
            .join(' ');
        const [clara, nested, old] = [
          ['clara/clara_20260101_000000.bin', 'clara/empty_20260101_000000.bin', 'clara/nested/clara_20260102_000000.bin'],
          ['clara/nested/clara_20260102_000000.bin'],
          ['clara-old/clara_20260101_000000.bin'],
        ];
        assertEqual(await listing(`${p}clara/`), expected(clara), `list('${p}clara/')`);
        assertEqual(await listing(`${p}clara/nested/`), expected(nested), `list('${p}clara/nested/')`);
        assertEqual(await listing(`${p}clara-old/`), expected(old), `list('${p}clara-old/')`);
        // A prefix is a string prefix, not a folder: `clara` takes in `clara-old/` too.
        assertEqual(await listing(`${p}clara`), expected([...clara, ...old]), `list('${p}clara')`);
        assertEqual(await listing(`${p}clara/clara_`), expected(['clara/clara_20260101_000000.bin']), `list('${p}clara/clara_')`);
        assertEqual(await listing(`${p}clara/clara_20260101_000000.bin`), expected(['clara/clara_20260101_000000.bin']), 'list(a whole key)');
        assertEqual(await listing(`${p}nowhere/`), '', `list('${p}nowhere/')`);
        assertEqual(await listing(p), expected(Object.keys(sizes)), `list('${p}')`);
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
        await assertRejects(store.get(`${store.prefix}broken_20260201_030000.bin`), 'get of the failed write');
      },
    },
    {
      name: 'an aborted signal leaves no object (aborted midway, while the stream is idle, or before the write)',
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

        // A source stalled on a lock sends nothing: the abort alone must end the write.
        const idle = new Readable({ read() {} });
        idle.push(randomBytes(1000));
        const stalled = new AbortController();
        setTimeout(() => stalled.abort(new Error('cancelled')), 20);
        const idleOutcome = await within(
          2000,
          store.write(idle, 'stalled_20260201_030000.bin', stalled.signal).then(() => 'resolved', () => 'rejected'),
        );
        idle.destroy();
        assertEqual(idleOutcome, 'rejected', 'write whose stream sends nothing after the abort');

        const early = new AbortController();
        early.abort(new Error('cancelled'));
        const earlyOutcome = await store.write(Readable.from([Buffer.from('x')]), 'early_20260201_030000.bin', early.signal).then(
          () => 'resolved',
          () => 'rejected',
        );
        assertEqual(earlyOutcome, 'rejected', 'write with a signal aborted before it');
        assertEqual((await collect(store.list(store.prefix))).length, 0, 'objects after aborted writes');
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
      name: 'delete takes a batch of keys, nested ones included; missing keys and an empty batch are not errors',
      async run(store) {
        const p = store.prefix;
        const names = ['c_20260101_000000.bin', 'c_20260102_000000.bin', 'c_20260103_000000.bin', 'sub/c_20260104_000000.bin', 'sub/c_20260105_000000.bin'];
        await writeAll(store, Object.fromEntries(names.map((name) => [name, 10])));
        await store.delete([]);
        await store.delete([
          `${p}c_20260101_000000.bin`,
          `${p}c_20260103_000000.bin`,
          `${p}sub/c_20260104_000000.bin`,
          `${p}missing_20200101_000000.bin`,
          `${p}no/such/folder/c_20200101_000000.bin`,
        ]);
        const left = (await collect(store.list(p))).map((object) => object.key).sort();
        assertEqual(left.join(' '), `${p}c_20260102_000000.bin ${p}sub/c_20260105_000000.bin`, 'keys left after the batch delete');
        // Deleting again what is gone (retention after a crash, two runs at once) is not an error either.
        await store.delete([`${p}c_20260101_000000.bin`, `${p}sub/c_20260104_000000.bin`]);
        assertEqual((await collect(store.list(p))).length, 2, 'keys left after deleting missing keys');
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
      name: 'metadata at nested names (checksums/..., jobs/...) is kept apart, replaced whole, and deleted in batches ignoring missing names',
      async run(store) {
        const checksum = 'checksums/backups/clara/clara_20260201_030000.sql.gz.json';
        const job = 'jobs/backups/clara/clara.json';
        const sibling = 'jobs/backups/clara-old/clara.json';
        for (const name of [checksum, job, 'jobs/no/such/folder/x.json']) {
          assertEqual(await store.readMetadata(name), undefined, `absent ${name}`);
        }
        const record = {
          key: 'backups/clara/clara_20260201_030000.sql.gz',
          size: 1234,
          sourceSize: 56_789,
          sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          startedAt: '2026-02-01T03:00:00.000Z',
          finishedAt: '2026-02-01T03:00:05.000Z',
          tool: 'backupctl 0.1.0',
          notes: ['ünïcødé ✓', null, true, 0, -1.5, { deep: [[]] }],
        };
        await store.writeMetadata(checksum, record);
        await store.writeMetadata(job, { ...record, extra: 'x'.repeat(2000) });
        await store.writeMetadata(sibling, { other: true });
        assertEqual(JSON.stringify(await store.readMetadata(checksum)), JSON.stringify(record), `${checksum} read back`);
        // Replaced whole, by a smaller document: nothing of the first is left.
        await store.writeMetadata(job, record);
        assertEqual(JSON.stringify(await store.readMetadata(job)), JSON.stringify(record), `${job} replaced`);
        assertEqual(JSON.stringify(await store.readMetadata(sibling)), '{"other":true}', `${sibling} beside it`);

        await store.deleteMetadata([]);
        await store.deleteMetadata([checksum, 'checksums/backups/clara/never_written.json', 'checksums/no/such/folder/x.json']);
        assertEqual(await store.readMetadata(checksum), undefined, `${checksum} after delete`);
        assertEqual(JSON.stringify(await store.readMetadata(job)), JSON.stringify(record), `${job} after deleting another document`);
        await store.deleteMetadata([checksum]);
        await store.deleteMetadata([job, sibling]);
        assertEqual(await store.readMetadata(job), undefined, `${job} after delete`);
        assertEqual(await store.readMetadata(sibling), undefined, `${sibling} after delete`);
      },
    },
    {
      name: 'get of a missing key rejects with STORE_FAILED',
      async run(store) {
        const p = store.prefix;
        await store.write(Readable.from([Buffer.from('x')]), 'folder/d_20260101_000000.bin', new AbortController().signal);
        await assertRejects(store.get(`${p}missing_20200101_000000.bin`), 'get of a missing key');
        await assertRejects(store.get(`${p}no/such/folder/missing_20200101_000000.bin`), 'get of a missing key in a missing folder');
        await assertRejects(store.get(`${p}folder`), 'get of a prefix that is no key');
      },
    },
  ];
  if (options.manyKeys !== undefined) cases.push(manyKeysCase(options.manyKeys));
  return cases;
}

function manyKeysCase(count: number): ContractCase {
  return {
    name: `list and delete go past ${count} keys (paged listing, batched delete)`,
    async run(store) {
      const p = store.prefix;
      const names = Array.from({ length: count }, (_, index) => `many/m_${String(index).padStart(6, '0')}.bin`);
      const write = (name: string, body: string) => store.write(Readable.from([Buffer.from(body)]), name, new AbortController().signal);
      for (let start = 0; start < names.length; start += 50) {
        await Promise.all(names.slice(start, start + 50).map((name) => write(name, name)));
      }
      await write('many-beside.bin', 'beside');
      const listed = await collect(store.list(`${p}many/`));
      const keys = new Set(listed.map((object) => object.key));
      assertEqual(listed.length, count, `objects listed under ${p}many/`);
      assertEqual(keys.size, count, 'distinct keys listed');
      assert(names.every((name) => keys.has(`${p}${name}`)), 'every key written is listed');
      // Each object holds its own name.
      assert(listed.every((object) => object.size === object.key.length - p.length), 'sizes of the listed objects');
      await store.delete(names.map((name) => `${p}${name}`));
      assertEqual((await collect(store.list(`${p}many/`))).length, 0, 'objects left after deleting them in one call');
      assertEqual(describeListing(await collect(store.list(p))), `${p}many-beside.bin=6`, 'the object beside them');
    },
  };
}

async function writeAll(store: SinkInstance, sizes: Record<string, number>): Promise<void> {
  const signal = new AbortController().signal;
  for (const [name, size] of Object.entries(sizes)) {
    const body = randomBytes(size);
    const written = await store.write(Readable.from(chunk(body, 16 * 1024)), name, signal);
    assertEqual(written.size, size, `written size of ${name}`);
  }
}

/** `key=size` of each object, sorted by key, space-separated. */
function describeListing(objects: StoredObject[]): string {
  return objects
    .map((object) => `${object.key}=${object.size}`)
    .sort()
    .join(' ');
}

async function assertRejects(promise: Promise<unknown>, what: string): Promise<void> {
  const outcome = await promise.then(
    (value) => {
      if (value instanceof Readable) value.destroy();
      return 'resolved';
    },
    (error: unknown) => (isBackupctlError(error) ? error.code : `a ${error instanceof Error ? error.name : typeof error}`),
  );
  assertEqual(outcome, ErrorCodes.STORE_FAILED, `${what} rejects with`);
}

/** What `promise` settles with, or 'still running' after `ms` (a write that ignores its signal would hang the case). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
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
