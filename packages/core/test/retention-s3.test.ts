import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { Secrets, type Store } from '@backupctl/plugin-api';
import { deleteObjects, listObjects, type S3Bucket } from '../../plugin-s3/src/store.js';
import { applyRetention, createLogger } from '../src/index.js';

// The retention hook over the S3 store with more backups than one listing
// page and one delete batch hold. s3rver (the e2e server) fails on
// continuation tokens, so the bucket here is a stand-in that pages as S3
// does: 1000 keys a page, keys in lexicographic order.

const PAGE = 1000;

function pagingBucket(keys: Iterable<string>) {
  const objects = new Set(keys);
  const requests: string[] = [];
  const send = async (command: { input: unknown }): Promise<unknown> => {
    if (command instanceof ListObjectsV2Command) {
      const { Prefix = '', ContinuationToken } = command.input;
      requests.push(`list ${ContinuationToken ?? ''}`.trim());
      const matching = [...objects].filter((key) => key.startsWith(Prefix)).sort();
      const from = ContinuationToken === undefined ? 0 : Number(ContinuationToken);
      const page = matching.slice(from, from + PAGE);
      const more = from + PAGE < matching.length;
      return {
        Contents: page.map((Key) => ({ Key, Size: 1, LastModified: new Date(0) })),
        IsTruncated: more,
        ...(more ? { NextContinuationToken: String(from + PAGE) } : {}),
      };
    }
    if (command instanceof DeleteObjectsCommand) {
      const batch = command.input.Delete?.Objects ?? [];
      requests.push(`delete ${batch.length}`);
      for (const { Key } of batch) objects.delete(Key!);
      return {};
    }
    throw new Error(`unexpected ${command.constructor.name}`);
  };
  const bucket: S3Bucket = { client: { send } as unknown as Pick<S3Client, 'send'>, bucket: 'clara-backups', endpoint: 'http://s3.test' };
  return { bucket, objects, requests };
}

/** The store part of the S3 sink, over a given bucket (as sink.ts wires it). */
function s3Store(bucket: S3Bucket, prefix: string): Store {
  return {
    location: bucket.bucket,
    prefix,
    list: (listPrefix, signal) => listObjects(bucket, listPrefix, signal),
    get: () => Promise.reject(new Error('not used')),
    delete: (keys, signal) => deleteObjects(bucket, keys, signal),
    readMetadata: async () => undefined,
    writeMetadata: async () => {},
    deleteMetadata: (names, signal) => deleteObjects(bucket, names.map((name) => `metadata/${name}`), signal),
  };
}

const stamp = (time: number) => new Date(time).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);

describe('retention on the S3 store with 10,500 backups', () => {
  it('lists every page, deletes in batches of 1000 and keeps what the rules keep', async () => {
    const now = new Date('2026-02-01T03:00:00Z');
    const hour = 60 * 60 * 1000;
    // One backup an hour, the newest now: 10,500 hours is about 437 days.
    const keys = Array.from({ length: 10_500 }, (_, index) => `backups/clara/clara_${stamp(now.getTime() - index * hour)}.sql.gz`);
    const { bucket, objects, requests } = pagingBucket(keys);
    const lines: string[] = [];
    const logger = createLogger({ secrets: new Secrets(), write: (line) => lines.push(line.slice(22)) });

    const outcome = await applyRetention(
      { days: 7, keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 },
      { job: 'clara', extension: '.sql.gz', store: s3Store(bucket, 'backups/clara/'), logger, now },
    );

    const kept = 7 * 24 + 1; // every hour of the last 7 days, both ends included
    expect(outcome.kept).toBe(kept);
    expect(outcome.expired).toHaveLength(10_500 - kept);
    expect([...objects].sort()).toEqual(keys.slice(0, kept).sort());
    expect(requests.filter((request) => request.startsWith('list'))).toEqual(
      ['list', ...Array.from({ length: 10 }, (_, page) => `list ${(page + 1) * PAGE}`)],
    );
    // The 10,331 objects, then their four records each (checksum, manifest, verification, anomaly flag), 1000 a request.
    const deletes = requests.filter((request) => request.startsWith('delete'));
    expect(deletes).toEqual([...Array(10).fill('delete 1000'), 'delete 331', ...Array(41).fill('delete 1000'), 'delete 324']);
    expect(lines.at(-1)).toBe('Cleanup: removed 10331 expired backups');
  });
});
