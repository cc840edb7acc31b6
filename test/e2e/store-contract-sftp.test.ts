import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import type { SinkInstance } from '@backupctl/plugin-api';
import { createTestInstance, storeContract } from '@backupctl/plugin-api/testing';
import plugin from '../../packages/plugin-sftp/src/index.js';
import { uniqueName } from '../harness/index.js';
import { sshdUnavailable, startSshd, type SshdServer } from '../harness/sshd.js';

// The sftp store passes the store contract against a real OpenSSH sshd
// (internal-sftp, posix-rename@openssh.com), made the way the runner makes
// it: options checked against the plugin's schema, defaults filled in. Each
// case gets a directory of its own under the test user's home, which the
// store creates. Alternately password and key logins.

const unavailable = sshdUnavailable();
let sshd: SshdServer | undefined;
const open: SinkInstance[] = [];
let count = 0;
/** This file's directory under the user's home, removed afterwards. */
const base = uniqueName('contract');

beforeAll(async () => {
  if (!unavailable) sshd = await startSshd();
});
afterAll(async () => {
  if (sshd) await rm(path.join(sshd.home, base), { recursive: true, force: true });
  await sshd?.stop();
});
afterEach(async () => {
  for (const store of open.splice(0)) await store.close?.();
});

async function freshStore(): Promise<SinkInstance> {
  const server = sshd!;
  const login = count++ % 2 === 0 ? { password: server.password } : { privateKey: server.clientKeyFile };
  const { instance } = await createTestInstance(plugin, {
    host: server.host,
    port: server.port,
    username: server.user,
    ...login,
    hostKey: server.hostKeyFingerprint,
    directory: `${base}/${uniqueName('store')}`,
    prefix: 'backups/clara/',
  });
  open.push(instance);
  return instance;
}

describe.skipIf(unavailable !== undefined)(`sftp store passes the store contract (OpenSSH sshd)${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
  for (const check of storeContract()) it(check.name, async () => check.run(await freshStore()));
});
