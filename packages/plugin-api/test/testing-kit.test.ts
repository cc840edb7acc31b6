import { randomBytes } from 'node:crypto';
import { PassThrough, Transform } from 'node:stream';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defineNotifier, definePlugin, NOTIFICATION_EVENTS, Type, type Notification, type TransformInstance } from '@backupctl/plugin-api';
import {
  createMemoryStore,
  createTestInstance,
  createTestNotifier,
  runTestPipeline,
  sampleNotification,
  slowSink,
  sourceFrom,
  streamThrough,
  transformContract,
  transformRoundTrip,
} from '@backupctl/plugin-api/testing';

const gzipLike = definePlugin({
  name: 'gzip-like',
  kind: 'transform',
  schema: Type.Object({ level: Type.Integer({ minimum: 0, maximum: 9, default: 1 }) }, { additionalProperties: false }),
  create(options, context) {
    context.artifact.extension += `.gz${options.level}`;
    return { encode: () => createGzip({ level: options.level }), decode: () => createGunzip() };
  },
});

const gzipTransform: TransformInstance = { encode: () => createGzip({ level: 1 }), decode: () => createGunzip() };

/** Drops the last byte on the way back: the round trip must notice. */
const lossy: TransformInstance = {
  encode: () => new PassThrough(),
  decode: () => {
    let held: Buffer | undefined;
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        const out = held;
        held = chunk;
        callback(null, out);
      },
      flush(callback) {
        callback(null, held?.subarray(0, -1));
      },
    });
  },
};

describe('transformContract', () => {
  for (const check of transformContract()) {
    it(`gzip: ${check.name}`, () => check.run(gzipTransform));
  }
  it('fails a transform that loses a byte', async () => {
    const outcomes = await Promise.allSettled(transformContract().map((check) => check.run(lossy)));
    // Every case with at least one byte of input catches it; only the empty stream survives.
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected']);
  });
});

describe('transformRoundTrip and streamThrough', () => {
  it('reports sizes and the encoded bytes, which are the forward direction only', async () => {
    const payload = Buffer.from('SELECT 1;\n'.repeat(10_000));
    const report = await transformRoundTrip(gzipTransform, payload);
    expect(report.inputBytes).toBe(payload.length);
    expect(report.encodedBytes).toBe(report.encoded!.length);
    expect(report.encodedBytes).toBeLessThan(payload.length / 10);
    expect(gunzipSync(report.encoded!).equals(payload)).toBe(true);
  });

  it('names the mismatch when a transform is lossy', async () => {
    await expect(transformRoundTrip(lossy, Buffer.from('abcdef'))).rejects.toThrow(/gave 5 bytes .* for 6 input bytes/);
  });

  it('streamThrough rejects with the stream error', async () => {
    await expect(streamThrough(createGunzip(), Buffer.from('not gzip at all'))).rejects.toThrow(/incorrect header check/);
  });
});

describe('createTestInstance', () => {
  it('creates as the runner does: defaults filled, env strings coerced, artifact and logs collected', async () => {
    const made = await createTestInstance(gzipLike, { level: '9' });
    expect(made.artifact.extension).toBe('.gz9');
    expect(made.context.use).toBe('gzip-like');
    await transformRoundTrip(made.instance, Buffer.from('x'.repeat(1000)));
    expect((await createTestInstance(gzipLike)).artifact.extension).toBe('.gz1');
    await expect(createTestInstance(gzipLike, { level: 3, extra: true })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'gzip-like options: with.extra is not a known option (known: level)',
    });
  });

  it('refuses a plugin whose schema is not a JSON Schema, as the CLI does', async () => {
    const broken = { ...gzipLike, schema: { type: 'object', properties: { level: { type: 'int' } } } } as unknown as typeof gzipLike;
    await expect(createTestInstance(broken)).rejects.toMatchObject({
      code: 'PLUGIN_INVALID',
      message: 'gzip-like has an invalid options schema: schema/properties/level/type must be equal to one of the allowed values',
    });
  });
});

describe('sampleNotification and createTestNotifier', () => {
  it('gives each event the clara job with what backupctl gives that event, the summary written from the values', () => {
    for (const event of [...NOTIFICATION_EVENTS, 'test'] as const) {
      expect(sampleNotification(event)).toMatchObject({ event, job: 'clara', title: 'Clara DB', at: '2026-03-01T03:00:07.000Z', summary: expect.stringMatching(/^Clara DB\b/) });
    }
    expect(sampleNotification('failure')).toMatchObject({
      summary: 'Clara DB backup failed: pg_dump: database "nope" does not exist',
      durationMs: 1200,
      error: { code: 'SOURCE_FAILED', message: 'pg_dump: database "nope" does not exist', hint: 'check DATABASE_URL' },
    });
    expect(sampleNotification('success').summary).toBe('Clara DB backup complete: clara_20260301_030007.sql.gz (4.2 MB)');
    expect(sampleNotification('success', { title: 'Base de données', size: 1024 }).summary).toBe('Base de données backup complete: clara_20260301_030007.sql.gz (1.0 KB)');
    expect(sampleNotification('stale', { lastBackupAt: undefined }).summary).toBe('Clara DB backups are stale: the store holds no backup, more than 26 h ago');
    expect(sampleNotification('failure', { summary: 'as given' }).summary).toBe('as given');
    // A fresh copy each time: a test that changes one changes no other.
    sampleNotification('anomaly').reasons!.push('changed');
    expect(sampleNotification('anomaly').reasons).toHaveLength(2);
  });

  it('createTestNotifier: notify says whether on: let the event through; a hook without notify rejects', async () => {
    const sent: Notification[] = [];
    const recorder = defineNotifier({
      name: 'recorder',
      description: 'Records what it is given.',
      options: {},
      defaultOn: ['failure'],
      secrets: () => [],
      target: () => 'memory',
      send: async (notification) => {
        sent.push(notification);
      },
    });
    const { notify, instance } = await createTestNotifier(recorder);
    expect(instance.target).toBe('memory');
    await expect(notify(sampleNotification('success'))).resolves.toBe(false);
    await expect(notify(sampleNotification('failure'))).resolves.toBe(true);
    expect(sent.map(({ event }) => event)).toEqual(['failure']);
    const silent = definePlugin({ name: 'silent', kind: 'hook', schema: Type.Object({}), create: () => ({}) });
    await expect((await createTestNotifier(silent)).notify(sampleNotification('failure'))).rejects.toThrow(/^silent has no notify/);
  });
});

describe('runTestPipeline', () => {
  const dump = Buffer.from('CREATE TABLE t (id int);\n'.repeat(2000));
  const now = new Date('2026-02-01T03:00:00Z');

  it('runs a plugin with its defaults filled, commits, and restores through the inverse', async () => {
    const run = await runTestPipeline({ job: 'clara', source: sourceFrom([dump]), transforms: [{ plugin: gzipLike }], now });
    expect(run.result.status).toBe('succeeded');
    // level defaulted to 1 by the schema, as in a real run.
    expect(run.result.artifact?.key).toBe('clara_20260201_030000.gz1');
    expect(run.objects.map((object) => object.key)).toEqual(['clara_20260201_030000.gz1']);
    expect(gunzipSync(await run.read()).equals(dump)).toBe(true);
    expect((await run.restore()).equals(dump)).toBe(true);
    expect(run.logs.at(-1)).toMatch(/^2026-02-01 03:00:00 - clara backup complete: clara_20260201_030000\.gz1 \(\d+ B\)$/);
  });

  it('refuses options the schema refuses, before running anything', async () => {
    await expect(
      runTestPipeline({ source: sourceFrom([dump]), transforms: [{ plugin: gzipLike, options: { level: 12 } }] }),
    ).rejects.toThrow('gzip-like options: with.level must be <= 9');
  });

  it('reports a plugin whose create throws as the engine does, and commits nothing', async () => {
    const broken = definePlugin({
      name: 'broken',
      kind: 'transform',
      schema: Type.Object({}),
      create() {
        throw new Error('no key configured');
      },
    });
    const run = await runTestPipeline({ source: sourceFrom([dump]), transforms: [{ plugin: broken }] });
    expect(run.result.status).toBe('failed');
    expect(run.result.error).toMatchObject({ code: 'TRANSFORM_FAILED', plugin: 'broken', hook: 'create', message: 'broken create: no key configured' });
    expect(run.objects).toEqual([]);
  });

  it('masks what a plugin registered as a secret', async () => {
    const secretive = definePlugin({
      name: 'secretive',
      kind: 'transform',
      schema: Type.Object({ key: Type.String() }),
      create(options, context) {
        context.secrets.add(options.key);
        context.logger.info(`using key ${options.key}`);
        return gzipTransform;
      },
    });
    const run = await runTestPipeline({ source: sourceFrom([dump]), transforms: [{ plugin: secretive, options: { key: 'hunter2-long' } }] });
    expect(run.logs.join('\n')).toContain('using key ***');
    expect(run.logs.join('\n')).not.toContain('hunter2-long');
    expect(run.redact('x hunter2-long y')).toBe('x *** y');
  });
});

describe('slowSink', () => {
  const CHUNK = 64 * 1024;
  const TOTAL = 24 * 1024 * 1024;

  /** Runs TOTAL bytes through `transform` into a sink taking 48 MB/s; returns how far the source ever got ahead. */
  async function maxLead(transform: TransformInstance): Promise<number> {
    let produced = 0;
    let lead = 0;
    const sink = slowSink(createMemoryStore(), { bytesPerSecond: 48e6 });
    const source = sourceFrom(
      (async function* () {
        while (produced < TOTAL) {
          lead = Math.max(lead, produced - sink.consumed);
          produced += CHUNK;
          yield randomBytes(CHUNK);
        }
      })(),
    );
    const run = await runTestPipeline({ source, transforms: [transform], sink });
    expect(run.result.status).toBe('succeeded');
    expect(sink.consumed).toBe(run.result.artifact?.size);
    return lead;
  }

  it('keeps a streaming transform within a few chunks of the slow sink', async () => {
    expect(await maxLead({ encode: () => new PassThrough(), decode: () => new PassThrough() })).toBeLessThan(2 * 1024 * 1024);
  });

  it('shows a transform that buffers everything running far ahead', async () => {
    const hoarding: TransformInstance = {
      encode: () => {
        const held: Buffer[] = [];
        return new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            held.push(chunk);
            callback();
          },
          flush(callback) {
            callback(null, Buffer.concat(held));
          },
        });
      },
      decode: () => new PassThrough(),
    };
    expect(await maxLead(hoarding)).toBeGreaterThan(TOTAL / 2);
  });
});
