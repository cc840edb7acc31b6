import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { TransformInstance } from '@backupctl/plugin-api';
import {
  createMemoryStore,
  createTestInstance,
  runTestPipeline,
  slowSink,
  sourceFrom,
  streamThrough,
  transformContract,
  transformRoundTrip,
} from '@backupctl/plugin-api/testing';
import age from '../src/index.js';

// Tests use scrypt's lowest cost; the default (18) takes a second and 256 MiB per encryption.
const PASSPHRASE = 'burst-swarm-slender-curve';
const FAST = { scryptWorkFactor: 10 };
const dump = Buffer.from("INSERT INTO users VALUES (1, 'ada@example.com');\n".repeat(5000));

let identity: string;
let recipient: string;

/** The plugin's instance for `options`, created as the runner creates it. */
async function ageTransform(options: Record<string, unknown>): Promise<TransformInstance> {
  return (await createTestInstance(age, options)).instance;
}

beforeAll(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('age transform: the transform contract', () => {
  for (const check of transformContract()) {
    it(`recipients: ${check.name}`, async () => check.run(await ageTransform({ recipients: [recipient], identities: [identity] })));
  }
  it('passphrase: round-trips', async () => {
    await transformRoundTrip(await ageTransform({ passphrase: PASSPHRASE, ...FAST }), dump);
  });
});

describe('age transform: what it stores', () => {
  it('writes a standard age file that age itself decrypts, and no plaintext', async () => {
    const { encoded } = await transformRoundTrip(await ageTransform({ recipients: recipient, identities: identity }), dump);
    expect(encoded!.subarray(0, 24).toString('latin1')).toBe('age-encryption.org/v1\n->');
    expect(encoded!.includes(Buffer.from('ada@example.com'))).toBe(false);
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    expect(Buffer.from(await decrypter.decrypt(encoded!)).equals(dump)).toBe(true);
  });

  it('passphrase files are age scrypt files with the configured work factor', async () => {
    const encoded = await streamThrough((await ageTransform({ passphrase: PASSPHRASE, ...FAST })).encode(), dump);
    expect(encoded.toString('latin1', 0, 200)).toMatch(/^age-encryption\.org\/v1\n-> scrypt \S+ 10\n/);
    const decrypter = new Decrypter();
    decrypter.addPassphrase(PASSPHRASE);
    expect(Buffer.from(await decrypter.decrypt(encoded)).equals(dump)).toBe(true);
  });

  it('encrypts to the identities’ own recipients when only identities are given', async () => {
    const transform = await ageTransform({ identities: [identity] });
    const encoded = await streamThrough(transform.encode(), dump);
    expect((await streamThrough(transform.decode(), encoded)).equals(dump)).toBe(true);
  });
});

describe('age transform: restoring', () => {
  it('with only recipients (public keys), decode says the secret key is needed', async () => {
    const transform = await ageTransform({ recipients: [recipient] });
    const encoded = await streamThrough(transform.encode(), dump);
    await expect(streamThrough(transform.decode(), encoded)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'age: no identity to decrypt with (only recipients, which are public keys, are set)',
      hint: expect.stringContaining('identityFile'),
    });
  });

  it('refuses a backup made for another key, saying so', async () => {
    const encoded = await streamThrough((await ageTransform({ recipients: [recipient] })).encode(), dump);
    const other = await ageTransform({ identities: [await generateIdentity()] });
    await expect(streamThrough(other.decode(), encoded)).rejects.toMatchObject({
      code: 'TRANSFORM_FAILED',
      message: 'age: this backup was not encrypted to any of the configured identities or passphrase',
    });
  });

  it('refuses a wrong passphrase', async () => {
    const encoded = await streamThrough((await ageTransform({ passphrase: PASSPHRASE, ...FAST })).encode(), dump);
    const wrong = await ageTransform({ passphrase: 'not-the-passphrase' });
    await expect(streamThrough(wrong.decode(), encoded)).rejects.toThrow(/not encrypted to any of the configured identities or passphrase/);
  });

  it('detects a flipped byte and a truncated object', async () => {
    const transform = await ageTransform({ identities: [identity] });
    const encoded = await streamThrough(transform.encode(), randomBytes(200_000));
    const flipped = Buffer.from(encoded);
    flipped[flipped.length - 1000]! ^= 1;
    await expect(streamThrough(transform.decode(), flipped)).rejects.toThrow(/invalid tag|decrypt/i);
    await expect(streamThrough(transform.decode(), encoded.subarray(0, encoded.length - 100))).rejects.toThrow();
  });
});

describe('age transform: configuration', () => {
  it('reads recipients and the passphrase from the environment when the options are absent', async () => {
    vi.stubEnv('AGE_RECIPIENTS', `${recipient}, ${await identityToRecipient(await generateIdentity())}`);
    const encoded = await streamThrough((await ageTransform({})).encode(), dump);
    expect(encoded.toString('latin1', 0, 400).match(/\n-> X25519 /g)).toHaveLength(2);

    vi.unstubAllEnvs();
    vi.stubEnv('AGE_PASSPHRASE', PASSPHRASE);
    await transformRoundTrip(await ageTransform(FAST), dump);
  });

  it('reads an identity file as age-keygen writes it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'age-plugin-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'key.txt');
    await writeFile(file, `# created: 2026-02-01T03:00:00Z\n# public key: ${recipient}\n${identity}\n`);
    await transformRoundTrip(await ageTransform({ identityFile: file }), dump);
    vi.stubEnv('AGE_IDENTITY_FILE', path.join(dir, 'missing.txt'));
    await expect(ageTransform({})).rejects.toThrow(`age: cannot read the identity file ${path.join(dir, 'missing.txt')}: ENOENT`);
  });

  it('reports bad keys as configuration errors from create, without printing a secret', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /no recipients, passphrase or identities/],
      [{ recipients: [recipient], passphrase: PASSPHRASE }, /both a passphrase and recipients are set/],
      [{ recipients: ['age1notakey'] }, /recipient 1 \(age1notakey\.\.\.\) is not an age recipient/],
      [{ identities: ['AGE-SECRET-KEY-1NOTAKEY-SECRETPART'] }, /identity 1 is not an age identity/],
    ];
    for (const [options, message] of cases) {
      const run = await runTestPipeline({ source: sourceFrom([dump]), transforms: [{ plugin: age, options }] });
      expect(run.result.error).toMatchObject({ code: 'CONFIG_INVALID', plugin: 'age', hook: 'create', message: expect.stringMatching(message) });
      expect(run.result.error?.hint).toBeTruthy();
      expect(run.logs.join('\n')).not.toContain('SECRETPART');
      expect(run.objects).toEqual([]);
    }
  });
});

describe('age transform in a pipeline', () => {
  it('backs up to <name>.age, restores the same bytes, and masks the key in logs', async () => {
    const run = await runTestPipeline({
      job: 'clara',
      name: '{job}_{timestamp}.sql{ext}',
      source: sourceFrom([dump]),
      transforms: [{ plugin: age, options: { identities: identity } }],
      now: new Date('2026-02-01T03:00:00Z'),
      debug: true,
    });
    expect(run.result.status).toBe('succeeded');
    expect(run.objects.map((object) => object.key)).toEqual(['clara_20260201_030000.sql.age']);
    expect((await run.restore()).equals(dump)).toBe(true);
    expect(run.logs).toContainEqual(expect.stringContaining('age: encrypting to 1 recipient(s)'));
    expect(run.redact(`key ${identity}`)).toBe('key ***');
  });

  it('honours backpressure: a slow sink keeps the source a few chunks ahead', async () => {
    const CHUNK = 64 * 1024;
    let produced = 0;
    let lead = 0;
    const sink = slowSink(createMemoryStore(), { bytesPerSecond: 40e6 });
    const source = sourceFrom(
      (async function* () {
        while (produced < 16 * 1024 * 1024) {
          lead = Math.max(lead, produced - sink.consumed);
          produced += CHUNK;
          yield randomBytes(CHUNK);
        }
      })(),
    );
    const run = await runTestPipeline({ source, transforms: [{ plugin: age, options: { recipients: [recipient] } }], sink });
    expect(run.result.status).toBe('succeeded');
    expect(lead).toBeLessThan(2 * 1024 * 1024);
  });

  it('keeps memory flat: 200 MiB through encrypt and decrypt grows RSS by far less than the stream', async () => {
    const transform = await ageTransform({ recipients: [recipient], identities: [identity] });
    const TOTAL = 200 * 1024 * 1024;
    const chunk = randomBytes(256 * 1024);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const report = await transformRoundTrip(
      transform,
      (async function* () {
        for (let sent = 0; sent < TOTAL; sent += chunk.length) {
          if (sent % (4 * 1024 * 1024) === 0) peak = Math.max(peak, process.memoryUsage().rss);
          yield chunk;
        }
      })(),
      { keepEncoded: false },
    );
    expect(report.inputBytes).toBe(TOTAL);
    // 64 KiB age chunks + 16 bytes of tag each, plus the header.
    expect(report.encodedBytes).toBeGreaterThan(TOTAL + (TOTAL / 65_536) * 16);
    expect(peak - baseline).toBeLessThan(96 * 1024 * 1024);
  }, 60_000);
});
