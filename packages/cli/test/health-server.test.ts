import { afterEach, describe, expect, it } from 'vitest';
import { BackupctlError, ErrorCodes, type Verification } from '@backupctl/plugin-api';
import type { JobResult } from '../../core/src/backup/run-job.js';
import { HealthState } from '../src/server/health-state.js';
import { startHealthServer, type HealthServer } from '../src/server/http-server.js';
import { createMetricsRegistry } from '../src/server/metrics.js';
import { checkIntervalMs, type WatchedJob } from '../src/server/staleness.js';

const started: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

async function serve(state: HealthState): Promise<{ get(path: string, init?: RequestInit): Promise<Response> }> {
  const server = await startHealthServer({ state, metrics: createMetricsRegistry(state), port: 0, host: '127.0.0.1' });
  started.push(server);
  expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  return { get: (path, init) => fetch(`${server.url}${path}`, init) };
}

const succeeded = (job: string, size: number, durationMs: number): JobResult => ({
  job,
  title: job,
  status: 'succeeded',
  durationMs,
  artifact: {
    job,
    key: `backups/${job}/${job}_20260201_030000.sql.gz`,
    size,
    sourceSize: size * 4,
    sha256: 'a'.repeat(64),
    startedAt: new Date('2026-02-01T03:00:00Z'),
    finishedAt: new Date('2026-02-01T03:00:05Z'),
  },
});

const failed = (job: string): JobResult => ({
  job,
  title: job,
  status: 'failed',
  durationMs: 1500,
  error: new BackupctlError(ErrorCodes.SOURCE_FAILED, 'pg_dump: connection to postgresql://app:hunter22@db:5432/clara_main failed', { job }),
});

const verification = (job: string, result: Verification['result'], verifiedAt: string, extra: Partial<Verification> = {}): Verification => ({
  key: `backups/${job}/${job}_20260201_030000.sql.gz`,
  job,
  result,
  against: 'manifest',
  verifiedAt,
  where: '10.0.0.5:5432/clara_main_verify_20260201_040000_ab12',
  durationMs: 9000,
  restoreMs: 6500,
  tables: 5,
  differences: result === 'failed' ? [{ table: 'public.users', expected: 300, restored: 299 }] : [],
  ...extra,
});

describe('health server', () => {
  it('/live answers 200 at once; /ready 503 until the pipeline is loaded, then 200', async () => {
    const state = new HealthState('1.2.3');
    const server = await serve(state);
    expect((await server.get('/live')).status).toBe(200);
    const before = await server.get('/ready');
    expect(before.status).toBe(503);
    expect(await before.json()).toEqual({ status: 'starting' });
    expect((await (await server.get('/health')).json()) as object).toMatchObject({ status: 'starting', ready: false, jobs: {} });

    state.markReady(['clara', 'mem0']);
    const after = await server.get('/ready');
    expect(after.status).toBe(200);
    expect(after.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await after.json()).toEqual({ status: 'ready' });
  });

  it('/health reports each job\'s last success and failure, sizes and durations, and no error message, URL or key', async () => {
    let now = new Date('2026-02-01T03:00:00Z');
    const state = new HealthState('1.2.3', () => now);
    const server = await serve(state);
    state.markReady(['clara', 'mem0']);
    now = new Date('2026-02-01T03:00:05Z');
    state.recordJob(succeeded('clara', 2_500_000, 5000));
    now = new Date('2026-02-01T03:00:07Z');
    state.recordJob(failed('mem0'));

    const response = await server.get('/health');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      status: 'failing',
      ready: true,
      running: false,
      uptimeSeconds: 7,
      version: '1.2.3',
      jobs: {
        clara: {
          runs: { succeeded: 1, skipped: 0, failed: 0 },
          lastRun: { result: 'succeeded', at: '2026-02-01T03:00:05.000Z', durationSeconds: 5 },
          lastSuccess: { at: '2026-02-01T03:00:05.000Z', sizeBytes: 2_500_000, sourceBytes: 10_000_000, durationSeconds: 5 },
          lastFailure: null,
          lastVerification: null,
          freshness: null,
        },
        mem0: {
          runs: { succeeded: 0, skipped: 0, failed: 1 },
          lastRun: { result: 'failed', at: '2026-02-01T03:00:07.000Z', durationSeconds: 1.5 },
          lastSuccess: null,
          lastFailure: { at: '2026-02-01T03:00:07.000Z', code: 'SOURCE_FAILED', durationSeconds: 1.5 },
          lastVerification: null,
          freshness: null,
        },
      },
    });
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain('postgresql://');
    expect(text).not.toContain('backups/clara');
  });

  it('/metrics serves the backup metrics in Prometheus text format, from the same state', async () => {
    const state = new HealthState('1.2.3', () => new Date('2026-02-01T03:00:05Z'));
    const server = await serve(state);
    state.markReady(['clara']);
    let metrics = await (await server.get('/metrics')).text();
    expect(metrics).toContain('backupctl_runs_total{job="clara",result="succeeded"} 0');
    expect(metrics).not.toMatch(/^backupctl_last_success_timestamp_seconds\{/m);

    state.recordJob(succeeded('clara', 2_500_000, 5000));
    state.recordJob({ job: 'clara', title: 'clara', status: 'skipped', durationMs: 3, reason: 'respawn' });
    state.running = true;
    const response = await server.get('/metrics');
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    metrics = await response.text();
    expect(metrics).toContain('# TYPE backupctl_last_success_timestamp_seconds gauge');
    expect(metrics).toContain(`backupctl_last_success_timestamp_seconds{job="clara"} ${Date.parse('2026-02-01T03:00:05Z') / 1000}`);
    expect(metrics).toContain('backupctl_last_duration_seconds{job="clara"} 5');
    expect(metrics).toContain('backupctl_last_size_bytes{job="clara"} 2500000');
    expect(metrics).toContain('# TYPE backupctl_runs_total counter');
    expect(metrics).toContain('backupctl_runs_total{job="clara",result="succeeded"} 1');
    expect(metrics).toContain('backupctl_runs_total{job="clara",result="skipped"} 1');
    expect(metrics).toContain('backupctl_runs_total{job="clara",result="failed"} 0');
    expect(metrics).toContain('backupctl_running 1');
    expect(metrics).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('answers 404 for other paths, 405 for other methods, and HEAD without a body', async () => {
    const server = await serve(new HealthState('1.2.3'));
    expect((await server.get('/nope')).status).toBe(404);
    const post = await server.get('/health', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await server.get('/live', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await server.get('/live/')).status).toBe(200);
  });

  it('says which address is taken when the port is in use', async () => {
    const state = new HealthState('1.2.3');
    const first = await startHealthServer({ state, metrics: createMetricsRegistry(state), port: 0, host: '127.0.0.1' });
    started.push(first);
    await expect(startHealthServer({ state, metrics: createMetricsRegistry(state), port: first.port, host: '127.0.0.1' })).rejects.toThrow(
      `health server cannot listen on 127.0.0.1:${first.port}: the port is in use`,
    );
  });

  it('/health shows each job\'s last verification, from the schedule and from runs, without its key or where it was restored', async () => {
    let now = new Date('2026-02-01T03:00:00Z');
    const state = new HealthState('1.2.3', () => now);
    const server = await serve(state);
    state.markReady(['clara', 'mem0', 'all']);
    now = new Date('2026-02-01T03:00:05Z');
    // A run whose verify hook verified its backup.
    state.recordJob({ ...succeeded('clara', 2_500_000, 5000), verifications: [verification('clara', 'passed', '2026-02-01T03:00:05Z')] });
    // The schedule: a backup that did not restore (no restore time), then one whose tables differ.
    state.recordVerification({ job: 'mem0', result: 'failed', verifiedAt: '2026-02-01T04:00:01Z', durationMs: 1200 });
    // A whole-server job's part, under its own name as its run results are.
    state.recordVerification(verification('app_db', 'failed', '2026-02-01T04:00:30Z'));

    const text = await (await server.get('/health')).text();
    const report = JSON.parse(text) as { status: string; jobs: Record<string, { lastVerification: unknown }> };
    expect(report.status).toBe('ok');
    expect(report.jobs.clara!.lastVerification).toEqual({ result: 'passed', at: '2026-02-01T03:00:05.000Z', durationSeconds: 9, restoreSeconds: 6.5 });
    expect(report.jobs.mem0!.lastVerification).toEqual({ result: 'failed', at: '2026-02-01T04:00:01.000Z', durationSeconds: 1.2, restoreSeconds: null });
    expect(report.jobs.app_db!.lastVerification).toMatchObject({ result: 'failed', restoreSeconds: 6.5 });
    expect(report.jobs.all!.lastVerification).toBeNull();
    // The report names no object and no server (see JobHealth).
    expect(text).not.toContain('backups/');
    expect(text).not.toContain('10.0.0.5');
    expect(text).not.toContain('public.users');
  });

  it('/metrics: last verify success and duration (the restore time), verifications by result, anomalies', async () => {
    const state = new HealthState('1.2.3', () => new Date('2026-02-01T03:00:05Z'));
    const server = await serve(state);
    state.markReady(['clara', 'mem0']);
    let metrics = await (await server.get('/metrics')).text();
    expect(metrics).toContain('backupctl_verify_runs_total{job="clara",result="passed"} 0');
    expect(metrics).toContain('backupctl_verify_runs_total{job="clara",result="failed"} 0');
    expect(metrics).toContain('backupctl_anomalies_total{job="clara"} 0');
    expect(metrics).not.toMatch(/^backupctl_last_verify_(success_timestamp|duration)_seconds\{/m);

    const flagged = succeeded('clara', 2_500_000, 5000);
    flagged.artifact!.anomaly = { previousKey: 'backups/clara/clara_20260131_030000.sql.gz', reasons: ['public.users: 300 rows -> empty'], held: true };
    state.recordJob({ ...flagged, verifications: [verification('clara', 'passed', '2026-02-01T03:00:05Z')] });
    state.recordJob(succeeded('clara', 2_500_000, 5000));
    state.recordVerification(verification('clara', 'failed', '2026-02-01T04:00:00Z', { restoreMs: 7250 }));
    state.recordVerification(verification('mem0', 'passed', '2026-02-01T04:10:00Z'));
    state.recordVerification({ job: 'mem0', result: 'failed', verifiedAt: '2026-02-01T04:20:00Z', durationMs: 800 });

    metrics = await (await server.get('/metrics')).text();
    expect(metrics).toContain('# TYPE backupctl_verify_runs_total counter');
    expect(metrics).toContain('backupctl_verify_runs_total{job="clara",result="passed"} 1');
    expect(metrics).toContain('backupctl_verify_runs_total{job="clara",result="failed"} 1');
    expect(metrics).toContain('backupctl_verify_runs_total{job="mem0",result="passed"} 1');
    expect(metrics).toContain('backupctl_verify_runs_total{job="mem0",result="failed"} 1');
    // The last one that passed, also when a failed one came after it.
    expect(metrics).toContain('# TYPE backupctl_last_verify_success_timestamp_seconds gauge');
    expect(metrics).toContain(`backupctl_last_verify_success_timestamp_seconds{job="clara"} ${Date.parse('2026-02-01T03:00:05Z') / 1000}`);
    expect(metrics).toContain(`backupctl_last_verify_success_timestamp_seconds{job="mem0"} ${Date.parse('2026-02-01T04:10:00Z') / 1000}`);
    // The restore time of the last verification; its whole time when it did not get as far.
    expect(metrics).toContain('backupctl_last_verify_duration_seconds{job="clara"} 7.25');
    expect(metrics).toContain('backupctl_last_verify_duration_seconds{job="mem0"} 0.8');
    expect(metrics).toContain('# TYPE backupctl_anomalies_total counter');
    expect(metrics).toContain('backupctl_anomalies_total{job="clara"} 1');
    expect(metrics).toContain('backupctl_anomalies_total{job="mem0"} 0');
  });
});

describe('staleness in the health state', () => {
  it('reports a stale job in /health and backupctl_stale; a failing job wins over a stale one', async () => {
    const state = new HealthState('1.2.3', () => new Date('2026-02-03T06:00:00Z'));
    state.markReady(['clara', 'mem0']);
    state.recordFreshness('clara', { stale: true, lastBackupAt: new Date('2026-02-01T03:00:05Z'), staleAfterHours: 26, checkedAt: new Date('2026-02-03T06:00:00Z') });
    state.recordFreshness('mem0', { stale: false, staleAfterHours: 26, checkedAt: new Date('2026-02-03T06:00:00Z') });
    const { get } = await serve(state);
    const report = (await (await get('/health')).json()) as { status: string; jobs: Record<string, { freshness: unknown }> };
    expect(report.status).toBe('stale');
    expect(report.jobs.clara!.freshness).toEqual({ stale: true, lastBackupAt: '2026-02-01T03:00:05.000Z', staleAfterHours: 26, checkedAt: '2026-02-03T06:00:00.000Z' });
    expect(report.jobs.mem0!.freshness).toEqual({ stale: false, lastBackupAt: null, staleAfterHours: 26, checkedAt: '2026-02-03T06:00:00.000Z' });
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain('backupctl_stale{job="clara"} 1');
    expect(metrics).toContain('backupctl_stale{job="mem0"} 0');
    expect(metrics).toContain(`backupctl_store_last_backup_timestamp_seconds{job="clara"} ${Date.parse('2026-02-01T03:00:05Z') / 1000}`);
    expect(metrics).not.toContain('backupctl_store_last_backup_timestamp_seconds{job="mem0"}');

    state.recordJob(failed('mem0'));
    expect(state.report().status).toBe('failing');
  });

  it('checks a tenth of the shortest limit, between a second and a minute', () => {
    expect(checkIntervalMs([{ staleAfterHours: 26 } as WatchedJob])).toBe(60_000);
    expect(checkIntervalMs([{ staleAfterHours: 26 } as WatchedJob, { staleAfterHours: 0.1 } as WatchedJob])).toBe(36_000);
    expect(checkIntervalMs([{ staleAfterHours: 0.0001 } as WatchedJob])).toBe(1_000);
  });
});
