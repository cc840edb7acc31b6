import { describe, expect, it } from 'vitest';
import { BackupctlError, ErrorCodes, Secrets, definePlugin, Type, type SinkInstance } from '@backupctl/plugin-api';
import { createMemoryStore } from '@backupctl/plugin-api/testing';
import type { LoadedJob, LoadedStep } from '../../core/src/config/load-pipeline.js';
import { createLogger } from '../../core/src/log/logger.js';
import { HealthState } from '../src/server/health-state.js';
import { StatusSource } from '../src/server/status-page/status-view.js';

function step(kind: 'source' | 'sink', use: string, create: () => unknown): LoadedStep {
  return { use, kind, from: 'test', options: {}, path: `jobs.t.${use}`, plugin: definePlugin({ name: use, kind, schema: Type.Object({}), create: create as never }) as never };
}

function job(name: string, store: () => SinkInstance): LoadedJob {
  const source = step('source', 'fake', () => ({ open: () => Promise.reject(new Error('not used')) }));
  return { name, title: `${name} DB`, nameTemplate: '{job}_{timestamp}.dump', source, transforms: [], hooks: [], sink: step('sink', 'memory', store) };
}

function source(jobs: LoadedJob[], secrets = new Secrets()) {
  const lines: string[] = [];
  const state = new HealthState('0.1.0');
  const statusSource = new StatusSource({ state, secrets, logger: createLogger({ secrets, write: (line) => lines.push(line) }), signal: new AbortController().signal });
  statusSource.setJobs(jobs);
  state.markReady(jobs.map((entry) => entry.name));
  return { statusSource, state, lines };
}

describe('StatusSource', () => {
  it('strips keys and store names unless they may be shown, and masks secrets in hints', async () => {
    const memory = createMemoryStore({ location: 'secret-bucket' });
    memory.objects.set('clara_20260201_030000.dump', { body: Buffer.alloc(10), lastModified: new Date() });
    const secrets = new Secrets();
    secrets.add('hunter2-password');
    const { statusSource, state } = source([job('clara', () => memory)], secrets);
    state.recordJob({
      job: 'clara',
      title: 'clara DB',
      status: 'failed',
      durationMs: 10,
      error: new BackupctlError(ErrorCodes.SOURCE_FAILED, 'boom', { hint: 'check postgresql://app:hunter2-password@db/clara' }),
    });
    const hidden = await statusSource.view({ kind: 'visitor' }, false);
    const section = hidden.jobs[0]!.sections[0]!;
    expect(section.location).toBeUndefined();
    expect(section.backups.map((backup) => backup.key)).toEqual(['']);
    expect(section.health?.lastFailure?.hint).toBe('check postgresql://app:***@db/clara');
    expect(JSON.stringify(hidden)).not.toContain('secret-bucket');
    expect(JSON.stringify(hidden)).not.toContain('hunter2');
    const shown = await statusSource.view({ kind: 'operator', csrf: 'x' }, true);
    expect(shown.jobs[0]!.sections[0]).toMatchObject({ location: 'secret-bucket', backups: [{ key: 'clara_20260201_030000.dump', size: 10 }] });
  });

  it('a store that cannot be read: the job shows the code, the log says why, the other jobs stand', async () => {
    const memory = createMemoryStore();
    const failing = (): SinkInstance => ({
      ...createMemoryStore(),
      // A listing that fails before its first object.
      // eslint-disable-next-line require-yield
      async *list() {
        throw new BackupctlError(ErrorCodes.STORE_FAILED, 'list failed: 403 from https://s3.example/bucket');
      },
    });
    const { statusSource, lines } = source([job('broken', failing), job('clara', () => memory)]);
    const view = await statusSource.view({ kind: 'public' }, false);
    expect(view.jobs.map((entry) => [entry.name, entry.storeError])).toEqual([
      ['broken', 'STORE_FAILED'],
      ['clara', undefined],
    ]);
    expect(lines.join('\n')).toMatch(/broken DB: the status page could not read its store: list failed: 403/);
  });
});
