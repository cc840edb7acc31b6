import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Secrets, type RestoreTarget, type SinkInstance, type SourceInstance } from '@backupctl/plugin-api';
import { createMemoryStore, type MemoryStore } from '@backupctl/plugin-api/testing';
import type { LoadedJob } from '../src/config/load-pipeline.js';
import { checksumOf, gzipJob } from './job-fixtures.js';
import { checksumDocument } from '../src/catalog/backup-records.js';
import { readVerification } from '../src/catalog/verification-records.js';
import { createLogger } from '../src/log/logger.js';
import { restoreJob } from '../src/restore/restore-job.js';
import { verifyJob } from '../src/restore/verify-job.js';

// Several copies of one job (issue 16): restore and verify read the first copy holding the backup, then the next.

const sql = Buffer.from('INSERT INTO t VALUES (1);\n'.repeat(10_000));
const good = gzipSync(sql);
const NEWEST = 'clara_20260201_030000.sql.gz';
const OLDER = 'clara_20260131_030000.sql.gz';

/** A copy's store holding `names` (each the good backup unless `bodies` says otherwise), with their checksum records. */
function copyStore(prefix: string, location: string, names: string[], bodies: Record<string, Buffer> = {}): MemoryStore {
  const store = createMemoryStore({ prefix, location });
  for (const name of names) {
    const key = `${prefix}${name}`;
    store.objects.set(key, { body: bodies[name] ?? good, lastModified: new Date() });
    store.metadata.set(checksumDocument(key), { key, ...checksumOf(good), sourceSize: 0, startedAt: '', finishedAt: '', tool: 'test' });
  }
  return store;
}

function damaged(): Buffer {
  const body = Buffer.from(good);
  body[5] = body[5]! ^ 1; // the gzip header's time: only the SHA-256 sees it
  return body;
}

function recordingSource(extra: Partial<SourceInstance> = {}) {
  const seen = { restored: [] as Buffer[], targets: [] as RestoreTarget[] };
  const source: SourceInstance = {
    open: async () => Promise.reject(new Error('not used')),
    async restore(input: Readable, target) {
      seen.targets.push(target);
      const chunks: Buffer[] = [];
      for await (const chunk of input) chunks.push(chunk as Buffer);
      seen.restored.push(Buffer.concat(chunks));
      return { target: 'db.example:5432/clara', format: 'plain SQL (test)', replaced: [] };
    },
    ...extra,
  };
  return { source, seen };
}

function jobWith(source: SourceInstance, stores: Record<string, SinkInstance>): LoadedJob {
  return gzipJob(source, stores);
}

function env() {
  const lines: string[] = [];
  const secrets = new Secrets();
  return { lines, secrets, logger: createLogger({ secrets, write: (line) => lines.push(line.slice(22)) }) };
}

const target: RestoreTarget = { url: 'new-db', create: true, replace: false };

describe('restoreJob with several copies', () => {
  it('reads the primary copy when it is good, and says which copy', async () => {
    const { source, seen } = recordingSource();
    const e = env();
    const restored = await restoreJob(jobWith(source, { s3: copyStore('backups/clara/', 'bucket', [NEWEST]), nas: copyStore('clara/', '/mnt/nas', [NEWEST]) }), {
      ...e,
      selection: {},
      target,
    });
    expect(restored).toMatchObject({ key: `backups/clara/${NEWEST}`, copy: 's3', checksum: 'verified' });
    expect(seen.targets).toHaveLength(1);
    expect(e.lines).toContainEqual(expect.stringMatching(/^Clara DB: restoring clara_20260201_030000\.sql\.gz from copy s3 \(/));
  });

  it('falls back to the next copy when the primary fails its checksum, in one line, and restores the good bytes', async () => {
    const { source, seen } = recordingSource();
    const e = env();
    const s3 = copyStore('backups/clara/', 'bucket', [NEWEST], { [NEWEST]: damaged() });
    const restored = await restoreJob(jobWith(source, { s3, nas: copyStore('clara/', '/mnt/nas', [NEWEST]) }), { ...e, selection: {}, target });
    expect(restored).toMatchObject({ key: `clara/${NEWEST}`, copy: 'nas', checksum: 'verified' });
    // Both attempts asked for the same target: a --create the first attempt made was dropped by its failure.
    expect(seen.targets).toEqual([target, target]);
    expect(seen.restored.at(-1)?.equals(sql)).toBe(true);
    expect(e.lines).toContainEqual(
      expect.stringMatching(/^WARN: copy s3: backups\/clara\/clara_20260201_030000\.sql\.gz failed its checksum \(.*does not match its checksum.*\); trying copy nas$/),
    );
  });

  it('falls back when the primary cannot be read, and when it does not hold the newest backup', async () => {
    const unreadable = copyStore('backups/clara/', 'bucket', [NEWEST]);
    unreadable.get = async () => {
      throw new Error('NoSuchKey: the object is gone');
    };
    const first = env();
    const fromUnreadable = await restoreJob(jobWith(recordingSource().source, { s3: unreadable, nas: copyStore('clara/', '/mnt/nas', [NEWEST]) }), { ...first, selection: {}, target });
    expect(fromUnreadable.copy).toBe('nas');
    expect(first.lines).toContainEqual(expect.stringMatching(/^WARN: copy s3: backups\/clara\/clara_20260201_030000\.sql\.gz could not be read \(.*NoSuchKey.*\); trying copy nas$/));

    // The primary missed the last run: the newest across the copies is taken, from the copy that has it.
    const second = env();
    const fromMissing = await restoreJob(
      jobWith(recordingSource().source, { s3: copyStore('backups/clara/', 'bucket', [OLDER]), nas: copyStore('clara/', '/mnt/nas', [OLDER, NEWEST]) }),
      { ...second, selection: {}, target },
    );
    expect(fromMissing).toMatchObject({ key: `clara/${NEWEST}`, copy: 'nas' });
    expect(second.lines).toContain(`Clara DB: ${NEWEST} is not in copy s3: reading copy nas`);
  });

  it('finds --key given as the primary\'s full key in the other copy, and --at across copies', async () => {
    const s3 = copyStore('backups/clara/', 'bucket', [OLDER, NEWEST], { [OLDER]: damaged() });
    const nas = copyStore('clara/', '/mnt/nas', [OLDER, NEWEST]);
    const byKey = await restoreJob(jobWith(recordingSource().source, { s3, nas }), { ...env(), selection: { key: `backups/clara/${OLDER}` }, target });
    expect(byKey).toMatchObject({ key: `clara/${OLDER}`, copy: 'nas' });
    const byAt = await restoreJob(jobWith(recordingSource().source, { s3, nas }), { ...env(), selection: { at: '2026-01-31' }, target });
    expect(byAt).toMatchObject({ key: `clara/${OLDER}`, copy: 'nas' });
  });

  it('--from reads only that copy; an unknown name is a usage error listing the copies', async () => {
    const stores = () => ({ s3: copyStore('backups/clara/', 'bucket', [NEWEST]), nas: copyStore('clara/', '/mnt/nas', [NEWEST]) });
    const restored = await restoreJob(jobWith(recordingSource().source, stores()), { ...env(), selection: {}, target, from: 'nas' });
    expect(restored.key).toBe(`clara/${NEWEST}`);

    const s3Damaged = { ...stores(), s3: copyStore('backups/clara/', 'bucket', [NEWEST], { [NEWEST]: damaged() }) };
    await expect(restoreJob(jobWith(recordingSource().source, s3Damaged), { ...env(), selection: {}, target, from: 's3' })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
    });

    const { source, seen } = recordingSource();
    await expect(restoreJob(jobWith(source, stores()), { ...env(), selection: {}, target, from: 'offsite' })).rejects.toMatchObject({
      code: 'USAGE',
      message: 'job clara has no copy named "offsite"; its copies: s3, nas',
    });
    expect(seen.targets).toEqual([]);
  });

  it('when every copy fails, one error names each copy tried and why', async () => {
    const nas = copyStore('clara/', '/mnt/nas', [NEWEST], { [NEWEST]: damaged() });
    const s3 = copyStore('backups/clara/', 'bucket', [NEWEST], { [NEWEST]: damaged() });
    const e = env();
    await expect(restoreJob(jobWith(recordingSource().source, { s3, nas }), { ...e, selection: {}, target })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      message: expect.stringMatching(/^job clara: clara_20260201_030000\.sql\.gz could not be read from any copy: s3 failed its checksum \(.*\); nas failed its checksum \(.*\)$/),
    });
    expect(e.lines.filter((line) => line.startsWith('WARN: copy '))).toHaveLength(2);
  });

  it('a restore error of the target ends the restore: the next copy would meet the same target', async () => {
    const source: SourceInstance = {
      open: async () => Promise.reject(new Error('not used')),
      restore: async () => {
        throw new Error('db.example:5432/new already has 3 tables');
      },
    };
    const nas = copyStore('clara/', '/mnt/nas', [NEWEST]);
    let nasRead = false;
    const get = nas.get.bind(nas);
    nas.get = async (key, signal) => ((nasRead = true), get(key, signal));
    await expect(restoreJob(jobWith(source, { s3: copyStore('backups/clara/', 'bucket', [NEWEST]), nas }), { ...env(), selection: {}, target })).rejects.toMatchObject({
      code: 'RESTORE_FAILED',
    });
    expect(nasRead).toBe(false);
  });
});

describe('verifyJob with several copies', () => {
  it('records the damaged copy as failed, verifies the next copy in a scratch database of its own, and records it there', async () => {
    const calls: string[] = [];
    const { source } = recordingSource({
      createScratch: async () => {
        calls.push('create');
        return { url: 'scratch-url', target: 'db.example:5432/clara_verify', drop: async () => void calls.push('drop') };
      },
      countRows: async () => ({ 'public.t': 10_000 }),
    });
    const s3 = copyStore('backups/clara/', 'bucket', [NEWEST], { [NEWEST]: damaged() });
    const nas = copyStore('clara/', '/mnt/nas', [NEWEST]);
    const e = env();
    const outcome = await verifyJob(jobWith(source, { s3, nas }), { ...e, selection: {} });
    expect(outcome).toMatchObject({ ok: true, restored: { key: `clara/${NEWEST}`, copy: 'nas' } });
    expect(calls).toEqual(['create', 'drop', 'create', 'drop']);
    expect(await readVerification(s3, `backups/clara/${NEWEST}`)).toMatchObject({ result: 'failed', error: { code: 'CHECKSUM_MISMATCH' } });
    expect(await readVerification(nas, `clara/${NEWEST}`)).toMatchObject({ result: 'passed' });
    expect(e.lines).toContainEqual(expect.stringMatching(/^WARN: copy s3: .* failed its checksum .*; trying copy nas$/));
  });

  it('--from picks the copy to verify; an unknown name is a usage error', async () => {
    const { source } = recordingSource({
      createScratch: async () => ({ url: 'scratch-url', target: 'scratch', drop: async () => undefined }),
      countRows: async () => ({ 'public.t': 1 }),
    });
    const stores = { s3: copyStore('backups/clara/', 'bucket', [NEWEST]), nas: copyStore('clara/', '/mnt/nas', [NEWEST]) };
    const outcome = await verifyJob(jobWith(source, stores), { ...env(), selection: {}, from: 'nas' });
    expect(outcome.restored.key).toBe(`clara/${NEWEST}`);
    await expect(verifyJob(jobWith(source, stores), { ...env(), selection: {}, from: 'tape' })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
