import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { HookInstance, SinkInstance, SourceInstance } from '@backupctl/plugin-api';
import type { LoadedJob, LoadedStep } from '../src/config/load-pipeline.js';
import { runJob } from '../src/backup/run-job.js';
import { collectingLogger, loadedStep } from './job-fixtures.js';
import { createMemoryStore, sourceFrom } from '@backupctl/plugin-api/testing';

function job(parts: { source: SourceInstance; sink: SinkInstance; hooks?: HookInstance[]; gzip?: boolean; failingTransform?: boolean }): LoadedJob {
  const transforms: LoadedStep[] = [];
  if (parts.gzip) {
    transforms.push(
      loadedStep('transform', 'gzip', () => ({ encode: () => createGzip(), decode: () => createGunzip() })),
    );
  }
  if (parts.failingTransform) {
    transforms.push(
      loadedStep('transform', 'broken', () => ({
        encode: () => new Transform({ transform: (_chunk, _enc, callback) => callback(new Error('transform exploded')) }),
        decode: () => new Transform(),
      })),
    );
  }
  return {
    name: 'clara',
    title: 'Clara DB',
    nameTemplate: '{job}_{timestamp}{ext}',
    source: loadedStep('source', 'fake-source', () => parts.source),
    transforms,
    sink: loadedStep('sink', 'memory', () => parts.sink),
    hooks: (parts.hooks ?? []).map((hook, index) => loadedStep('hook', `hook${index}`, () => hook)),
  };
}

const payload = Buffer.from('CREATE TABLE t (id int);\n'.repeat(5000));

describe('runJob', () => {
  it('streams source -> gzip -> sink and reports the stored size and sha256', async () => {
    const store = createMemoryStore({ prefix: 'backups/clara/' });
    const h = collectingLogger();
    const result = await runJob(job({ source: sourceFrom([payload]), sink: store, gzip: true }), h);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('succeeded');
    const stored = store.objects.get('backups/clara/clara_20260201_030000');
    expect(stored).toBeDefined();
    expect(gunzipSync(stored!.body).equals(payload)).toBe(true);
    expect(result.artifact).toMatchObject({ key: 'backups/clara/clara_20260201_030000', size: stored!.body.length, sourceSize: payload.length });
    expect(result.artifact!.sha256).toBe(createHash('sha256').update(stored!.body).digest('hex'));
    expect(h.lines.at(-1)).toMatch(/^2026-02-01 03:00:00 - Clara DB backup complete: clara_20260201_030000 \(\d+ B\)$/);
  });

  it('commits nothing when the source fails after its stream ended (pg_dump exit code)', async () => {
    const store = createMemoryStore();
    const afterCommit: string[] = [];
    const result = await runJob(
      job({
        source: sourceFrom([payload], { fail: new Error('pg_dump exited with code 1') }),
        sink: store,
        hooks: [{ afterCommit: async () => void afterCommit.push('ran') }],
      }),
      collectingLogger(),
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('SOURCE_FAILED');
    expect(result.error?.message).toContain('pg_dump exited with code 1');
    expect(store.objects.size).toBe(0);
    expect(afterCommit).toEqual([]);
  });

  it('reports a failing transform as TRANSFORM_FAILED with the plugin named', async () => {
    const store = createMemoryStore();
    const result = await runJob(job({ source: sourceFrom([payload]), sink: store, failingTransform: true }), collectingLogger());
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'TRANSFORM_FAILED', plugin: 'broken' });
    expect(store.objects.size).toBe(0);
  });

  it('runs hooks in order, skips on a beforeRun decision, and closes in reverse order with the error', async () => {
    const calls: string[] = [];
    const hook = (name: string, skip = false): HookInstance => ({
      beforeRun: async () => {
        calls.push(`${name}.beforeRun`);
        return skip ? { skip: true, reason: 'last backup 2 hours ago' } : undefined;
      },
      close: async (error) => void calls.push(`${name}.close(${error ? 'error' : ''})`),
    });
    const h = collectingLogger();
    const store = createMemoryStore();
    const result = await runJob(job({ source: sourceFrom([payload]), sink: store, hooks: [hook('a'), hook('b', true), hook('c')] }), h);
    expect(result).toMatchObject({ status: 'skipped', reason: 'last backup 2 hours ago' });
    expect(calls).toEqual(['a.beforeRun', 'b.beforeRun', 'c.close()', 'b.close()', 'a.close()']);
    expect(store.objects.size).toBe(0);
    expect(h.lines).toContain('2026-02-01 03:00:00 - Clara DB backup skipped: last backup 2 hours ago');
  });

  it('gives onError hooks the error and keeps the backup when an afterCommit hook fails', async () => {
    const store = createMemoryStore();
    const seen: string[] = [];
    const failing = await runJob(
      job({ source: sourceFrom([payload], { fail: new Error('boom') }), sink: store, hooks: [{ onError: async ({ error }) => void seen.push((error as Error).message) }] }),
      collectingLogger(),
    );
    expect(failing.status).toBe('failed');
    expect(seen).toEqual(['fake-source done: boom']);

    const committed = await runJob(
      job({
        source: sourceFrom([payload]),
        sink: store,
        hooks: [
          { afterCommit: async () => { throw new Error('retention broke'); } },
          { onError: async ({ error }) => void seen.push((error as Error).message) },
        ],
      }),
      collectingLogger(),
    );
    expect(committed.status).toBe('failed');
    expect(committed.error).toMatchObject({ code: 'HOOK_FAILED', hook: 'afterCommit' });
    expect(seen).toEqual(['fake-source done: boom', 'hook0 afterCommit: retention broke']);
    expect(committed.artifact?.key).toBe('clara_20260201_030000');
    expect(store.objects.size).toBe(1);
  });

  it('stops and commits nothing when the run is cancelled', async () => {
    const controller = new AbortController();
    const store = createMemoryStore();
    async function* slow() {
      for (let i = 0; i < 1000; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (i === 3) controller.abort(new Error('received SIGTERM'));
        yield payload;
      }
    }
    const result = await runJob(job({ source: sourceFrom(slow()), sink: store }), { ...collectingLogger(), signal: controller.signal });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ABORTED');
    expect(result.error?.message).toContain('SIGTERM');
    expect(store.objects.size).toBe(0);
  });

  it('skips a job whose required environment is missing', async () => {
    const h = collectingLogger();
    const result = await runJob({ ...job({ source: sourceFrom([payload]), sink: createMemoryStore() }), title: 'Mem0 DB', skipReason: 'MEM0_DATABASE_URL is not set' }, h);
    expect(result.status).toBe('skipped');
    expect(h.lines).toEqual(['2026-02-01 03:00:00 - Mem0 DB backup skipped: MEM0_DATABASE_URL is not set']);
  });
});
