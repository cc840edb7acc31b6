import { describe, expect, it } from 'vitest';
import { definePlugin, Secrets, Type, type HookInstance, type Notification, type SinkInstance, type SourceInstance } from '@backupctl/plugin-api';
import type { LoadedJob, LoadedStep } from '../src/config/load-pipeline.js';
import { expandStoredJob } from '../src/parts/expand-job.js';
import { createLogger } from '../src/log/logger.js';
import { runPipeline } from '../src/backup/run-pipeline.js';
import { readJobFreshness } from '../src/hooks/job-freshness.js';
import { createMemoryStore, sourceFrom } from '@backupctl/plugin-api/testing';

// Whole servers: a source with `expand` runs as one sub-job per part, each
// under `<prefix><part>/`, all named with the run's one timestamp.

let clock = new Date('2026-02-01T03:00:00Z');
const now = () => new Date(clock);

/** A source standing for `databases`, one part each; a part dumps its own name. */
const serverSource = definePlugin({
  name: 'server',
  kind: 'source',
  schema: Type.Object({ databases: Type.Optional(Type.Array(Type.String())), database: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
  create: (options): SourceInstance => ({
    async expand(_signal, known) {
      if (!options.databases) return undefined;
      return (known ?? options.databases).map((name) => ({ name, options: { database: name } }));
    },
    open: async (signal) => {
      // Each sub-job takes a second: their names must still share the run's timestamp.
      clock = new Date(clock.getTime() + 1000);
      // A database named `broken` fails its dump.
      const fail = options.database === 'broken' ? new Error('database "broken" is unreadable') : undefined;
      return sourceFrom([Buffer.from(`dump of ${options.database}`)], { fail }).open(signal);
    },
  }),
});

// One bucket shared by every sub-job's store, as S3 would be.
const bucket = createMemoryStore();
const objects = bucket.objects;
const put = (key: string, text: string) => objects.set(key, { body: Buffer.from(text), lastModified: new Date() });
function memorySink(withParts: boolean) {
  const sink = definePlugin({
    name: 'memory',
    kind: 'sink',
    schema: Type.Object({ prefix: Type.String({ default: '' }) }),
    create: (options: { prefix?: string }): SinkInstance => {
      const prefix = options.prefix ?? '';
      return { ...bucket, prefix, write: (stream, name, signal) => bucket.write(stream, `${prefix}${name}`, signal) };
    },
    // A sink keeps parts apart by saying how (partOptions): here, as s3 and file do, under `<prefix><part>/`.
    partOptions: (options, part) => ({ ...options, prefix: `${options.prefix}${part}/` }),
  });
  return withParts ? sink : { ...sink, partOptions: undefined };
}

function step(kind: LoadedStep['kind'], plugin: unknown, options: Record<string, unknown>): LoadedStep {
  return { use: kind === 'source' ? 'server' : 'memory', kind, from: 'test', options, path: `jobs.main.${kind}`, plugin: plugin as never };
}

function job(options: { databases?: string[]; sinkPrefix?: boolean } = {}): LoadedJob {
  return {
    name: 'main',
    title: 'Main server',
    nameTemplate: '{job}_{timestamp}{ext}',
    source: step('source', serverSource, options.databases ? { databases: options.databases } : { database: 'main' }),
    transforms: [],
    sink: step('sink', memorySink(options.sinkPrefix ?? true), options.sinkPrefix === false ? {} : { prefix: 'servers/main/' }),
    hooks: [],
  };
}

function harness() {
  const lines: string[] = [];
  const secrets = new Secrets();
  return { lines, secrets, now, logger: createLogger({ secrets, write: (line) => lines.push(line), now }) };
}

describe('whole-server jobs', () => {
  it('runs one sub-job per part, in the source\'s order, each under <prefix><part>/ with the run\'s timestamp', async () => {
    objects.clear();
    const h = harness();
    const summary = await runPipeline([job({ databases: ['globals', 'shop', 'crm'] })], h);
    expect(summary.ok).toBe(true);
    expect(summary.results.map((result) => [result.job, result.title, result.status])).toEqual([
      ['globals', 'Main server / globals', 'succeeded'],
      ['shop', 'Main server / shop', 'succeeded'],
      ['crm', 'Main server / crm', 'succeeded'],
    ]);
    expect([...objects.keys()].filter((key) => key.startsWith('servers/')).sort()).toEqual([
      'servers/main/crm/crm_20260201_030000',
      'servers/main/globals/globals_20260201_030000',
      'servers/main/shop/shop_20260201_030000',
    ]);
    expect(objects.get('servers/main/shop/shop_20260201_030000')?.body.toString()).toBe('dump of shop');
    expect(h.lines.join('\n')).toContain('Main server: backing up 3 parts: globals, shop, crm');
  });

  it("tells the job's notifiers its start and its result once, with every database's outcome, not once per database", async () => {
    objects.clear();
    const heard: Notification[] = [];
    const recorder = definePlugin({
      name: 'recorder',
      kind: 'hook',
      schema: Type.Object({}),
      create: (): HookInstance => ({ notify: async (notification) => (heard.push(notification), true) }),
    });
    const h = harness();
    const server = { ...job({ databases: ['shop', 'crm'] }), notify: [{ ...step('sink', recorder, {}), use: 'recorder', kind: 'hook' as const }] };
    const summary = await runPipeline([server], h);
    expect(summary.ok).toBe(true);
    expect(heard.map(({ event, job: name }) => [event, name])).toEqual([
      ['start', 'main'],
      ['success', 'main'],
    ]);
    expect(heard[1]).toMatchObject({
      summary: 'Main server backup complete: 2 of 2 databases (23 B)',
      size: 23,
      parts: [
        { name: 'shop', status: 'succeeded', key: expect.stringMatching(/^servers\/main\/shop\/shop_\d{8}_\d{6}$/) },
        { name: 'crm', status: 'succeeded', key: expect.stringMatching(/^servers\/main\/crm\/crm_\d{8}_\d{6}$/) },
      ],
    });
    expect(heard[1]!.runId).toBe(heard[0]!.runId);

    heard.length = 0;
    const failing = { ...server, ...job({ databases: ['shop', 'broken'] }), notify: server.notify };
    expect((await runPipeline([failing], h)).ok).toBe(false);
    expect(heard.map(({ event }) => event)).toEqual(['start', 'failure']);
    expect(heard[1]).toMatchObject({
      summary: 'Main server backup failed: 1 of 2 databases failed: broken (server done: database "broken" is unreadable)',
      error: { code: 'SOURCE_FAILED' },
      parts: [
        { name: 'shop', status: 'succeeded' },
        { name: 'broken', status: 'failed', error: 'server done: database "broken" is unreadable' },
      ],
      logTail: expect.arrayContaining([expect.stringContaining('ERROR: Main server / broken backup failed')]),
    });
  });

  it("is as fresh as its database furthest behind, among those the server has now", async () => {
    objects.clear();
    const h = harness();
    clock = new Date('2026-02-01T03:00:00Z');
    await runPipeline([job({ databases: ['shop', 'crm'] })], h);
    clock = new Date('2026-02-02T03:00:00Z');
    await runPipeline([job({ databases: ['shop'] })], h);
    // crm's newest backup is a day older than shop's.
    const both = await readJobFreshness(job({ databases: ['shop', 'crm'] }), { ...h, signal: new AbortController().signal });
    expect(both.part).toBe('crm');
    expect(both.lastBackupAt?.toISOString()).toMatch(/^2026-02-01T03:00:0\d/);
    // crm dropped from the server: no longer waited for.
    const shopOnly = await readJobFreshness(job({ databases: ['shop'] }), { ...h, signal: new AbortController().signal });
    expect(shopOnly.part).toBe('shop');
    expect(shopOnly.lastBackupAt?.toISOString()).toMatch(/^2026-02-02T03:00:0\d/);
  });

  it('leaves a source that does not expand alone', async () => {
    objects.clear();
    const summary = await runPipeline([job()], harness());
    expect(summary.results.map((result) => result.job)).toEqual(['main']);
    expect([...objects.keys()].filter((key) => key.startsWith('servers/'))).toEqual([expect.stringMatching(/^servers\/main\/main_\d{8}_\d{6}$/)]);
  });

  it('fails the job, naming the sink, when the sink cannot keep the parts apart (no partOptions)', async () => {
    const summary = await runPipeline([job({ databases: ['a', 'b'], sinkPrefix: false })], harness());
    expect(summary.ok).toBe(false);
    expect(summary.results).toHaveLength(1);
    expect(summary.results[0]?.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('the "memory" sink cannot keep parts apart') });
  });

  it('fails the job as any failed job when the source cannot list its parts: logged, onError hooks run', async () => {
    const down = definePlugin({
      name: 'server',
      kind: 'source',
      schema: Type.Object({}),
      create: (): SourceInstance => ({
        expand: () => Promise.reject(new Error('connection refused')),
        open: () => Promise.reject(new Error('not reached')),
      }),
    });
    const alerts: string[] = [];
    const alert = definePlugin({
      name: 'alert',
      kind: 'hook',
      schema: Type.Object({}),
      create: () => ({ onError: async (run) => void alerts.push(`${run.job}: ${(run.error as Error).message}`) }),
    });
    const h = harness();
    const summary = await runPipeline([{ ...job(), source: step('source', down, {}), hooks: [step('hook', alert, {})] }], h);
    expect(summary.results.map((result) => [result.job, result.status, result.error?.code, result.error?.hook])).toEqual([['main', 'failed', 'SOURCE_FAILED', 'expand']]);
    expect(alerts).toEqual(['main: server expand: connection refused']);
    expect(h.lines.join('\n')).toContain('Main server backup failed: server expand: connection refused');
  });

  it('fails the job when a part\'s options do not fit the plugin\'s schema', async () => {
    const summary = await runPipeline([job({ databases: [''] })], harness());
    expect(summary.results[0]?.error?.message).toMatch(/part|not one path segment/);
    expect(summary.results[0]?.status).toBe('failed');
  });

  it('for restore, finds the parts in the store, not at the source', async () => {
    objects.clear();
    await runPipeline([job({ databases: ['globals', 'shop'] })], harness());
    put('servers/main/notes.txt', 'put there by hand');
    put('servers/main/stray/other_20260201_030000', 'not named for its folder');
    const h = harness();
    const parts = await expandStoredJob(job({ databases: ['globals', 'shop', 'gone'] }), { logger: h.logger, secrets: h.secrets, signal: new AbortController().signal });
    expect(parts?.map((part) => [part.name, part.sink?.options.prefix])).toEqual([
      ['globals', 'servers/main/globals/'],
      ['shop', 'servers/main/shop/'],
    ]);
  });

  it('gives every copy of a part the part\'s place in that copy (restore and ls read each copy per part)', async () => {
    objects.clear();
    await runPipeline([job({ databases: ['shop'] })], harness());
    const whole = job({ databases: ['shop'] });
    const offsite = { ...whole.sink!, options: { prefix: 'offsite/main/' } };
    const h = harness();
    const parts = await expandStoredJob(
      { ...whole, copies: [{ name: 'memory', sink: whole.sink!, hooks: [], required: true }, { name: 'offsite', sink: offsite, hooks: [], required: false }] },
      { logger: h.logger, secrets: h.secrets, signal: new AbortController().signal },
    );
    expect(parts?.map((part) => [part.name, part.sink?.options.prefix, part.copies?.map((copy) => [copy.name, copy.sink.options.prefix, copy.required])])).toEqual([
      ['shop', 'servers/main/shop/', [['memory', 'servers/main/shop/', true], ['offsite', 'offsite/main/shop/', false]]],
    ]);

    // A part only the second copy still holds is found there.
    put('offsite/main/crm/crm_20260201_030000', 'dump of crm');
    const withCrm = await expandStoredJob(
      { ...job({ databases: ['shop', 'crm'] }), copies: [{ name: 'memory', sink: whole.sink!, hooks: [], required: true }, { name: 'offsite', sink: offsite, hooks: [], required: false }] },
      { logger: h.logger, secrets: h.secrets, signal: new AbortController().signal },
    );
    expect(withCrm?.map((part) => part.name)).toEqual(['shop', 'crm']);
  });
});
