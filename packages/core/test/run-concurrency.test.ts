import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { definePlugin, Secrets, Type, type SinkInstance, type SourceInstance } from '@backupctl/plugin-api';
import { createMemoryStore } from '@backupctl/plugin-api/testing';
import type { LoadedJob, LoadedStep } from '../src/config/load-pipeline.js';
import type { JobResult } from '../src/backup/run-job.js';
import { createLogger } from '../src/log/logger.js';
import { runPipeline } from '../src/backup/run-pipeline.js';
import { BASE_BYTES, planRun, STREAM_BYTES } from '../src/backup/run-plan.js';
import { checkSharedJobs, walkOrder, walkShared } from '../src/backup/shared-walk.js';
import { mapLimited } from '../src/backup/slots.js';
import respawn from '../src/hooks/respawn.js';

const MiB = 1024 * 1024;

// Concurrency in one run (issue 21): at most N backups in flight, parts
// started in order, results and the summary in the parts' order; the
// planner's memory estimate; the worker walk of parts others hold.

let inFlight = 0;
let widest = 0;

/** A source of `databases`, one part each; a part's dump takes `ms` (its index × 5 ms less for later ones, so they end out of order). */
const serverSource = definePlugin({
  name: 'server',
  kind: 'source',
  schema: Type.Object({ databases: Type.Optional(Type.Array(Type.String())), database: Type.Optional(Type.String()), ms: Type.Number({ default: 30 }) }),
  create: (options): SourceInstance => ({
    async expand() {
      return options.databases?.map((name, index) => ({ name, options: { database: name, ms: 60 - index * 5 } }));
    },
    open: async () => {
      inFlight += 1;
      widest = Math.max(widest, inFlight);
      const done = new Promise<void>((resolve) => setTimeout(resolve, options.ms)).finally(() => (inFlight -= 1));
      const stream = new Readable({ read() {} });
      void done.then(() => stream.push(null));
      stream.push(Buffer.from(`dump of ${options.database}`));
      return { stream, done };
    },
  }),
});

const bucket = createMemoryStore();
const memorySink = definePlugin({
  name: 'memory',
  kind: 'sink',
  schema: Type.Object({ prefix: Type.String({ default: '' }), partMiB: Type.Number({ default: 8 }) }),
  create: (options): SinkInstance => ({ ...bucket, prefix: options.prefix, write: (stream, name, signal) => bucket.write(stream, `${options.prefix}${name}`, signal) }),
  partOptions: (options, part) => ({ ...options, prefix: `${options.prefix}${part}/` }),
  bufferBytes: (options) => options.partMiB * 5 * MiB,
});

function step(kind: LoadedStep['kind'], plugin: unknown, options: Record<string, unknown>): LoadedStep {
  return { use: kind === 'source' ? 'server' : kind === 'hook' ? 'respawn' : 'memory', kind, from: 'builtin', options, path: `jobs.main.${kind}`, plugin: plugin as never };
}

function job(databases: string[], extra: Partial<LoadedJob> = {}): LoadedJob {
  return {
    name: 'main',
    title: 'Main server',
    nameTemplate: '{job}_{timestamp}{ext}',
    source: step('source', serverSource, { databases, ms: 30 }),
    transforms: [],
    sink: step('sink', memorySink, { prefix: 'servers/main/', partMiB: 8 }),
    hooks: [],
    ...extra,
  };
}

function harness() {
  const lines: string[] = [];
  const secrets = new Secrets();
  return { lines, secrets, logger: createLogger({ secrets, write: (line) => lines.push(line.slice(22)) }) };
}

const names = Array.from({ length: 8 }, (_, index) => `db${index}`);

describe('concurrency in one run', () => {
  it('runs at most N parts at once, tags their lines, and lists every part in the parts\' order', async () => {
    inFlight = 0;
    widest = 0;
    bucket.objects.clear();
    const h = harness();
    const summary = await runPipeline([job(names, { concurrency: 3 })], h);
    expect(summary.ok).toBe(true);
    expect(widest).toBe(3);
    expect(summary.results.map((result) => result.job)).toEqual(names);
    expect(h.lines).toContain('Main server: 8 parts: 8 backed up, 0 skipped, 0 failed');
    const listed = h.lines.flatMap((line) => /^Main server \/ (db\d): backed up db\d_\d{8}_\d{6} \(\d+ B\)$/.exec(line)?.[1] ?? []);
    expect(listed).toEqual(names);
    expect(h.lines).toContainEqual(expect.stringMatching(/^\[main\/db5\] Main server \/ db5 backup complete: /));
  });

  it('runs one part at a time without concurrency, and its lines carry no tag', async () => {
    inFlight = 0;
    widest = 0;
    const h = harness();
    await runPipeline([job(names.slice(0, 3))], h);
    expect(widest).toBe(1);
    expect(h.lines.some((line) => line.startsWith('['))).toBe(false);
  });

  it('lets 32 backups listen to the run\'s abort signal without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const h = harness();
      const many = Array.from({ length: 40 }, (_, index) => `many${index}`);
      const summary = await runPipeline([job(many, { concurrency: 32 })], { ...h, signal: new AbortController().signal });
      expect(summary.ok).toBe(true);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('--concurrency overrides the job\'s, and never lets more than the run\'s slots run across jobs', async () => {
    inFlight = 0;
    widest = 0;
    const h = harness();
    const other = { ...job(names.slice(0, 4), { concurrency: 4 }), name: 'other', title: 'Other server' };
    await runPipeline([job(names.slice(4), { concurrency: 4 }), other], { ...h, concurrency: 2, overrideJobConcurrency: true });
    expect(widest).toBe(2);
  });
});

describe('the memory planner', () => {
  const stream = STREAM_BYTES + 40 * MiB;

  it('estimates the base plus each backup in flight with its stages\' buffers', () => {
    const h = harness();
    const plan = planRun([job(names, { concurrency: 4 })], {}, h.logger);
    expect(plan).toMatchObject({ slots: 4, streamBytes: stream, estimateBytes: BASE_BYTES + 4 * stream });
    expect(h.lines).toContain(`Running up to 4 backups at once (memory estimate ${((BASE_BYTES + 4 * stream) / MiB).toFixed(1)} MB: 96.0 MB + 4 × ${(stream / MiB).toFixed(1)} MB)`);
  });

  it('lowers concurrency to fit memoryBudgetMiB, and says so', () => {
    const h = harness();
    const budgetMiB = (BASE_BYTES + 2 * stream + stream / 2) / MiB;
    const plan = planRun([job(names)], { concurrency: 6, memoryBudgetMiB: Math.floor(budgetMiB) }, h.logger);
    expect(plan.slots).toBe(2);
    expect(h.lines[0]).toBe(`memoryBudgetMiB ${Math.floor(budgetMiB)}: 2 backups at once instead of 6 (each up to ${(stream / MiB).toFixed(1)} MB, the process 96.0 MB)`);
  });

  it('keeps one backup when not even one fits, with a warning', () => {
    const h = harness();
    expect(planRun([job(names)], { concurrency: 4, memoryBudgetMiB: 100 }, h.logger).slots).toBe(1);
    expect(h.lines[0]).toMatch(/^WARN: memoryBudgetMiB 100: 1 backup at once instead of 4 .*even one does not fit/);
  });
});

describe('workers sharing parts', () => {
  it('start their walks apart', () => {
    const parts = Array.from({ length: 20 }, (_, index) => index);
    expect([0, 1, 2].map((index) => walkOrder(parts, index)[0])).toEqual([0, 12, 4]);
    expect(walkOrder(parts, 1).slice().sort((a, b) => a - b)).toEqual(parts);
  });

  it('come back to the parts another worker held until none is held, and report each part once, in order', async () => {
    const parts = names.slice(0, 4).map((name) => job([], { name }));
    const heldFor = new Map([['db1', 2], ['db3', 1]]);
    const tries: string[] = [];
    const h = harness();
    const attempt = async (part: LoadedJob): Promise<JobResult> => {
      tries.push(part.name);
      const left = heldFor.get(part.name) ?? 0;
      heldFor.set(part.name, left - 1);
      return left > 0
        ? { job: part.name, title: part.title, status: 'skipped', busy: true, reason: 'held', durationMs: 0 }
        : { job: part.name, title: part.title, status: 'succeeded', durationMs: 0 };
    };
    const results = await walkShared(parts, { worker: { index: 0, minWaitMs: 1, maxWaitMs: 2 }, limit: 2, attempt, logger: h.logger, title: 'Main server' });
    expect(results.map((result) => [result.job, result.status])).toEqual(names.slice(0, 4).map((name) => [name, 'succeeded']));
    expect(tries).toEqual(['db0', 'db1', 'db2', 'db3', 'db1', 'db3', 'db1']);
    expect(h.lines).toContain('Main server: 2 parts held by other workers (db1, db3); trying again in 0 s');
  });

  it('need the respawn hook on every required copy', () => {
    expect(() => checkSharedJobs([job(names)])).toThrow('job main, copy memory: --worker needs each part\'s last backup to be recorded and respected, but it has no respawn hook');
    const guarded = (options: Record<string, unknown>) => job(names, { hooks: [step('hook', respawn, options)] });
    expect(() => checkSharedJobs([guarded({ hours: 23, force: 'false' })])).not.toThrow();
    expect(() => checkSharedJobs([guarded({ hours: 0, force: 'false' })])).toThrow('its respawn hook is off (hours: 0)');
    expect(() => checkSharedJobs([guarded({ hours: 23, force: 'true' })])).toThrow('its respawn hook is forced');
  });

  it('mapLimited keeps the items\' order whatever order they end in', async () => {
    const ends: number[] = [];
    const results = await mapLimited([30, 10, 20], 3, async (ms, index) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      ends.push(index);
      return index;
    });
    expect(results).toEqual([0, 1, 2]);
    expect(ends).toEqual([1, 2, 0]);
  });
});
