import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TransformInstance } from '../plugin.js';

/** Bytes for a test: one buffer, or chunks from an array or a (possibly async) generator. */
export type TestInput = Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;

/** What a round trip saw. */
export interface RoundTripReport {
  /** Bytes given to `encode()` (and, since the round trip held, read back from `decode()`). */
  inputBytes: number;
  /** Bytes `encode()` produced: what a sink would store. */
  encodedBytes: number;
  /** The encoded bytes themselves; absent with `keepEncoded: false` (large inputs). */
  encoded?: Buffer;
}

/**
 * Runs `input` through `transform.encode()` then `transform.decode()` as one
 * stream and throws unless the bytes that come out are the bytes that went
 * in (length and SHA-256). Nothing is buffered unless `keepEncoded` is true
 * (the default), so it works on inputs of any size.
 *
 *   const report = await transformRoundTrip(await plugin.create({ level: 9 }, context), payload);
 */
export async function transformRoundTrip(
  transform: TransformInstance,
  input: TestInput,
  options: { keepEncoded?: boolean } = {},
): Promise<RoundTripReport> {
  const keepEncoded = options.keepEncoded ?? true;
  const entering = tap();
  const encodedTap = tap(keepEncoded);
  const leaving = tap();
  await pipeline(toReadable(input), entering.stream, transform.encode(), encodedTap.stream, transform.decode(), leaving.stream, discard());
  if (leaving.bytes !== entering.bytes || leaving.sha256() !== entering.sha256()) {
    throw new Error(
      `transform round trip: decode(encode(x)) gave ${leaving.bytes} bytes (sha256 ${leaving.sha256().slice(0, 12)}) ` +
        `for ${entering.bytes} input bytes (sha256 ${entering.sha256().slice(0, 12)})`,
    );
  }
  return { inputBytes: entering.bytes, encodedBytes: encodedTap.bytes, encoded: keepEncoded ? encodedTap.collected() : undefined };
}

/**
 * Pipes `input` through one stream (an `encode()` or a `decode()`) and
 * resolves with all it produced; rejects with the stream's error. For
 * checking one direction: a ciphertext, a decode that must fail.
 */
export async function streamThrough(stream: Duplex, input: TestInput): Promise<Buffer> {
  const out = tap(true);
  await pipeline(toReadable(input), stream, out.stream, discard());
  return out.collected();
}

/** One check every transform must pass; throws when it does not. */
export interface TransformContractCase {
  name: string;
  run(transform: TransformInstance): Promise<void>;
}

/**
 * The round trips every transform must survive, as test-runner-agnostic
 * cases (the transforms' counterpart of storeContract):
 *
 *   for (const check of transformContract()) it(check.name, async () => check.run(await makeTransform()));
 */
export function transformContract(): TransformContractCase[] {
  return [
    {
      name: 'an empty stream round-trips',
      run: async (transform) => void (await transformRoundTrip(transform, [])),
    },
    {
      name: 'a single byte round-trips',
      run: async (transform) => void (await transformRoundTrip(transform, Buffer.from([0x2a]))),
    },
    {
      name: 'repetitive text (a SQL dump) round-trips',
      run: async (transform) =>
        void (await transformRoundTrip(transform, Buffer.from("INSERT INTO users VALUES (1, 'ada', 'ada@example.com');\n".repeat(20_000)))),
    },
    {
      name: '3 MiB of random bytes in uneven chunks round-trips',
      async run(transform) {
        const body = randomBytes(3 * 1024 * 1024 + 7);
        await transformRoundTrip(transform, unevenChunks(body), { keepEncoded: false });
      },
    },
    {
      name: 'encode() and decode() give a new stream on each call',
      async run(transform) {
        const first = randomBytes(70_000);
        const second = randomBytes(50_000);
        // Both round trips at once: shared state between calls would mix them up.
        await Promise.all([transformRoundTrip(transform, first), transformRoundTrip(transform, second)]);
      },
    },
  ];
}

function* unevenChunks(body: Buffer): Generator<Buffer> {
  const sizes = [1, 1000, 65_536, 65_537, 3, 300_000];
  for (let offset = 0, index = 0; offset < body.length; index++) {
    const size = sizes[index % sizes.length] as number;
    yield body.subarray(offset, offset + size);
    offset += size;
  }
}

function toReadable(input: TestInput): Readable {
  // A Buffer given to Readable.from is one chunk; wrapping it says so.
  return Readable.from(Buffer.isBuffer(input) ? [input] : input, { objectMode: false });
}

function tap(keep = false) {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      if (keep) chunks.push(chunk);
      callback(null, chunk);
    },
  });
  let digest: string | undefined;
  return {
    stream,
    get bytes() {
      return bytes;
    },
    sha256: () => (digest ??= hash.digest('hex')),
    collected: () => Buffer.concat(chunks),
  };
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}
