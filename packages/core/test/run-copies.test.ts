import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { HookInstance, SinkInstance, SourceInstance } from '@backupctl/plugin-api';
import { createMemoryStore, sourceFrom } from '@backupctl/plugin-api/testing';
import type { LoadedJob } from '../src/config/load-pipeline.js';
import type { LoadedCopy } from '../src/plugins/loaded-job.js';
import { runJob } from '../src/backup/run-job.js';
import { collectingLogger, loadedStep } from './job-fixtures.js';

// Several sinks for one job (issue 16): one dump, the same bytes to every copy.

function copy(name: string, sink: SinkInstance, options: { required?: boolean; hooks?: HookInstance[] } = {}): LoadedCopy {
  return {
    name,
    sink: loadedStep('sink', name, () => sink),
    hooks: (options.hooks ?? []).map((hook, index) => loadedStep('hook', `${name}-hook${index}`, () => hook)),
    required: options.required ?? true,
  };
}

function job(source: SourceInstance, copies: LoadedCopy[]): LoadedJob {
  return { name: 'clara', title: 'Clara DB', nameTemplate: '{job}_{timestamp}', source: loadedStep('source', 'fake', () => source), transforms: [], sink: copies[0]!.sink, hooks: copies[0]!.hooks, copies };
}

/** A sink that reads part of the stream, then fails (its upload broke). */
function failingSink(after: number): SinkInstance {
  const store = createMemoryStore();
  return {
    ...store,
    async write(stream) {
      let seen = 0;
      await pipeline(stream, new Writable({ write: (chunk: Buffer, _encoding, callback) => ((seen += chunk.length) > after ? callback(new Error('connection reset by peer')) : callback()) }));
      throw new Error('not reached');
    },
  };
}

const payload = Buffer.from('COPY t FROM stdin;\n'.repeat(200_000));
const sha = (body: Buffer) => createHash('sha256').update(body).digest('hex');

describe('runJob with several copies', () => {
  it('writes the same bytes to every copy, records each, runs each copy\'s hooks where it committed', async () => {
    const a = createMemoryStore({ prefix: 'a/' });
    const b = createMemoryStore({ prefix: 'b/' });
    const committed: string[] = [];
    const hook = (name: string): HookInstance => ({ afterCommit: async (run) => void committed.push(`${name}:${run.artifact.key}`) });
    const h = collectingLogger();
    const result = await runJob(job(sourceFrom([payload]), [copy('s3', a, { hooks: [hook('s3')] }), copy('nas', b, { hooks: [hook('nas')] })]), h);
    expect(result.status, h.lines.join('\n')).toBe('succeeded');
    expect(sha(a.objects.get('a/clara_20260201_030000')!.body)).toBe(sha(payload));
    expect(sha(b.objects.get('b/clara_20260201_030000')!.body)).toBe(sha(payload));
    expect(committed).toEqual(['s3:a/clara_20260201_030000', 'nas:b/clara_20260201_030000']);
    expect(b.metadata.get('checksums/b/clara_20260201_030000.json')).toMatchObject({ sha256: sha(payload) });
    expect(result.copies).toEqual([
      { name: 's3', required: true, status: 'stored', key: 'a/clara_20260201_030000' },
      { name: 'nas', required: true, status: 'stored', key: 'b/clara_20260201_030000' },
    ]);
    expect(h.lines).toContain('2026-02-01 03:00:00 - Clara DB copy nas: stored b/clara_20260201_030000');
  });

  it('a non-required copy that fails: the job succeeds, the failure is one line and reaches that copy\'s onError only', async () => {
    const a = createMemoryStore({ prefix: 'a/' });
    const alerts: string[] = [];
    const h = collectingLogger();
    const result = await runJob(
      job(sourceFrom([payload]), [
        copy('s3', a, { hooks: [{ onError: async () => void alerts.push('s3') }] }),
        copy('offsite', failingSink(100_000), { required: false, hooks: [{ onError: async (run) => void alerts.push(`offsite: ${(run.error as Error).message}`) }] }),
      ]),
      h,
    );
    expect(result.status, h.lines.join('\n')).toBe('succeeded');
    expect(sha(a.objects.get('a/clara_20260201_030000')!.body)).toBe(sha(payload));
    expect(result.copies?.map((c) => [c.name, c.status])).toEqual([['s3', 'stored'], ['offsite', 'failed']]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(/^offsite: .*connection reset by peer/);
    expect(h.lines.some((line) => /WARN: Clara DB copy offsite failed: .*connection reset by peer.* \(not required: the job goes on\)$/.test(line))).toBe(true);
  });

  it('a required copy that fails: the other is still stored, the job fails (exit 1) naming each copy', async () => {
    const b = createMemoryStore({ prefix: 'b/' });
    const h = collectingLogger();
    const result = await runJob(job(sourceFrom([payload]), [copy('s3', failingSink(50_000)), copy('nas', b)]), h);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('SINK_FAILED');
    expect(sha(b.objects.get('b/clara_20260201_030000')!.body)).toBe(sha(payload));
    expect(h.lines.at(-1)).toBe('2026-02-01 03:00:00 - ERROR: Clara DB backup failed: a required copy failed (s3 failed, nas stored)');
  });

  it('the source failing stores no copy', async () => {
    const a = createMemoryStore({ prefix: 'a/' });
    const b = createMemoryStore({ prefix: 'b/' });
    const result = await runJob(job(sourceFrom([payload], { fail: new Error('pg_dump exited with code 1') }), [copy('s3', a), copy('nas', b)]), collectingLogger());
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('SOURCE_FAILED');
    expect(a.objects.size + b.objects.size).toBe(0);
  });

  it('skips only when every required copy would: a copy missing its recent backup makes the job run', async () => {
    const a = createMemoryStore({ prefix: 'a/' });
    const b = createMemoryStore({ prefix: 'b/' });
    const recent: HookInstance = { beforeRun: async () => ({ skip: true, reason: 'the last backup is 2 hours old' }) };
    const h = collectingLogger();
    const ran = await runJob(job(sourceFrom([payload]), [copy('s3', a, { hooks: [recent] }), copy('nas', b)]), h);
    expect(ran.status).toBe('succeeded');
    expect(h.lines).toContain('2026-02-01 03:00:00 - Clara DB: copy s3 would skip (the last backup is 2 hours old), but copy nas needs a backup: writing every copy');
    const skipped = await runJob(job(sourceFrom([payload]), [copy('s3', a, { hooks: [recent] }), copy('nas', b, { hooks: [recent] })]), collectingLogger());
    expect(skipped.status).toBe('skipped');
  });
});

describe('runJob with several copies, all failing', () => {
  it('fails with the sinks\' error, not the source stopped for want of a copy', async () => {
    const h = collectingLogger();
    const result = await runJob(job(sourceFrom([payload]), [copy('s3', failingSink(10_000)), copy('nas', failingSink(20_000))]), h);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('SINK_FAILED');
    expect(result.error?.message).toContain('connection reset by peer');
  });
});
