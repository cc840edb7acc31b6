import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type {
  CompleteMultipartUploadCommandInput,
  CreateMultipartUploadCommandInput,
  PutObjectCommandInput,
  S3Client,
  UploadPartCommandInput,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { PartWriter, type PartWriterOptions } from '../src/part-writer.js';

// The writer's requests, checked against a client that stands for S3: it
// records each command it is sent (part bodies copied at send time, because
// the writer reuses a part's buffer once the part's request resolved) and
// answers as S3 does. Held parts stand for a slow S3: their UploadPart
// answers only when the test releases them. The same uploads run against a
// real S3 server in test/e2e/plugin-s3.test.ts and
// test/e2e/s3-part-plan.test.ts.

const KiB = 1024;
const PART_SIZE = 64 * KiB;
const QUEUE_SIZE = 3;
/** Odd on purpose: chunks never line up with part boundaries. */
const CHUNK_SIZE = 10_007;

type ChecksumMode = 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';

/** What each command the writer sends carries, by the command's class name. */
interface Inputs {
  CreateMultipartUploadCommand: CreateMultipartUploadCommandInput;
  UploadPartCommand: UploadPartCommandInput;
  CompleteMultipartUploadCommand: CompleteMultipartUploadCommandInput;
  PutObjectCommand: PutObjectCommandInput;
}

interface SentCommand {
  name: string;
  input: unknown;
  /** A copy of the Body as it was when sent. */
  body?: Buffer;
  abortSignal?: AbortSignal;
}

interface HeldPart {
  partNumber: number;
  /** Lets S3 answer this part (successfully). */
  release(): void;
}

interface FakeS3Options {
  checksums?: ChecksumMode;
  /** Hold every UploadPart until the test releases it. */
  holdParts?: boolean;
  /** UploadPart of this part number fails with this error. */
  failPart?: { partNumber: number; error: Error };
}

/** The ChecksumCRC32 the fake S3 answers for a part (any value the writer must pass on as it is). */
function crcOfPart(partNumber: number): string {
  return `crc32-of-part-${partNumber}`;
}

function fakeS3(options: FakeS3Options = {}) {
  const sent: SentCommand[] = [];
  const held: HeldPart[] = [];
  /** Parts whose body changed while their request was on the wire. */
  const overwritten: number[] = [];
  let outstanding = 0;
  let maxOutstanding = 0;

  const uploadPart = async (input: UploadPartCommandInput, sentBody: Buffer): Promise<object> => {
    const partNumber = input.PartNumber ?? 0;
    outstanding += 1;
    maxOutstanding = Math.max(maxOutstanding, outstanding);
    try {
      if (options.holdParts) {
        await new Promise<void>((resolve) => {
          const part: HeldPart = {
            partNumber,
            release: () => {
              held.splice(held.indexOf(part), 1);
              resolve();
            },
          };
          held.push(part);
        });
      }
      if (!(input.Body as Buffer).equals(sentBody)) overwritten.push(partNumber);
      if (options.failPart?.partNumber === partNumber) throw options.failPart.error;
      return {
        ETag: `"etag-${partNumber}"`,
        ...(options.checksums === 'WHEN_SUPPORTED' ? { ChecksumCRC32: crcOfPart(partNumber) } : {}),
      };
    } finally {
      outstanding -= 1;
    }
  };

  const send = async (command: { input: unknown }, sendOptions?: { abortSignal?: AbortSignal }): Promise<object> => {
    const name = command.constructor.name;
    const body = (command.input as { Body?: unknown }).Body;
    const record: SentCommand = { name, input: command.input };
    if (sendOptions?.abortSignal) record.abortSignal = sendOptions.abortSignal;
    if (Buffer.isBuffer(body)) record.body = Buffer.from(body);
    sent.push(record);
    if (name === 'CreateMultipartUploadCommand') return { UploadId: 'u1' };
    if (name === 'UploadPartCommand') return uploadPart(command.input as UploadPartCommandInput, record.body ?? Buffer.alloc(0));
    return {};
  };
  const config = { requestChecksumCalculation: async (): Promise<ChecksumMode> => options.checksums ?? 'WHEN_REQUIRED' };

  return {
    client: { send, config } as unknown as S3Client,
    sent,
    held,
    overwritten,
    get outstanding(): number {
      return outstanding;
    },
    get maxOutstanding(): number {
      return maxOutstanding;
    },
    names: (): string[] => sent.map((command) => command.name),
    inputsOf: <Name extends keyof Inputs>(name: Name): Inputs[Name][] =>
      sent.filter((command) => command.name === name).map((command) => command.input as Inputs[Name]),
    /** The UploadPart bodies, in PartNumber order. */
    partBodies: (): Buffer[] =>
      sent
        .filter((command) => command.name === 'UploadPartCommand')
        .map((command) => ({ partNumber: (command.input as UploadPartCommandInput).PartNumber ?? 0, body: command.body ?? Buffer.alloc(0) }))
        .sort((a, b) => a.partNumber - b.partNumber)
        .map((part) => part.body),
  };
}

function partWriter(client: S3Client, overrides: Partial<PartWriterOptions> = {}): PartWriter {
  return new PartWriter({
    client,
    bucket: 'clara-backups',
    key: 'backups/clara/clara_20260201_030000.sql.gz',
    contentType: 'application/gzip',
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
    maxParts: 10_000,
    tooManyParts: () => new Error('too many'),
    requestSignal: new AbortController().signal,
    ...overrides,
  });
}

function* chunksOf(input: Buffer, chunkSize = CHUNK_SIZE): Generator<Buffer> {
  for (let offset = 0; offset < input.length; offset += chunkSize) yield input.subarray(offset, offset + chunkSize);
}

/** Pipes `input` into `writer` in odd-sized chunks; resolves or rejects as the writer finishes. */
function upload(writer: PartWriter, input: Buffer): Promise<void> {
  const done = finished(writer);
  Readable.from(chunksOf(input)).pipe(writer);
  return done;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 1000; turn += 1) {
    if (condition()) return;
    await nextTurn();
  }
  throw new Error(`gave up waiting until ${what}`);
}

/** Long enough for a stream that could still move to move. */
async function quiet(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) await nextTurn();
  await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('PartWriter', () => {
  it('uploads exactly the input bytes as parts of partSize, then completes them in order', async () => {
    const s3 = fakeS3();
    const requests = new AbortController();
    const writer = partWriter(s3.client, { requestSignal: requests.signal });
    const input = randomBytes(7 * PART_SIZE + 12_345);

    await upload(writer, input);

    const bodies = s3.partBodies();
    expect(bodies.map((body) => body.length)).toEqual([...Array<number>(7).fill(PART_SIZE), 12_345]);
    expect(sha256(Buffer.concat(bodies))).toBe(sha256(input));
    expect(s3.names()[0]).toBe('CreateMultipartUploadCommand');
    expect(s3.names().at(-1)).toBe('CompleteMultipartUploadCommand');
    expect(s3.inputsOf('CompleteMultipartUploadCommand')).toEqual([
      {
        Bucket: 'clara-backups',
        Key: 'backups/clara/clara_20260201_030000.sql.gz',
        UploadId: 'u1',
        MultipartUpload: { Parts: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ PartNumber: n, ETag: `"etag-${n}"` })) },
      },
    ]);
    expect(s3.inputsOf('UploadPartCommand').every((part) => part.UploadId === 'u1' && part.ContentLength === (part.Body as Buffer).length)).toBe(
      true,
    );
    expect(s3.inputsOf('CreateMultipartUploadCommand')[0]?.ContentType).toBe('application/gzip');
    // Parts and the commit can be cancelled; the create never is (its upload id would be lost).
    expect(s3.sent.map((command) => [command.name, command.abortSignal === requests.signal])).toEqual([
      ['CreateMultipartUploadCommand', false],
      ...Array.from({ length: 8 }, () => ['UploadPartCommand', true]),
      ['CompleteMultipartUploadCommand', true],
    ]);
    expect(writer.bytes).toBe(input.length);
    expect(writer.objectMayExist).toBe(true);
  });

  it('holds two part buffers while S3 keeps up', async () => {
    const s3 = fakeS3();
    const writer = partWriter(s3.client);
    const input = randomBytes(20 * PART_SIZE + 999);

    await upload(writer, input);

    expect(s3.inputsOf('UploadPartCommand')).toHaveLength(21);
    expect(writer.buffersAllocated).toBe(2);
    expect(s3.overwritten).toEqual([]);
    expect(sha256(Buffer.concat(s3.partBodies()))).toBe(sha256(input));
  });

  it('stops taking input while queueSize parts are on the wire, and finishes once S3 answers', async () => {
    const s3 = fakeS3({ holdParts: true });
    const writer = partWriter(s3.client);
    const input = randomBytes(20 * PART_SIZE + 3_000);
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (const chunk of chunksOf(input)) {
          pulled += chunk.length;
          yield chunk;
        }
      })(),
    );
    let ended = false;
    const done = finished(writer).finally(() => (ended = true));
    source.pipe(writer);

    await until(() => s3.held.length === QUEUE_SIZE, 'queueSize parts are on the wire');
    await quiet();
    const takenWhileHeld = writer.bytes;
    const pulledWhileHeld = pulled;
    await quiet();
    // Backpressure: neither the writer nor the source moved while S3 held the parts.
    expect(writer.bytes).toBe(takenWhileHeld);
    expect(pulled).toBe(pulledWhileHeld);
    expect(s3.held.map((part) => part.partNumber)).toEqual([1, 2, 3]);
    // Three parts on the wire, the fourth filling, at most one chunk spilling past it.
    expect(takenWhileHeld).toBeGreaterThan(QUEUE_SIZE * PART_SIZE);
    expect(takenWhileHeld).toBeLessThanOrEqual((QUEUE_SIZE + 1) * PART_SIZE + CHUNK_SIZE);
    expect(pulledWhileHeld).toBeLessThan(input.length / 2);
    expect(writer.buffersAllocated).toBe(QUEUE_SIZE + 1);

    // S3 answers slowly, one part at a time, oldest first.
    for (let turn = 0; !ended && turn < 10_000; turn += 1) {
      s3.held[0]?.release();
      await nextTurn();
    }
    await done;

    expect(s3.maxOutstanding).toBeLessThanOrEqual(QUEUE_SIZE);
    expect(writer.buffersAllocated).toBe(QUEUE_SIZE + 1);
    expect(s3.overwritten).toEqual([]);
    expect(sha256(Buffer.concat(s3.partBodies()))).toBe(sha256(input));
    expect(s3.names().at(-1)).toBe('CompleteMultipartUploadCommand');
    expect(writer.bytes).toBe(input.length);
  });

  // The last, partial part is started from `_final`, not from a full buffer: it must wait for a slot too.
  it('keeps the last, partial part waiting while queueSize parts are on the wire', async () => {
    const s3 = fakeS3({ holdParts: true });
    const writer = partWriter(s3.client);
    let ended = false;
    const done = upload(writer, randomBytes(QUEUE_SIZE * PART_SIZE + 500)).finally(() => (ended = true));

    await until(() => s3.held.length >= QUEUE_SIZE, 'queueSize parts are on the wire');
    await quiet();
    const partsOnTheWire = s3.held.map((part) => part.partNumber);
    for (let turn = 0; !ended && turn < 1_000; turn += 1) {
      s3.held[0]?.release();
      await nextTurn();
    }
    await done;

    expect(partsOnTheWire).toEqual([1, 2, 3]);
    expect(s3.maxOutstanding).toBe(QUEUE_SIZE);
  });

  it('completes parts in ascending order when S3 answers them out of order', async () => {
    const s3 = fakeS3({ holdParts: true });
    const writer = partWriter(s3.client);
    const input = randomBytes(2 * PART_SIZE + 500);
    const done = upload(writer, input);

    await until(() => s3.held.length === 3, 'all three parts are on the wire');
    const release = (partNumber: number): void => s3.held.find((part) => part.partNumber === partNumber)?.release();
    release(2);
    release(3);
    await quiet();
    expect(s3.names()).not.toContain('CompleteMultipartUploadCommand');
    release(1);
    await done;

    expect(s3.names().at(-1)).toBe('CompleteMultipartUploadCommand');
    expect(s3.inputsOf('CompleteMultipartUploadCommand')[0]?.MultipartUpload?.Parts).toEqual([
      { PartNumber: 1, ETag: '"etag-1"' },
      { PartNumber: 2, ETag: '"etag-2"' },
      { PartNumber: 3, ETag: '"etag-3"' },
    ]);
    expect(sha256(Buffer.concat(s3.partBodies()))).toBe(sha256(input));
  });

  it('stores a stream shorter than one part with a single PutObject', async () => {
    const s3 = fakeS3();
    const writer = partWriter(s3.client, { contentType: 'application/sql' });
    const input = randomBytes(PART_SIZE - 1);

    await upload(writer, input);

    expect(s3.names()).toEqual(['PutObjectCommand']);
    expect(s3.inputsOf('PutObjectCommand')[0]).toMatchObject({
      Bucket: 'clara-backups',
      Key: 'backups/clara/clara_20260201_030000.sql.gz',
      ContentType: 'application/sql',
      ContentLength: input.length,
    });
    expect(s3.sent[0]?.body?.equals(input)).toBe(true);
    expect(writer.objectMayExist).toBe(true);
    expect(writer.uploadId).toBeUndefined();
    expect(writer.bytes).toBe(input.length);
  });

  it('stores an empty stream as an empty object with a single PutObject', async () => {
    const s3 = fakeS3();
    const writer = partWriter(s3.client);
    expect(writer.objectMayExist).toBe(false);

    writer.end();
    await finished(writer);

    expect(s3.names()).toEqual(['PutObjectCommand']);
    expect(s3.inputsOf('PutObjectCommand')[0]).toMatchObject({ ContentLength: 0, ContentType: 'application/gzip' });
    expect(s3.sent[0]?.body?.length).toBe(0);
    expect(writer.objectMayExist).toBe(true);
    expect(writer.bytes).toBe(0);
    expect(writer.buffersAllocated).toBe(0);
  });

  it('names CRC32 on the upload and its parts, and completes with the parts’ checksums, when checksums are WHEN_SUPPORTED', async () => {
    const s3 = fakeS3({ checksums: 'WHEN_SUPPORTED' });
    const writer = partWriter(s3.client);

    await upload(writer, randomBytes(2 * PART_SIZE + 1));

    expect(s3.inputsOf('CreateMultipartUploadCommand')[0]?.ChecksumAlgorithm).toBe('CRC32');
    expect(s3.inputsOf('UploadPartCommand').map((part) => part.ChecksumAlgorithm)).toEqual(['CRC32', 'CRC32', 'CRC32']);
    expect(s3.inputsOf('CompleteMultipartUploadCommand')[0]?.MultipartUpload?.Parts).toEqual(
      [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"etag-${n}"`, ChecksumCRC32: crcOfPart(n) })),
    );
  });

  it('sends no checksum fields when checksums are WHEN_REQUIRED', async () => {
    const s3 = fakeS3({ checksums: 'WHEN_REQUIRED' });
    const writer = partWriter(s3.client);

    await upload(writer, randomBytes(2 * PART_SIZE + 1));

    expect(s3.inputsOf('CreateMultipartUploadCommand')[0]).not.toHaveProperty('ChecksumAlgorithm');
    expect(s3.inputsOf('UploadPartCommand')).toHaveLength(3);
    expect(s3.inputsOf('UploadPartCommand').filter((part) => 'ChecksumAlgorithm' in part)).toEqual([]);
    expect(s3.inputsOf('CompleteMultipartUploadCommand')[0]?.MultipartUpload?.Parts).toEqual(
      [1, 2, 3].map((n) => ({ PartNumber: n, ETag: `"etag-${n}"` })),
    );
  });

  it.each([
    { failing: 'a part in the middle', partNumber: 2 },
    { failing: 'the last, partial part', partNumber: 6 },
  ])('fails with the error of $failing and sends no Complete', async ({ partNumber }) => {
    const error = new Error('socket hang up');
    const s3 = fakeS3({ failPart: { partNumber, error } });
    const writer = partWriter(s3.client);

    await expect(upload(writer, randomBytes(5 * PART_SIZE + 77))).rejects.toBe(error);

    await expect(writer.settled()).resolves.toBeUndefined();
    expect(s3.inputsOf('UploadPartCommand').map((part) => part.PartNumber)).toContain(partNumber);
    expect(s3.names()).not.toContain('CompleteMultipartUploadCommand');
    expect(writer.objectMayExist).toBe(false);
    // The caller aborts the multipart upload with this id.
    expect(writer.uploadId).toBe('u1');
  });

  it('takes exactly partSize × maxParts bytes', async () => {
    const s3 = fakeS3();
    const writer = partWriter(s3.client, { maxParts: 2 });
    const input = randomBytes(2 * PART_SIZE);

    await upload(writer, input);

    expect(s3.partBodies().map((body) => body.length)).toEqual([PART_SIZE, PART_SIZE]);
    expect(s3.names().at(-1)).toBe('CompleteMultipartUploadCommand');
  });

  it('fails with tooManyParts at the first byte past partSize × maxParts, and sends no Complete', async () => {
    const tooMany = new Error('too many');
    const s3 = fakeS3();
    const writer = partWriter(s3.client, { maxParts: 2, tooManyParts: () => tooMany });
    const done = finished(writer);

    Readable.from([...chunksOf(randomBytes(2 * PART_SIZE)), Buffer.from([0x2a])]).pipe(writer);

    await expect(done).rejects.toBe(tooMany);
    await writer.settled();
    expect(s3.inputsOf('UploadPartCommand').map((part) => part.PartNumber)).toEqual([1, 2]);
    expect(s3.names()).not.toContain('CompleteMultipartUploadCommand');
    expect(writer.objectMayExist).toBe(false);
  });
});
