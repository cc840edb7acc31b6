import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Secrets, type RestoreTarget, type SourceInstance } from '@backupctl/plugin-api';
import type { LoadedJob } from '../src/config/load-pipeline.js';
import { checksumOf, gzipJob } from './job-fixtures.js';
import { checksumDocument } from '../src/catalog/backup-records.js';
import { RECLAIM_EVERY_BYTES, setYoungGenerationCollector } from '../src/streams/buffer-reclaimer.js';
import { createLogger } from '../src/log/logger.js';
import { restoreJob } from '../src/restore/restore-job.js';
import { compareRowCounts, formatComparison } from '../src/restore/row-count-comparison.js';
import { verifyJob } from '../src/restore/verify-job.js';
import { createMemoryStore, type MemoryStore } from '@backupctl/plugin-api/testing';

const sql = Buffer.from('INSERT INTO t VALUES (1);\n'.repeat(40_000));
const KEY = 'backups/clara/clara_20260201_030000.sql.gz';

/** A source whose restore reads the input to its end, as a database would, and records how it ended. */
function recordingSource(extra: Partial<SourceInstance> = {}) {
  const seen = { bytes: Buffer.alloc(0), ended: false, error: undefined as Error | undefined, targets: [] as RestoreTarget[] };
  const source: SourceInstance = {
    open: async () => {
      throw new Error('not used');
    },
    async restore(input: Readable, target) {
      seen.targets.push(target);
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of input) chunks.push(chunk as Buffer);
        seen.ended = true;
      } catch (error) {
        seen.error = error as Error;
        throw error;
      } finally {
        seen.bytes = Buffer.concat(chunks);
      }
      return { target: 'db.example:5432/clara', format: 'plain SQL (test)', replaced: [] };
    },
    ...extra,
  };
  return { source, seen };
}

function jobWith(source: SourceInstance, store: MemoryStore): LoadedJob {
  return gzipJob(source, { memory: store });
}

function storeWith(body: Buffer, record: { sha256: string; size: number } | null = checksumOf(body)): MemoryStore {
  const store = createMemoryStore({ prefix: 'backups/clara/', location: 'bucket' });
  store.objects.set(KEY, { body, lastModified: new Date() });
  if (record) store.metadata.set(checksumDocument(KEY), { key: KEY, ...record, sourceSize: 0, startedAt: '', finishedAt: '', tool: 'test' });
  return store;
}

function inChunks(body: Buffer, size = 1024): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < body.length; offset += size) yield body.subarray(offset, offset + size);
    })(),
  );
}

function env() {
  const lines: string[] = [];
  const secrets = new Secrets();
  return { lines, secrets, logger: createLogger({ secrets, write: (line) => lines.push(line.slice(22)) }) };
}

const target: RestoreTarget = { create: false, replace: false };

describe('restoreJob', () => {
  it('streams the newest backup through gunzip into the source, checks its SHA-256 and reports the sizes', async () => {
    const body = gzipSync(sql);
    const { source, seen } = recordingSource();
    const e = env();
    const restored = await restoreJob(jobWith(source, storeWith(body)), { ...e, selection: {}, target: { url: 'x', create: true, replace: true } });
    expect(seen.ended).toBe(true);
    expect(seen.bytes.equals(sql)).toBe(true);
    expect(seen.targets).toEqual([{ url: 'x', create: true, replace: true }]);
    expect(restored).toMatchObject({
      key: KEY,
      storedBytes: body.length,
      restoredBytes: sql.length,
      sha256: checksumOf(body).sha256,
      checksum: 'verified',
      takenAt: new Date('2026-02-01T03:00:00Z'),
    });
    expect(e.lines.at(-1)).toMatch(/^Clara DB restored: clara_20260201_030000\.sql\.gz \(.* stored, 1015\.6 KB plain SQL \(test\)\) into db\.example:5432\/clara in \d+\.\d s, SHA-256 verified$/);
  });

  it('runs a minor collection per RECLAIM_EVERY_BYTES of decoded data, as a backup does (the CLI hands in the collector)', async () => {
    // Without it, Node 24 ran 36 full collections in a 737 MB restore and peaked ~40 MiB higher.
    const plain = Buffer.alloc(3 * RECLAIM_EVERY_BYTES + 1, 'INSERT INTO t VALUES (1);\n');
    let collections = 0;
    setYoungGenerationCollector(() => void collections++);
    try {
      const { source, seen } = recordingSource();
      await restoreJob(jobWith(source, storeWith(gzipSync(plain))), { ...env(), selection: {}, target });
      expect(seen.bytes.length).toBe(plain.length);
      expect(collections).toBe(3);
    } finally {
      setYoungGenerationCollector(undefined);
    }
  });

  it('turns a checksum mismatch into an error of the input, never a clean end, and fails with CHECKSUM_MISMATCH', async () => {
    const body = gzipSync(sql);
    body[5] = body[5]! ^ 1; // the gzip header's time: gunzip does not notice
    const { source, seen } = recordingSource();
    const recorded = checksumOf(gzipSync(sql));
    await expect(restoreJob(jobWith(source, storeWith(body, recorded)), { ...env(), selection: {}, target })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      message: `${KEY} does not match its checksum: SHA-256 ${checksumOf(body).sha256}, ${recorded.sha256} recorded at backup time`,
    });
    expect(seen.ended).toBe(false);
    expect(seen.error).toBeDefined();
  });

  it('names a damaged object a checksum mismatch even when gunzip trips over the damage first, having read it to the end', async () => {
    const object = gzipSync(Array.from({ length: 50_000 }, (_, i) => `INSERT INTO t VALUES (${i}, 'name ${i * 7}');\n`).join(''));
    const damaged = Buffer.from(object);
    damaged[0] = 0; // gzip's magic: gunzip refuses the first chunk
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 1; // and one more change only the whole-object hash can see
    const { source, seen } = recordingSource();
    const store = storeWith(damaged, checksumOf(object));
    store.get = async () => inChunks(damaged); // as S3 serves it: the damage arrives long before the end
    await expect(restoreJob(jobWith(source, store), { ...env(), selection: {}, target })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      message: expect.stringMatching(/does not match its checksum/),
    });
    expect(seen.ended).toBe(false);
    // The restore was stopped by gunzip's error, long before the hash had read the end.
    expect(seen.error?.message).toBe('incorrect header check');
  });

  it('refuses an object whose stored size differs from the record before the source sees anything', async () => {
    const body = gzipSync(sql);
    const { source, seen } = recordingSource();
    const store = storeWith(body.subarray(0, 100), checksumOf(body));
    await expect(restoreJob(jobWith(source, store), { ...env(), selection: {}, target })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      message: `${KEY} is truncated: the store holds 100 bytes, ${body.length} were recorded at backup time`,
    });
    expect(seen.targets).toEqual([]);
  });

  it('restores an object with no record with a warning, and gzip still refuses a truncated one', async () => {
    const body = gzipSync(sql);
    const good = recordingSource();
    const e = env();
    const restored = await restoreJob(jobWith(good.source, storeWith(body, null)), { ...e, selection: {}, target });
    expect(restored.checksum).toBe('unrecorded');
    expect(e.lines).toContain(
      `WARN: No checksum recorded for ${KEY} (not written by backupctl?): restoring it without SHA-256 verification; only the transforms' own checks (gzip's CRC) detect damage`,
    );

    const bad = recordingSource();
    await expect(
      restoreJob(jobWith(bad.source, storeWith(body.subarray(0, body.length - 10), null)), { ...env(), selection: {}, target }),
    ).rejects.toMatchObject({ code: 'TRANSFORM_FAILED', message: `gzip could not decode ${KEY}: unexpected end of file` });
    expect(bad.seen.ended).toBe(false);
  });

  it('stops reading the store and reports the source\'s error when the restore itself fails', async () => {
    // Hard to compress, served in small chunks: far more than the stages buffer.
    const object = gzipSync(Buffer.from(randomBytes(512 * 1024).toString('hex')));
    const store = storeWith(object);
    let body: Readable | undefined;
    store.get = async () => (body = inChunks(object));
    const source: SourceInstance = {
      open: async () => {
        throw new Error('not used');
      },
      restore: async () => {
        throw new Error('psql: relation "users" already exists');
      },
    };
    await expect(restoreJob(jobWith(source, store), { ...env(), selection: {}, target })).rejects.toMatchObject({
      code: 'RESTORE_FAILED',
      message: 'fake restore: psql: relation "users" already exists',
    });
    expect(body?.destroyed).toBe(true);
    expect(body?.readableEnded).toBe(false);
  });

  it('says so when the source plugin cannot restore', async () => {
    const source: SourceInstance = { open: async () => Promise.reject(new Error('not used')) };
    await expect(restoreJob(jobWith(source, storeWith(gzipSync(sql))), { ...env(), selection: {}, target })).rejects.toMatchObject({
      code: 'USAGE',
      message: 'job clara: the "fake" source plugin cannot restore',
    });
  });
});

describe('restoreJob touches the target only once the backup was found and its record read', () => {
  const into: RestoreTarget = { url: 'new-db', create: true, replace: false };

  /** A store and a source that record, in order, the store's reads and the source's restore (its first touch of the target). */
  function recorded(body: Buffer, record: { sha256: string; size: number } | null = checksumOf(body)) {
    const calls: string[] = [];
    const store = storeWith(body, record);
    const list = store.list.bind(store);
    const readMetadata = store.readMetadata.bind(store);
    store.list = (...args) => {
      if (calls.at(-1) !== 'list') calls.push('list');
      return list(...args);
    };
    store.readMetadata = async (...args) => {
      const read = await readMetadata(...args);
      calls.push('record read');
      return read;
    };
    const { source: plain, seen } = recordingSource();
    const source: SourceInstance = {
      ...plain,
      restore: async (input, target, signal) => {
        calls.push(`restore into ${target.url}`);
        return plain.restore!(input, target, signal);
      },
      // The early preparation plugins could once offer (removed from the contract): the runner must not call it.
      ...{ prepareRestore: () => Promise.reject(new Error(`prepareRestore called (${calls.push('prepareRestore')})`)) },
    };
    return { store, source, seen, calls };
  }

  it('calls the source\'s restore after the backup was chosen and its record read', async () => {
    const { store, source, seen, calls } = recorded(gzipSync(sql));
    const restored = await restoreJob(jobWith(source, store), { ...env(), selection: {}, target: into });
    expect(calls).toEqual(['list', 'record read', 'restore into new-db']);
    expect(seen.bytes.equals(sql)).toBe(true);
    expect(restored.checksum).toBe('verified');
  });

  it('a missing backup (--key or --at): the source never hears of the target', async () => {
    for (const selection of [{ key: 'clara_20000101_000000.sql.gz' }, { at: '2001-01-01' }]) {
      const { store, source, seen, calls } = recorded(gzipSync(sql));
      await expect(restoreJob(jobWith(source, store), { ...env(), selection, target: into })).rejects.toMatchObject({
        message: expect.stringMatching(/^no object clara_20000101_000000\.sql\.gz|^job clara has no backup taken at or before 2001-01-01/),
      });
      expect(calls).toEqual(['list']);
      expect(seen.targets).toEqual([]);
    }
  });

  it('an object the record says is truncated: the source never hears of the target, and the object is closed unread', async () => {
    const body = gzipSync(sql);
    const { store, source, seen, calls } = recorded(body.subarray(0, 100), checksumOf(body));
    const get = store.get.bind(store);
    let opened: Readable | undefined;
    store.get = async (key, signal) => (opened = await get(key, signal));
    await expect(restoreJob(jobWith(source, store), { ...env(), selection: {}, target: into })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
    });
    expect(calls).toEqual(['list', 'record read']);
    expect(seen.targets).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened?.readableDidRead).toBe(false);
    expect(opened?.destroyed).toBe(true);
  });

  it('a target the source refuses: its error, once, and the object closed', async () => {
    const store = storeWith(gzipSync(sql));
    let opened: Readable | undefined;
    store.get = async () => (opened = Readable.from([gzipSync(sql)]));
    const source: SourceInstance = {
      open: async () => Promise.reject(new Error('not used')),
      restore: async () => {
        throw new Error('db.example:5432/new already has 3 tables');
      },
    };
    await expect(restoreJob(jobWith(source, store), { ...env(), selection: {}, target: into })).rejects.toMatchObject({
      code: 'RESTORE_FAILED',
      message: 'fake restore: db.example:5432/new already has 3 tables',
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened?.destroyed).toBe(true);
  });
});

describe('verifyJob', () => {
  function verifiable(counts: { source: Record<string, number>; backup: Record<string, number> }) {
    const calls: string[] = [];
    const { source, seen } = recordingSource({
      createScratch: async () => {
        calls.push('create');
        return { url: 'scratch-url', target: 'db.example:5432/clara_verify', drop: async () => void calls.push('drop') };
      },
      countRows: async ({ url }) => (url === 'scratch-url' ? counts.backup : counts.source),
    });
    return { source, seen, calls };
  }

  it('restores into a scratch database, compares row counts and drops it', async () => {
    const { source, seen, calls } = verifiable({ source: { 'public.a': 2, 'public.b': 3 }, backup: { 'public.a': 2, 'public.b': 3 } });
    const outcome = await verifyJob(jobWith(source, storeWith(gzipSync(sql))), { ...env(), selection: {} });
    expect(seen.targets).toEqual([{ url: 'scratch-url', create: false, replace: false, exactDatabase: true }]);
    expect(outcome).toMatchObject({ ok: true, differences: 0, scratch: 'db.example:5432/clara_verify' });
    expect(calls).toEqual(['create', 'drop']);
  });

  it('drops the scratch database when the backup is damaged', async () => {
    const body = gzipSync(sql);
    body[5] = body[5]! ^ 1;
    const { source, calls } = verifiable({ source: {}, backup: {} });
    await expect(verifyJob(jobWith(source, storeWith(body, checksumOf(gzipSync(sql)))), { ...env(), selection: {} })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
    });
    expect(calls).toEqual(['create', 'drop']);
  });

  it('reports differing tables as a result, not an error', async () => {
    const { source } = verifiable({ source: { 'public.a': 5, 'public.new': 0 }, backup: { 'public.a': 2, 'public.gone': 1 } });
    const outcome = await verifyJob(jobWith(source, storeWith(gzipSync(sql))), { ...env(), selection: {} });
    expect(outcome.ok).toBe(false);
    expect(outcome.differences).toBe(3);
  });
});

describe('compareRowCounts and formatComparison', () => {
  it('lists every table of either side with its status, by name', () => {
    const rows = compareRowCounts({ 'public.users': 300, 'public.new': 0, 'audit.events': 490 }, { 'public.users': 300, 'audit.events': 500, 'public.old': 4 });
    expect(rows).toEqual([
      { table: 'audit.events', expectedRows: 490, restoredRows: 500, status: 'differs' },
      { table: 'public.new', expectedRows: 0, restoredRows: undefined, status: 'missing in backup' },
      { table: 'public.old', expectedRows: undefined, restoredRows: 4, status: 'not in source' },
      { table: 'public.users', expectedRows: 300, restoredRows: 300, status: 'ok' },
    ]);
    expect(formatComparison(rows).split('\n')).toEqual([
      'table         source rows  restored rows  status',
      'audit.events          490            500  differs (+10 in backup)',
      'public.new              0              -  missing in backup',
      'public.old              -              4  not in source',
      'public.users          300            300  ok',
    ]);
  });

  it('against a manifest, a restored table the manifest does not list is fine only when empty', () => {
    const rows = compareRowCounts({ 'public.users': 300 }, { 'public.users': 300, 'public.skipped': 0, 'public.extra': 2 }, 'manifest');
    expect(rows.map((row) => [row.table, row.status])).toEqual([
      ['public.extra', 'not in manifest'],
      ['public.skipped', 'ok'],
      ['public.users', 'ok'],
    ]);
    expect(formatComparison(rows, 'manifest').split('\n')[0]).toBe('table           manifest rows  restored rows  status');
  });
});
