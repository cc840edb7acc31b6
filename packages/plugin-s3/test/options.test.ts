import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { s3ClientConfig } from '../src/client.js';
import { describeEndpoint, resolveS3Options, s3OptionDefaults, s3OptionsSchema, type S3Options } from '../src/options.js';

/** Options as the runner hands them to create(): validated, defaults filled from the schema. */
function options(given: Partial<S3Options> = {}): S3Options {
  const filled = Value.Default(s3OptionsSchema, { bucket: 'clara-backups', ...given }) as S3Options;
  expect(Value.Errors(s3OptionsSchema, filled).First()).toBeUndefined();
  return filled;
}

/** The error resolveS3Options throws; the options skip schema validation, as create() must not rely on it. */
function configErrorOf(given: Partial<S3Options>): unknown {
  try {
    resolveS3Options({ ...options(), ...given });
  } catch (error) {
    return error;
  }
  throw new Error('resolveS3Options accepted the options');
}

describe('schema', () => {
  it('gives every option a description', () => {
    for (const [name, property] of Object.entries(s3OptionsSchema.properties)) {
      expect(property.description, name).toMatch(/\w/);
    }
  });

  it('declares the same defaults as s3OptionDefaults, which code relies on', () => {
    const fromSchema = Value.Default(s3OptionsSchema, { bucket: 'b' });
    expect(fromSchema).toEqual({ bucket: 'b', ...s3OptionDefaults });
  });

  it('refuses what is wrong before anything runs', () => {
    const valid = options();
    expect(Value.Check(s3OptionsSchema, { ...valid, bucket: '' })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, endpoint: 'ftp://files.example.com' })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, endpoint: 's3.wasabisys.com' })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, partSizeMiB: 4 })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, queueSize: 0 })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, forcePathStyle: 'yes' })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, checksums: 'always' })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, acl: 'public-read' })).toBe(false);
    expect(Value.Check(s3OptionsSchema, { ...valid, endpoint: 'https://s3.wasabisys.com', forcePathStyle: false })).toBe(true);
  });
});

describe('schema: keys in pairs', () => {
  it('refuses one key without the other when the file loads, naming the missing one and never the value', async () => {
    const { checkSchema } = await import('@backupctl/plugin-api');
    expect(checkSchema(s3OptionsSchema, { bucket: 'b', accessKeyId: 'AKID', secretAccessKey: ' ' })).toEqual([
      { path: ['secretAccessKey'], message: 'must be set when accessKeyId is (both keys or neither)' },
    ]);
    expect(checkSchema(s3OptionsSchema, { bucket: 'b', secretAccessKey: 'pair-Secret-1' })).toEqual([
      { path: ['accessKeyId'], message: 'must be set when secretAccessKey is (both keys or neither)' },
    ]);
    expect(checkSchema(s3OptionsSchema, { bucket: 'b' })).toEqual([]);
    expect(checkSchema(s3OptionsSchema, { bucket: 'b', accessKeyId: 'AKID', secretAccessKey: 'x' })).toEqual([]);
  });
});

describe('resolveS3Options', () => {
  it('uses AWS defaults when nothing but the bucket is set', () => {
    const resolved = resolveS3Options(options());
    expect(resolved).toEqual({
      bucket: 'clara-backups',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
      checksums: 'WHEN_REQUIRED',
    });
    expect(describeEndpoint(resolved)).toBe('AWS S3 (us-east-1)');
  });

  it('treats empty strings from ${VAR:-} as unset', () => {
    const resolved = resolveS3Options(
      options({ endpoint: '', region: '', accessKeyId: '', secretAccessKey: '', sessionToken: '', storageClass: '' }),
    );
    expect(resolved.endpoint).toBeUndefined();
    expect(resolved.region).toBe('us-east-1');
    expect(resolved.credentials).toBeUndefined();
    expect(resolved.storageClass).toBeUndefined();
  });

  it('turns path-style addressing on for a custom endpoint when left on auto', () => {
    expect(resolveS3Options(options({ endpoint: 'http://127.0.0.1:9000' })).forcePathStyle).toBe(true);
    expect(resolveS3Options(options({ endpoint: '' })).forcePathStyle).toBe(false);
  });

  it('lets an explicit forcePathStyle win over auto', () => {
    expect(resolveS3Options(options({ endpoint: 'https://s3.wasabisys.com', forcePathStyle: false })).forcePathStyle).toBe(false);
    expect(resolveS3Options(options({ forcePathStyle: true })).forcePathStyle).toBe(true);
  });

  it('takes a pair of keys, and a session token with them', () => {
    const resolved = resolveS3Options(options({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }));
    expect(resolved.credentials).toEqual({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
    expect(s3ClientConfig(resolved).credentials).toEqual(resolved.credentials);
  });

  it('refuses an access key without its secret, naming the missing one', () => {
    const error = configErrorOf({ accessKeyId: 'AKIAEXAMPLE' });
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', plugin: 's3', message: expect.stringContaining('secretAccessKey is empty') });
    expect(String((error as Error).message)).not.toContain('AKIAEXAMPLE');
  });

  it('refuses a secret without its access key, without echoing the secret', () => {
    const error = configErrorOf({ secretAccessKey: 'very-secret-value' });
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('accessKeyId is empty') });
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain('very-secret-value');
  });

  it('refuses an endpoint that is not an http(s) URL', () => {
    // The schema's pattern catches most of these first; create() checks again
    // because a runner may be configured to skip validation.
    expect(configErrorOf({ endpoint: 's3.wasabisys.com' })).toMatchObject({
      code: 'CONFIG_INVALID',
      message: 's3 endpoint "s3.wasabisys.com" is not an http(s) URL',
    });
    expect(configErrorOf({ endpoint: 'ftp://files.example.com' })).toMatchObject({ message: expect.stringMatching(/not an http\(s\) URL/) });
    expect(configErrorOf({ endpoint: 'https://' })).toMatchObject({ message: expect.stringMatching(/not an http\(s\) URL/) });
  });

  it('refuses credentials inside the endpoint URL without echoing them', () => {
    const error = configErrorOf({ endpoint: 'https://key:hunter2@s3.example.com' });
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: 's3 endpoint must not contain credentials' });
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('converts part size to bytes and maps the checksum mode to the SDK setting', () => {
    const resolved = resolveS3Options(options({ partSizeMiB: 16, queueSize: 2, checksums: 'when_supported', storageClass: 'STANDARD_IA' }));
    expect(resolved).toMatchObject({ partSize: 16 * 1024 * 1024, queueSize: 2, checksums: 'WHEN_SUPPORTED', storageClass: 'STANDARD_IA' });
    expect(s3ClientConfig(resolved)).toMatchObject({
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
    });
  });

  it('builds a client config for a custom endpoint', () => {
    const resolved = resolveS3Options(options({ endpoint: 'https://s3.wasabisys.com', region: 'eu-central-1' }));
    expect(describeEndpoint(resolved)).toBe('https://s3.wasabisys.com');
    expect(s3ClientConfig(resolved)).toEqual({
      endpoint: 'https://s3.wasabisys.com',
      region: 'eu-central-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });
});

// The settings that differ between providers, as the README's "S3-compatible
// providers" table documents them: what a user writes, and what the SDK gets.
describe('S3-compatible providers', () => {
  const providers: { provider: string; given: Partial<S3Options>; expected: Record<string, unknown> }[] = [
    {
      provider: 'AWS S3 (no endpoint: virtual-hosted-style, region signs and routes)',
      given: { region: 'eu-west-1' },
      expected: { region: 'eu-west-1', forcePathStyle: false },
    },
    {
      provider: 'Wasabi (regional endpoint, path-style on auto)',
      given: { endpoint: 'https://s3.eu-central-1.wasabisys.com', region: 'eu-central-1' },
      expected: { endpoint: 'https://s3.eu-central-1.wasabisys.com', region: 'eu-central-1', forcePathStyle: true },
    },
    {
      provider: 'MinIO (plain http on a port, path-style, any region)',
      given: { endpoint: 'http://minio:9000' },
      expected: { endpoint: 'http://minio:9000', region: 'us-east-1', forcePathStyle: true },
    },
    {
      provider: 'Cloudflare R2 (account endpoint, region auto)',
      given: { endpoint: 'https://0123abcd.r2.cloudflarestorage.com', region: 'auto' },
      expected: { endpoint: 'https://0123abcd.r2.cloudflarestorage.com', region: 'auto', forcePathStyle: true },
    },
  ];

  it.each(providers)('$provider', ({ given, expected }) => {
    const config = s3ClientConfig(resolveS3Options(options(given)));
    // Checksums only where an operation requires them, by default, on every provider.
    expect(config).toMatchObject({ ...expected, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    if (!('endpoint' in expected)) expect(config).not.toHaveProperty('endpoint');
  });

  it('keeps the SDK default checksums (when_supported) for AWS when asked', () => {
    expect(s3ClientConfig(resolveS3Options(options({ checksums: 'when_supported' })))).toMatchObject({
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
    });
  });
});
