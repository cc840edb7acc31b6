import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HookInstance, Notification, SinkInstance } from '@backupctl/plugin-api';
import { createMemoryStore, sourceFrom } from '@backupctl/plugin-api/testing';
import { runJob } from '../src/backup/run-job.js';
import { sendNotification } from '../src/notify/send-notification.js';
import type { LoadedJob } from '../src/config/load-pipeline.js';
import { collectingLogger, gzipJob, loadedStep } from './job-fixtures.js';

/** A notifier that records what it hears (every event, as `on:` listing them all would). */
function recorder() {
  const heard: Notification[] = [];
  const instance: HookInstance = {
    async notify(notification) {
      heard.push(notification);
      return true;
    },
  };
  return { heard, step: loadedStep('hook', 'recorder', () => instance) };
}

/** The job with the recorder under `notify:`. */
function withNotifier(job: LoadedJob, notifier: ReturnType<typeof recorder>): LoadedJob {
  return { ...job, notify: [notifier.step] };
}

const store = () => createMemoryStore({ prefix: 'backups/clara/' });
const events = (heard: Notification[]) => heard.map((notification) => notification.event);

describe('a run tells its notifiers', () => {
  it('start, then success with the key, sizes and checksum', async () => {
    const notifier = recorder();
    const { logger, secrets } = collectingLogger();
    const result = await runJob(withNotifier(gzipJob(sourceFrom([Buffer.from('rows')]), { s3: store() }), notifier), { logger, secrets });
    expect(result.status).toBe('succeeded');
    expect(events(notifier.heard)).toEqual(['start', 'success']);
    expect(notifier.heard[1]).toMatchObject({
      job: 'clara',
      title: 'Clara DB',
      key: result.artifact!.key,
      size: result.artifact!.size,
      sourceSize: 4,
      sha256: result.artifact!.sha256,
      summary: expect.stringMatching(/^Clara DB backup complete: clara_\d{8}_\d{6}\.sql\.gz \(\d+ B\)$/),
    });
  });

  it('start, then failure with the error, its code and the last log lines, secrets masked', async () => {
    const notifier = recorder();
    const { logger, secrets } = collectingLogger();
    secrets.add('hunter22');
    const failing = sourceFrom([Buffer.from('x')], { fail: new Error('password authentication failed for hunter22') });
    const result = await runJob(withNotifier(gzipJob(failing, { s3: store() }), notifier), { logger, secrets });
    expect(result.status).toBe('failed');
    expect(events(notifier.heard)).toEqual(['start', 'failure']);
    const failure = notifier.heard[1]!;
    expect(failure.error).toEqual({ code: 'SOURCE_FAILED', message: 'fake done: password authentication failed for ***' });
    expect(failure.logTail).toContainEqual('ERROR: Clara DB backup failed: fake done: password authentication failed for ***');
    expect(JSON.stringify(failure)).not.toContain('hunter22');
  });

  it('start, then skipped when a hook skips the run; every event of the run carries the same run id', async () => {
    const notifier = recorder();
    const respawn = loadedStep('hook', 'respawn', () => ({ beforeRun: async () => ({ skip: true, reason: 'last backup 2 h ago' }) }));
    const job = gzipJob(sourceFrom([Buffer.from('x')]), { s3: store() });
    job.copies![0]!.hooks = [respawn];
    const { logger, secrets } = collectingLogger();
    const result = await runJob(withNotifier(job, notifier), { logger, secrets });
    expect(result.status).toBe('skipped');
    expect(notifier.heard).toEqual([
      expect.objectContaining({ event: 'start', runId: expect.stringMatching(/^[0-9a-f-]{36}$/) }),
      expect.objectContaining({ event: 'skipped', reason: 'last backup 2 h ago', summary: 'Clara DB backup skipped: last backup 2 h ago' }),
    ]);
    expect(notifier.heard[1]!.runId).toBe(notifier.heard[0]!.runId);
  });

  it('copy-failed for a copy the job did not need, then success; a failed required copy is one failure naming the copies', async () => {
    const broken: SinkInstance = { ...store(), write: async () => Promise.reject(new Error('bucket offsite is gone')) };
    const notifier = recorder();
    const job = gzipJob(sourceFrom([Buffer.from('rows')]), { primary: store(), offsite: broken });
    job.copies![1]!.required = false;
    const { logger, secrets } = collectingLogger();
    const result = await runJob(withNotifier(job, notifier), { logger, secrets });
    expect(result.status).toBe('succeeded');
    expect(events(notifier.heard)).toEqual(['start', 'copy-failed', 'success']);
    expect(notifier.heard[1]).toMatchObject({
      copy: 'offsite',
      error: { code: 'SINK_FAILED', message: expect.stringContaining('bucket offsite is gone') },
      copies: [
        { name: 'primary', status: 'stored', required: true },
        { name: 'offsite', status: 'failed', required: false },
      ],
    });

    const again = recorder();
    const required = gzipJob(sourceFrom([Buffer.from('rows')]), { primary: store(), offsite: broken });
    const failed = await runJob(withNotifier(required, again), { logger, secrets });
    expect(failed.status).toBe('failed');
    expect(events(again.heard)).toEqual(['start', 'failure']);
    expect(again.heard[1]!.copies).toEqual([
      { name: 'primary', status: 'stored', required: true },
      { name: 'offsite', status: 'failed', required: true },
    ]);
  });

  it('one anomaly for a dump flagged in every copy, before the success', async () => {
    const stores = { primary: store(), offsite: store() };
    const { logger, secrets } = collectingLogger();
    await runJob(gzipJob(sourceFrom([randomBytes(20_000)]), stores), { logger, secrets, nameTime: new Date('2026-02-01T03:00:00Z') });
    const notifier = recorder();
    const result = await runJob(withNotifier(gzipJob(sourceFrom([Buffer.from('tiny')]), stores), notifier), {
      logger,
      secrets,
      nameTime: new Date('2026-02-02T03:00:00Z'),
    });
    expect(result.status).toBe('succeeded');
    expect(events(notifier.heard)).toEqual(['start', 'anomaly', 'success']);
    expect(notifier.heard[1]!.reasons).toEqual([expect.stringContaining('shrank')]);
  });

  it('a notifier that fails is a warning and changes nothing; a sink hook that notifies hears the events too', async () => {
    const throwing = loadedStep('hook', 'broken', () => ({ notify: async () => Promise.reject(new Error('HTTP 500 after 3 attempts')) }));
    const notifier = recorder();
    const job = gzipJob(sourceFrom([Buffer.from('rows')]), { s3: store() });
    job.copies![0]!.hooks = [notifier.step];
    const { logger, secrets, lines } = collectingLogger();
    const result = await runJob({ ...job, notify: [throwing] }, { logger, secrets });
    expect(result.status).toBe('succeeded');
    expect(events(notifier.heard)).toEqual(['start', 'success']);
    expect(lines).toContainEqual(expect.stringMatching(/WARN: broken: could not send success to broken: HTTP 500 after 3 attempts$/));
  });
});

describe('sendNotification', () => {
  it('does not wait for a notifier past its limit, nor let it hold the others back', async () => {
    const { logger, lines } = collectingLogger();
    const heard: string[] = [];
    const hanging: HookInstance = { target: 'hangs.example', notify: () => new Promise<boolean>(() => undefined) };
    const quick: HookInstance = { notify: async (notification) => (heard.push(notification.event), true) };
    const started = Date.now();
    const outcomes = await sendNotification(
      [
        { use: 'slow', instance: hanging },
        { use: 'quick', instance: quick },
      ],
      { event: 'failure', job: 'clara', title: 'Clara DB', at: new Date().toISOString(), summary: 'Clara DB backup failed: x' },
      { logger, limitMs: 200 },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(heard).toEqual(['failure']);
    expect(outcomes).toEqual([
      { use: 'slow', target: 'hangs.example', status: 'failed', error: 'no answer within 0.2 s' },
      { use: 'quick', target: undefined, status: 'sent' },
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/WARN: slow: could not send failure to hangs\.example: no answer within 0\.2 s$/));
  });
});
