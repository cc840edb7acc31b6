import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { DELETE_BATCH_SIZE, deleteObjects, listObjects, type S3Bucket } from '../src/store.js';

// The store's request shapes, checked against a client that records what it
// is sent. The same operations run against a real S3 server in
// test/e2e/plugin-s3.test.ts.

type Reply = (command: { input: unknown }) => unknown;

function recordingBucket(reply: Reply): S3Bucket & { sent: { name: string; input: unknown }[] } {
  const sent: { name: string; input: unknown }[] = [];
  const send = async (command: { input: unknown }): Promise<unknown> => {
    sent.push({ name: command.constructor.name, input: command.input });
    return reply(command);
  };
  return { client: { send } as unknown as Pick<S3Client, 'send'>, bucket: 'clara-backups', endpoint: 'http://s3.test', sent };
}

describe('deleteObjects', () => {
  it('sends at most 1000 keys per DeleteObjects request, in Quiet mode', async () => {
    const keys = Array.from({ length: 2 * DELETE_BATCH_SIZE + 5 }, (_, index) => `backups/clara/${index}.sql.gz`);
    const target = recordingBucket(() => ({}));
    await deleteObjects(target, keys);

    expect(target.sent.map((request) => request.name)).toEqual([
      DeleteObjectsCommand.name,
      DeleteObjectsCommand.name,
      DeleteObjectsCommand.name,
    ]);
    const batches = target.sent.map((request) => request.input as DeleteObjectsCommand['input']);
    expect(batches.map((input) => input.Delete?.Objects?.length)).toEqual([1000, 1000, 5]);
    expect(batches.every((input) => input.Bucket === 'clara-backups' && input.Delete?.Quiet === true)).toBe(true);
    expect(batches.flatMap((input) => input.Delete?.Objects?.map((object) => object.Key))).toEqual(keys);
  });

  it('sends nothing for no keys', async () => {
    const target = recordingBucket(() => ({}));
    await deleteObjects(target, []);
    expect(target.sent).toEqual([]);
  });

  it('fails when S3 reports keys it could not delete, and stops there', async () => {
    const keys = Array.from({ length: DELETE_BATCH_SIZE + 1 }, (_, index) => `k${index}`);
    const target = recordingBucket(() => ({
      Errors: [
        { Key: 'k3', Code: 'AccessDenied', Message: 'Access Denied' },
        { Key: 'k4', Code: 'AccessDenied', Message: 'Access Denied' },
      ],
    }));
    await expect(deleteObjects(target, keys)).rejects.toMatchObject({
      code: 'STORE_FAILED',
      hook: 'delete',
      message: 'could not delete k3 and 1 more from bucket clara-backups: AccessDenied (Access Denied)',
    });
    expect(target.sent).toHaveLength(1);
  });
});

describe('listObjects', () => {
  it('follows continuation tokens without setting MaxKeys', async () => {
    const pages: Record<string, unknown> = {
      first: {
        IsTruncated: true,
        NextContinuationToken: 'page-2',
        Contents: [{ Key: 'backups/clara/a', Size: 3, LastModified: new Date('2026-02-01T03:00:00Z') }],
      },
      'page-2': { IsTruncated: false, Contents: [{ Key: 'backups/clara/b', Size: 5, LastModified: new Date('2026-02-02T03:00:00Z') }] },
    };
    const target = recordingBucket((command) => pages[(command.input as { ContinuationToken?: string }).ContinuationToken ?? 'first']);

    const listed = [];
    for await (const object of listObjects(target, 'backups/clara/')) listed.push(object);

    expect(listed).toEqual([
      { key: 'backups/clara/a', size: 3, lastModified: new Date('2026-02-01T03:00:00Z') },
      { key: 'backups/clara/b', size: 5, lastModified: new Date('2026-02-02T03:00:00Z') },
    ]);
    expect(target.sent).toEqual([
      { name: ListObjectsV2Command.name, input: { Bucket: 'clara-backups', Prefix: 'backups/clara/' } },
      { name: ListObjectsV2Command.name, input: { Bucket: 'clara-backups', Prefix: 'backups/clara/', ContinuationToken: 'page-2' } },
    ]);
  });
});
