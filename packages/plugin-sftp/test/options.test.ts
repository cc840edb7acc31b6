import { testContext } from '@backupctl/plugin-api/testing';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { fingerprint, isRetryable, retryWaitsSeconds } from '../src/connection.js';
import plugin, { checkSftpOptions, describeServer, type SftpOptions } from '../src/index.js';
import { isPartialName, partialPathOf } from '../src/store.js';

function options(given: Record<string, unknown>): SftpOptions {
  return Value.Default(plugin.schema, { host: 'nas.lan', username: 'backup', ...given }) as SftpOptions;
}

describe('sftp options', () => {
  it('needs a password or a private key, and a key path that exists', () => {
    expect(checkSftpOptions(options({}))).toBe('set password or privateKey (the user must log in somehow)');
    expect(checkSftpOptions(options({ password: 'x' }))).toBeUndefined();
    expect(checkSftpOptions(options({ privateKey: '/nonexistent/id_ed25519' }))).toMatch(/^privateKey: no key file at \/nonexistent\/id_ed25519/);
    expect(checkSftpOptions(options({ privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n...' }))).toBeUndefined();
  });

  it('takes a host key fingerprint as ssh-keygen -lf prints it, or none', () => {
    const valid = (hostKey: string) => Value.Check(plugin.schema, options({ password: 'x', hostKey }));
    expect(valid(`SHA256:${'A1+/'.repeat(10)}abc`)).toBe(true);
    expect(valid('')).toBe(true);
    expect(valid('MD5:aa:bb')).toBe(false);
    expect(valid('SHA256:short')).toBe(false);
  });

  it('describes the place without credentials', () => {
    expect(describeServer(options({ directory: '/srv/backups/' }))).toBe('sftp://backup@nas.lan:22/srv/backups');
    expect(describeServer(options({ directory: 'backups', port: 2222 }))).toBe('sftp://backup@nas.lan:2222/~/backups');
    expect(describeServer(options({ host: '::1' }))).toBe('sftp://backup@[::1]:22');
  });

  it('registers the password, passphrase and inline key as secrets', async () => {
    const made = testContext({ job: 'clara', use: 'sftp' });
    const store = await plugin.create(options({ password: 'pw-1', passphrase: 'pp-2', privateKey: '-----BEGIN KEY-----\nabc\n-----END KEY-----' }), made.context);
    expect(made.registered).toEqual(expect.arrayContaining(['pw-1', 'pp-2', '-----BEGIN KEY-----\nabc\n-----END KEY-----']));
    expect(store.location).toBe('sftp://backup@nas.lan:22');
    await store.close?.();
  });
});

describe('sftp connection helpers', () => {
  it('fingerprints a key blob as ssh-keygen does (base64 SHA-256, no padding)', () => {
    expect(fingerprint(Buffer.from('key'))).toBe('SHA256:LHDhK3oGRvkiefQnx7OOczTY5Tic/xZ6HcMOc/gmtoM');
  });

  it('retries network failures only, with doubling waits', () => {
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }))).toBe(false);
    expect(retryWaitsSeconds(4, 2)).toEqual([2, 4, 8]);
  });

  it('names temp files hidden beside their target, and recognises them', () => {
    const temp = partialPathOf('dir/backups/clara_20260201_030000.sql.gz');
    expect(temp).toMatch(/^dir\/backups\/\.clara_20260201_030000\.sql\.gz\.partial-[0-9a-f]{12}$/);
    expect(isPartialName(temp.split('/').at(-1)!)).toBe(true);
    expect(isPartialName('clara_20260201_030000.sql.gz')).toBe(false);
  });
});
