import { describe, expect, it } from 'vitest';
import type { SinkInstance } from '@backupctl/plugin-api';
import { createMemoryStore, type MemoryStore } from '@backupctl/plugin-api/testing';
import { readBackupHistory, type RecordFigures } from '../src/catalog/backup-history.js';
import { checksumDocument } from '../src/catalog/backup-records.js';
import { collectingLogger, gzipJob } from './job-fixtures.js';

const source = { open: () => Promise.reject(new Error('not used')) };

function put(store: MemoryStore, key: string, size: number): void {
  store.objects.set(key, { body: Buffer.alloc(size), lastModified: new Date('2026-02-02T00:00:00Z') });
}

/** The checksum record backupctl writes after each commit: started and finished. */
async function record(store: SinkInstance, key: string, size: number, startedAt: string, seconds: number): Promise<void> {
  const finishedAt = new Date(Date.parse(startedAt) + seconds * 1000).toISOString();
  await store.writeMetadata(checksumDocument(key), { key, size, sourceSize: size * 4, sha256: 'a'.repeat(64), startedAt, finishedAt, tool: 'backupctl 0.1.0' });
}

/** A store counting its metadata reads. */
function counting(store: MemoryStore): { store: SinkInstance; reads: string[] } {
  const reads: string[] = [];
  return { reads, store: { ...store, readMetadata: (name, signal) => (reads.push(name), store.readMetadata(name, signal)) } };
}

describe('readBackupHistory', () => {
  it('gives every backup in the store, newest first, with the duration and source size from its record; a backup without one has none', async () => {
    const memory = createMemoryStore({ location: 'bucket' });
    put(memory, 'clara_20260201_030000.sql.gz', 300);
    put(memory, 'clara_20260202_030000.sql.gz', 310);
    put(memory, 'clara_20260203_030000.sql.gz', 320); // made by hand: no record
    put(memory, 'notes.txt', 5);
    await record(memory, 'clara_20260201_030000.sql.gz', 300, '2026-02-01T03:00:00.000Z', 4.5);
    await record(memory, 'clara_20260202_030000.sql.gz', 310, '2026-02-02T03:00:00.000Z', 5);
    const { logger, secrets } = collectingLogger();
    const [history, ...rest] = await readBackupHistory([gzipJob(source, { s3: memory })], { logger, secrets, signal: new AbortController().signal });
    expect(rest).toEqual([]);
    expect(history).toMatchObject({ job: 'clara', parent: 'clara', title: 'Clara DB', location: 'bucket', copies: ['s3'] });
    expect(history!.backups.map(({ key, size, durationMs, sourceSize }) => ({ key, size, durationMs, sourceSize }))).toEqual([
      { key: 'clara_20260203_030000.sql.gz', size: 320, durationMs: undefined, sourceSize: undefined },
      { key: 'clara_20260202_030000.sql.gz', size: 310, durationMs: 5000, sourceSize: 1240 },
      { key: 'clara_20260201_030000.sql.gz', size: 300, durationMs: 4500, sourceSize: 1200 },
    ]);
  });

  it('reads each record once: a second read with the same `known` asks only for the new backups', async () => {
    const memory = createMemoryStore({ location: 'bucket' });
    for (const day of ['01', '02']) {
      put(memory, `clara_202602${day}_030000.sql.gz`, 100);
      await record(memory, `clara_202602${day}_030000.sql.gz`, 100, `2026-02-${day}T03:00:00.000Z`, 2);
    }
    const { store, reads } = counting(memory);
    const { logger, secrets } = collectingLogger();
    const environment = { logger, secrets, signal: new AbortController().signal };
    const known = new Map<string, RecordFigures>();
    await readBackupHistory([gzipJob(source, { s3: store })], environment, known);
    const first = reads.filter((name) => name.startsWith('checksums/')).length;
    expect(first).toBe(2);
    put(memory, 'clara_20260203_030000.sql.gz', 100);
    await record(memory, 'clara_20260203_030000.sql.gz', 100, '2026-02-03T03:00:00.000Z', 3);
    reads.length = 0;
    const [history] = await readBackupHistory([gzipJob(source, { s3: store })], environment, known);
    expect(reads.filter((name) => name.startsWith('checksums/'))).toEqual([checksumDocument('clara_20260203_030000.sql.gz')]);
    expect(history!.backups.map((backup) => backup.durationMs)).toEqual([3000, 2000, 2000]);
  });
});
