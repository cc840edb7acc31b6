import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@backupctl/plugin-api';
import { describe, expect, it } from 'vitest';
import { uploadStream } from '../src/upload.js';

// What a failed upload tells the operator about the object, against a client
// that stands for S3. A failed run's output is the operator's checklist: the
// object is named (to delete by hand) only when it may exist, i.e. its commit
// was accepted or its answer lost, and removing it failed. A commit S3
// refused created nothing. Through the CLI and a real S3 server:
// test/e2e/faults-s3.test.ts.

const KiB = 1024;
const PART_SIZE = 64 * KiB;
const BUCKET = 'clara-backups';
const KEY = 'backups/clara/clara_20260201_030000.sql.gz';

/** What S3 does with a command, by the command's class name; anything not listed succeeds. */
type Replies = Partial<Record<string, (input: unknown) => Promise<unknown>>>;

/** An error as the SDK throws it for an S3 error answer. */
function refusal(name: string, status: number, attempts = 1): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status, attempts }, message: `${name} message` });
}

/** An error as the SDK throws it when no answer came, after its retries. */
function lostAnswer(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: { attempts: 3 } });
}

function fakeS3(replies: Replies) {
  const sent: string[] = [];
  const send = async (command: { input: unknown }): Promise<unknown> => {
    const name = command.constructor.name.replace(/Command$/, '');
    sent.push(name);
    const reply = replies[name];
    if (reply) return reply(command.input);
    if (name === 'CreateMultipartUpload') return { UploadId: 'u1' };
    if (name === 'UploadPart') return { ETag: '"etag"' };
    return {};
  };
  const config = { requestChecksumCalculation: async (): Promise<string> => 'WHEN_REQUIRED' };
  return { client: { send, config } as unknown as S3Client, sent };
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  return { debug: ignore, info: ignore, error: ignore, warn: (message) => warnings.push(message), warnings };
}

async function upload(replies: Replies, size: number, signal = new AbortController().signal) {
  const s3 = fakeS3(replies);
  const logger = recordingLogger();
  const result = uploadStream(
    Readable.from([randomBytes(size)]),
    { client: s3.client, bucket: BUCKET, key: KEY, contentType: 'application/gzip', partSize: PART_SIZE, queueSize: 1, logger, endpoint: 'http://s3.test' },
    signal,
  ).then(
    () => undefined,
    (error: unknown) => error,
  );
  return { error: await result, sent: s3.sent, warnings: logger.warnings };
}

const MAY_EXIST = `s3: s3://${BUCKET}/${KEY} may exist although the upload failed, and removing it failed; delete it by hand if it is there`;

describe('uploadStream after a failed commit', () => {
  it.each([
    ['SignatureDoesNotMatch', 403],
    ['InvalidAccessKeyId', 403],
    ['NoSuchBucket', 404],
    ['AccessDenied', 403],
  ])('a PutObject refused with %s: nothing to remove, nothing said', async (name, status) => {
    const { error, sent, warnings } = await upload({ PutObject: () => Promise.reject(refusal(name, status)) }, PART_SIZE - 1);
    expect(error).toMatchObject({ code: 'SINK_FAILED' });
    expect(sent).toEqual(['PutObject']);
    expect(warnings).toEqual([]);
  });

  it('a CompleteMultipartUpload refused: the upload is aborted, no object removed, nothing said', async () => {
    const { error, sent, warnings } = await upload({ CompleteMultipartUpload: () => Promise.reject(refusal('InvalidPart', 400)) }, 2 * PART_SIZE + 1);
    expect(error).toMatchObject({ code: 'SINK_FAILED' });
    expect(sent.slice(-2)).toEqual(['CompleteMultipartUpload', 'AbortMultipartUpload']);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['PutObject', PART_SIZE - 1],
    ['CompleteMultipartUpload', 2 * PART_SIZE + 1],
  ])('a %s whose answer was lost, and removing the object failed: names the object', async (commit, size) => {
    const { error, sent, warnings } = await upload({ [commit]: () => Promise.reject(lostAnswer()), DeleteObject: () => Promise.reject(lostAnswer()) }, size);
    expect(error).toMatchObject({ code: 'SINK_FAILED', message: expect.stringContaining('cannot reach S3 endpoint') });
    expect(sent).toContain('DeleteObject');
    expect(warnings).toEqual([MAY_EXIST]);
  });

  it('a CompleteMultipartUpload retried after a lost answer finds no upload: the object may exist', async () => {
    const { sent, warnings } = await upload(
      { CompleteMultipartUpload: () => Promise.reject(refusal('NoSuchUpload', 404, 2)), DeleteObject: () => Promise.reject(refusal('AccessDenied', 403)) },
      2 * PART_SIZE + 1,
    );
    expect(sent).toContain('DeleteObject');
    expect(warnings).toEqual([MAY_EXIST]);
  });

  it('a commit whose answer was lost, removed after: nothing said', async () => {
    const { sent, warnings } = await upload({ PutObject: () => Promise.reject(lostAnswer()) }, PART_SIZE - 1);
    expect(sent).toEqual(['PutObject', 'DeleteObject']);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['NoSuchKey', 404],
    ['NoSuchBucket', 404],
  ])('a commit whose answer was lost, its removal answered %s: nothing there, nothing said', async (name, status) => {
    const { sent, warnings } = await upload({ PutObject: () => Promise.reject(lostAnswer()), DeleteObject: () => Promise.reject(refusal(name, status)) }, PART_SIZE - 1);
    expect(sent).toEqual(['PutObject', 'DeleteObject']);
    expect(warnings).toEqual([]);
  });

  it('a CompleteMultipartUpload accepted while the run was aborted, and removing the object failed: names the object', async () => {
    const run = new AbortController();
    const { error, sent, warnings } = await upload(
      {
        // S3 commits the object although the run is aborted while the request is on the wire.
        CompleteMultipartUpload: async () => {
          run.abort(new Error('SIGTERM'));
          return {};
        },
        DeleteObject: () => Promise.reject(refusal('AccessDenied', 403)),
        AbortMultipartUpload: () => Promise.reject(refusal('NoSuchUpload', 404)),
      },
      2 * PART_SIZE + 1,
      run.signal,
    );
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(sent).toContain('DeleteObject');
    expect(warnings).toEqual([MAY_EXIST]);
  });
});
