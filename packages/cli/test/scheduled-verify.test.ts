import { describe, expect, it } from 'vitest';
import { BackupctlError, ErrorCodes, Secrets, type SourceInstance, type Verification } from '@backupctl/plugin-api';
import type { LoadedJob } from '../../core/src/config/load-pipeline.js';
import { loadedStep } from '../../core/test/job-fixtures.js';
import type { ExpandedVerifyOutcome, VerifyOutcome } from '../../core/src/restore/verify-job.js';
import { createLogger } from '../../core/src/log/logger.js';
import type { VerificationSummary } from '../src/server/health-state.js';
import { verifyNewestBackup, type ScheduledVerifyOptions } from '../src/server/scheduled-verify.js';

// serve --verify-schedule, one job: what it logs and records for each
// outcome of the core's verify (replaced here), and that it never rejects.

const capable: SourceInstance = {
  open: () => Promise.reject(new Error('not in this test')),
  restore: () => Promise.reject(new Error('not in this test')),
  createScratch: () => Promise.reject(new Error('not in this test')),
  countRows: () => Promise.reject(new Error('not in this test')),
} as SourceInstance;

function job(source: () => SourceInstance = () => capable, extra: Partial<LoadedJob> = {}): LoadedJob {
  return {
    name: 'clara',
    title: 'Clara DB',
    nameTemplate: '{job}_{timestamp}{ext}',
    source: loadedStep('source', 'postgres', source),
    transforms: [],
    sink: loadedStep('sink', 's3', () => ({})),
    hooks: [],
    ...extra,
  };
}

const verification = (result: Verification['result'], extra: Partial<Verification> = {}): Verification => ({
  key: 'backups/clara/clara_20260201_030000.sql.gz',
  job: 'clara',
  result,
  against: 'manifest',
  verifiedAt: '2026-02-01T04:00:09Z',
  durationMs: 9000,
  restoreMs: 6500,
  tables: 5,
  differences: [],
  ...extra,
});

const outcome = (verified: Verification): VerifyOutcome => ({ ok: verified.result === 'passed', verification: verified }) as VerifyOutcome;

async function verifyWith(
  target: LoadedJob,
  verify: ScheduledVerifyOptions['verify'],
  signal = new AbortController().signal,
): Promise<{ lines: string[]; recorded: VerificationSummary[]; calls: number }> {
  const lines: string[] = [];
  const recorded: VerificationSummary[] = [];
  const secrets = new Secrets();
  let calls = 0;
  let clock = Date.parse('2026-02-01T04:00:00Z');
  await verifyNewestBackup(target, {
    logger: createLogger({ secrets, write: (line) => lines.push(line.slice(22)) }),
    secrets,
    signal,
    // Each reading of the clock is two seconds later.
    now: () => new Date((clock += 2000)),
    record: (entry) => recorded.push(entry),
    verify: async (...args) => {
      calls += 1;
      expect(args[1]).toMatchObject({ selection: {}, notify: true });
      return verify!(...args);
    },
  });
  return { lines, recorded, calls };
}

describe('verifyNewestBackup', () => {
  it('a backup that passes: one info line, recorded as the core recorded it', async () => {
    const passed = verification('passed');
    const { lines, recorded } = await verifyWith(job(), async () => outcome(passed));
    expect(lines).toEqual(['Clara DB: verified backups/clara/clara_20260201_030000.sql.gz: restores in 6.5 s, all 5 tables match its manifest']);
    expect(recorded).toEqual([passed]);
  });

  it('tables that differ: an error line naming them', async () => {
    const failed = verification('failed', {
      differences: [
        { table: 'audit.events', expected: 500, restored: 499 },
        { table: 'public.notes', expected: 3 },
      ],
    });
    const { lines, recorded } = await verifyWith(job(), async () => outcome(failed));
    expect(lines).toEqual([
      'ERROR: Clara DB: verification of backups/clara/clara_20260201_030000.sql.gz FAILED: 2 of 5 tables differ: audit.events (expected 500, restored 499), public.notes (expected 3, restored no table)',
    ]);
    expect(recorded).toEqual([failed]);
  });

  it('a backup that does not restore: an error line and its hint, a failed verification with no restore time; it does not reject', async () => {
    const { lines, recorded } = await verifyWith(job(), () =>
      Promise.reject(
        new BackupctlError(ErrorCodes.CHECKSUM_MISMATCH, 'backups/clara/clara_20260201_030000.sql.gz: SHA-256 differs from the record', {
          job: 'clara',
          hint: 'the stored object changed since it was written',
        }),
      ),
    );
    expect(lines).toEqual([
      'ERROR: Clara DB: verification failed: backups/clara/clara_20260201_030000.sql.gz: SHA-256 differs from the record',
      'Hint for Clara DB: the stored object changed since it was written',
    ]);
    expect(recorded).toEqual([{ job: 'clara', result: 'failed', verifiedAt: '2026-02-01T04:00:04.000Z', durationMs: 2000 }]);
  });

  it('whole servers: each part under its own name; a failing part under the name its error gives', async () => {
    const parts: ExpandedVerifyOutcome = {
      ok: false,
      parts: [outcome(verification('passed', { job: 'app', key: 'backups/all/app/app_1.sql.gz' })), outcome(verification('failed', { job: 'crm', key: 'backups/all/crm/crm_1.sql.gz', error: { code: 'RESTORE_FAILED', message: 'psql: syntax error' } }))],
      skipped: ['globals'],
    };
    const whole = job(undefined, { name: 'all', title: 'Server' });
    const { lines, recorded } = await verifyWith(whole, async () => parts);
    expect(lines).toEqual([
      'Server / app: verified backups/all/app/app_1.sql.gz: restores in 6.5 s, all 5 tables match its manifest',
      'ERROR: Server / crm: verification of backups/all/crm/crm_1.sql.gz FAILED: psql: syntax error',
    ]);
    expect(recorded.map((entry) => [entry.job, entry.result])).toEqual([['app', 'passed'], ['crm', 'failed']]);

    const thrown = await verifyWith(whole, () => Promise.reject(new BackupctlError(ErrorCodes.RESTORE_FAILED, 'psql: syntax error', { job: 'crm' })));
    expect(thrown.recorded).toMatchObject([{ job: 'crm', result: 'failed' }]);
  });

  it('skips with one info line, recording nothing: a source that cannot verify, a job not configured here, a job without backups', async () => {
    const restoreOnly = await verifyWith(job(() => ({ open: capable.open, restore: capable.restore }) as SourceInstance), async () => outcome(verification('passed')));
    expect(restoreOnly).toEqual({
      lines: ['Clara DB: not verified, the "postgres" source cannot verify (no scratch database or row counts)'],
      recorded: [],
      calls: 0,
    });

    const unset = await verifyWith(job(undefined, { skipReason: 'MEM0_DATABASE_URL is not set', source: undefined }), async () => outcome(verification('passed')));
    expect(unset).toEqual({ lines: ['Clara DB: not verified, the job is not configured here (MEM0_DATABASE_URL is not set)'], recorded: [], calls: 0 });

    const none = await verifyWith(job(), () => Promise.reject(new BackupctlError(ErrorCodes.BACKUP_NOT_FOUND, 'job clara has no backups in s3://b/backups/clara/')));
    expect(none).toEqual({ lines: ['Clara DB: not verified, no backup yet'], recorded: [], calls: 1 });
  });

  it('stopped (SIGTERM): an info line, nothing recorded', async () => {
    const stop = new AbortController();
    const { lines, recorded } = await verifyWith(
      job(),
      () => {
        stop.abort(new Error('received SIGTERM'));
        return Promise.reject(new BackupctlError(ErrorCodes.ABORTED, 'aborted: received SIGTERM'));
      },
      stop.signal,
    );
    expect(lines).toEqual(['Clara DB: verification stopped (received SIGTERM)']);
    expect(recorded).toEqual([]);
  });

  it('an error that is no BackupctlError is a failed verification too, never a rejection', async () => {
    const { lines, recorded } = await verifyWith(job(), () => Promise.reject(new TypeError('boom')));
    expect(lines).toEqual(['ERROR: Clara DB: verification failed: boom']);
    expect(recorded).toMatchObject([{ job: 'clara', result: 'failed' }]);
  });
});
