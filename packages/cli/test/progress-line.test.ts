import { describe, expect, it } from 'vitest';
import { formatElapsed, formatProgress, InFlightProgress, jobSnapshot, ProgressLine, type ProgressSnapshot } from '../src/render/progress-line.js';
import type { LoadedJob, LoadedStep } from '../../core/src/config/load-pipeline.js';
import { definePlugin, Secrets, Type } from '@backupctl/plugin-api';
import { createLogger } from '../../core/src/log/logger.js';
import { runJob, type JobProgress } from '../../core/src/backup/run-job.js';
import { createMemoryStore, sourceFrom } from '@backupctl/plugin-api/testing';

const MB = 1024 * 1024;
const snapshot = (overrides: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  label: 'Clara DB',
  bytesRead: 120 * MB,
  bytesWritten: 24 * MB,
  elapsedMs: 3000,
  done: false,
  ...overrides,
});

describe('formatProgress', () => {
  it('shows bytes read, bytes stored, the read rate and the elapsed time', () => {
    expect(formatProgress(snapshot())).toBe('Clara DB: 120.0 MB read, 24.0 MB stored, 40.0 MB/s, 0:03');
    expect(formatProgress(snapshot({ writtenAs: 'restored', elapsedMs: 0 }))).toBe('Clara DB: 120.0 MB read, 24.0 MB restored, 0 B/s, 0:00');
  });

  it('formats elapsed time as m:ss, or h:mm:ss past an hour', () => {
    expect(formatElapsed(7_900)).toBe('0:07');
    expect(formatElapsed(754_000)).toBe('12:34');
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
  });
});

function terminal(columns = 200) {
  let output = '';
  return { columns, write: (chunk: string) => ((output += chunk), true), output: () => output } as unknown as NodeJS.WritableStream & {
    columns: number;
    output(): string;
  };
}

describe('ProgressLine', () => {
  it('redraws in place with \\r, at most once per interval, and clears the line when the job is done', () => {
    let now = 0;
    const stream = terminal();
    const line = new ProgressLine(stream, { intervalMs: 500, now: () => now });
    line.update(snapshot({ bytesRead: 1 * MB }));
    now = 100;
    line.update(snapshot({ bytesRead: 2 * MB }));
    now = 600;
    line.update(snapshot({ bytesRead: 3 * MB }));
    line.update(snapshot({ done: true }));
    const clear = '\r\u001B[K';
    expect(stream.output()).toBe(
      `${clear}Clara DB: 1.0 MB read, 24.0 MB stored, 341.3 KB/s, 0:03` +
        `${clear}Clara DB: 3.0 MB read, 24.0 MB stored, 1.0 MB/s, 0:03` +
        clear,
    );
  });

  it('prints log lines above the status line and redraws it under them', () => {
    const stream = terminal();
    const line = new ProgressLine(stream, { now: () => 0 });
    line.writeLine('before any progress');
    line.update(snapshot());
    line.writeLine('2026-02-01 03:00:05 - a log line');
    const clear = '\r\u001B[K';
    const status = 'Clara DB: 120.0 MB read, 24.0 MB stored, 40.0 MB/s, 0:03';
    expect(stream.output()).toBe(`before any progress\n${clear}${status}${clear}2026-02-01 03:00:05 - a log line\n${status}`);
  });

  it('cuts the status to the terminal width so \\r can redraw it whole', () => {
    const stream = terminal(20);
    new ProgressLine(stream).update(snapshot());
    expect(stream.output()).toBe('\r\u001B[KClara DB: 120.0 MB '); // 19 of 20 columns
  });
});

describe('runJob onProgress', () => {
  it('reports growing source and stored byte counts, then done once with the totals', async () => {
    const chunks = Array.from({ length: 8 }, (_, index) => Buffer.alloc(64 * 1024, index));
    const store = createMemoryStore();
    const step = (kind: LoadedStep['kind'], create: () => unknown): LoadedStep =>
      ({ use: kind, kind, from: 'test', options: {}, path: `jobs.t.${kind}`, plugin: definePlugin({ name: kind, kind, schema: Type.Object({}), create: create as never }) }) as never;
    const job: LoadedJob = {
      name: 'clara',
      title: 'Clara DB',
      nameTemplate: '{job}_{timestamp}{ext}',
      source: step('source', () => sourceFrom(chunks)),
      transforms: [],
      sink: step('sink', () => store),
      hooks: [],
    };
    const updates: JobProgress[] = [];
    const secrets = new Secrets();
    const result = await runJob(job, { logger: createLogger({ secrets, write: () => undefined }), secrets, onProgress: (update) => updates.push(update) });
    expect(result.status).toBe('succeeded');
    const streaming = updates.filter((update) => !update.done);
    expect(streaming.map((update) => update.sourceBytes)).toEqual(chunks.map((_, index) => (index + 1) * 64 * 1024));
    expect(streaming.every((update) => update.job === 'clara' && update.title === 'Clara DB')).toBe(true);
    expect(updates.filter((update) => update.done)).toEqual([
      expect.objectContaining({ done: true, sourceBytes: 8 * 64 * 1024, storedBytes: result.artifact!.size }),
    ]);
    expect(updates.at(-1)!.done).toBe(true);
    expect(jobSnapshot(updates.at(-1)!)).toMatchObject({ label: 'Clara DB', bytesRead: 8 * 64 * 1024, bytesWritten: 8 * 64 * 1024, done: true });
  });
});

describe('InFlightProgress', () => {
  const progress = (title: string, sourceBytes: number, elapsedMs: number, done = false): JobProgress => ({
    job: title,
    title,
    sourceBytes,
    storedBytes: sourceBytes / 2,
    elapsedMs,
    done,
  });

  it('shows one backup as it is, several as one line of all in flight, and settles when the last one does', () => {
    const board = new InFlightProgress();
    expect(formatProgress(board.update(progress('Main / a', 10 * MB, 1000)))).toBe('Main / a: 10.0 MB read, 5.0 MB stored, 10.0 MB/s, 0:01');
    expect(formatProgress(board.update(progress('Main / b', 30 * MB, 2000)))).toBe('2 in flight (Main / a, Main / b): 40.0 MB read, 20.0 MB stored, 20.0 MB/s, 0:02');
    // One ending does not clear the line while another still runs.
    expect(board.update(progress('Main / a', 12 * MB, 1500, true))).toMatchObject({ label: 'Main / b', done: false });
    expect(board.update(progress('Main / b', 40 * MB, 2500, true)).done).toBe(true);
  });
});
