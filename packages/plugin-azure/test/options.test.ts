import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { isBackupctlError } from '@backupctl/plugin-api';
import {
  azureOptionDefaults,
  azureOptionsSchema,
  connectionStringSecrets,
  describeEndpoint,
  resolveAzureOptions,
  type AzureOptions,
} from '../src/options.js';

const KEY = 'c2VjcmV0LWtleS1vZi10aGUtYWNjb3VudA==';

function options(given: Partial<AzureOptions> = {}): AzureOptions {
  const filled = Value.Default(azureOptionsSchema, { container: 'clara-backups', account: 'clarabackups', ...given }) as AzureOptions;
  expect(Value.Errors(azureOptionsSchema, filled).First()).toBeUndefined();
  return filled;
}

function configErrorOf(given: Partial<AzureOptions>): { message: string; hint?: string } {
  try {
    resolveAzureOptions({ ...options(), ...given });
  } catch (error) {
    if (isBackupctlError(error) && error.code === 'CONFIG_INVALID') return { message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
    throw error;
  }
  throw new Error('resolveAzureOptions accepted the options');
}

describe('schema', () => {
  it('gives every option a description and declares the defaults code relies on', () => {
    for (const [name, property] of Object.entries(azureOptionsSchema.properties)) expect(property.description, name).toMatch(/\w/);
    expect(Value.Default(azureOptionsSchema, { container: 'c' })).toEqual({ container: 'c', ...azureOptionDefaults });
  });

  it('refuses container names Azure refuses, and blocks out of range', () => {
    const valid = options();
    for (const container of ['ab', 'Clara', 'clara_backups', 'clara--backups', '-clara', 'clara-']) {
      expect(Value.Check(azureOptionsSchema, { ...valid, container }), container).toBe(false);
    }
    expect(Value.Check(azureOptionsSchema, { ...valid, blockSizeMiB: 4001 })).toBe(false);
    expect(Value.Check(azureOptionsSchema, { ...valid, blockSizeMiB: 0 })).toBe(false);
    expect(Value.Check(azureOptionsSchema, { ...valid, endpoint: 'blob.core.windows.net' })).toBe(false);
    expect(Value.Check(azureOptionsSchema, { ...valid, accessTier: 'Frozen' })).toBe(false);
  });
});

describe('resolveAzureOptions', () => {
  it('account + key: the public endpoint of the account, sizes in bytes', () => {
    expect(resolveAzureOptions(options({ accountKey: KEY, blockSizeMiB: 16, accessTier: 'Cool' }))).toEqual({
      container: 'clara-backups',
      prefix: '',
      endpoint: 'https://clarabackups.blob.core.windows.net',
      credentials: { kind: 'sharedKey', account: 'clarabackups', accountKey: KEY },
      blockSize: 16 * 1024 * 1024,
      concurrency: 4,
      accessTier: 'Cool',
    });
  });

  it('an endpoint override (Azurite, sovereign clouds) replaces the public one, without its trailing slash', () => {
    const resolved = resolveAzureOptions(options({ accountKey: KEY, endpoint: 'http://127.0.0.1:10000/devstoreaccount1/' }));
    expect(resolved.endpoint).toBe('http://127.0.0.1:10000/devstoreaccount1');
    expect(describeEndpoint(resolved)).toBe('http://127.0.0.1:10000/devstoreaccount1');
  });

  it('a SAS token loses its leading ?; no credential at all means the default Azure credential', () => {
    expect(resolveAzureOptions(options({ sasToken: '?sv=2024&sig=abc' })).credentials).toEqual({ kind: 'sas', sasToken: 'sv=2024&sig=abc' });
    expect(resolveAzureOptions(options()).credentials).toEqual({ kind: 'default' });
  });

  it('a connection string stands alone and names its account in messages', () => {
    const connectionString = `DefaultEndpointsProtocol=https;AccountName=clarabackups;AccountKey=${KEY};EndpointSuffix=core.windows.net`;
    const resolved = resolveAzureOptions(options({ account: '', connectionString }));
    expect(resolved.credentials).toEqual({ kind: 'connectionString', connectionString });
    expect(resolved.endpoint).toBeUndefined();
    expect(describeEndpoint(resolved)).toBe('account clarabackups (connection string)');
    expect(connectionStringSecrets(connectionString)).toEqual([KEY]);
    const azurite = resolveAzureOptions(options({ account: '', connectionString: `AccountName=a;AccountKey=${KEY};BlobEndpoint=http://127.0.0.1:10000/a/;` }));
    expect(describeEndpoint(azurite)).toBe('http://127.0.0.1:10000/a');
    expect(connectionStringSecrets('BlobEndpoint=https://x;SharedAccessSignature=sv=1&sig=2')).toEqual(['sv=1&sig=2']);
  });

  it('refuses ambiguous or incomplete credentials with one line that echoes no value', () => {
    const problems = [
      configErrorOf({ accountKey: KEY, sasToken: 'sv=1&sig=2' }),
      configErrorOf({ connectionString: `AccountName=a;AccountKey=${KEY}` }),
      configErrorOf({ account: '', accountKey: KEY }),
      configErrorOf({ account: '' }),
      configErrorOf({ endpoint: 'https://user:pass@example.com' }),
      configErrorOf({ endpoint: 'https://clarabackups.blob.core.windows.net?sv=1&sig=2' }),
    ];
    expect(problems.map((problem) => problem.message)).toEqual([
      'azure accountKey and sasToken are both set; they are alternatives',
      'azure connectionString is set together with account or endpoint',
      'azure accountKey is set but account is empty',
      'azure needs an account or an endpoint',
      'azure endpoint must not contain credentials or a query string',
      'azure endpoint must not contain credentials or a query string',
    ]);
    expect(JSON.stringify(problems)).not.toMatch(new RegExp(`${KEY.slice(0, 10)}|pass@|sig=2`));
  });
});
