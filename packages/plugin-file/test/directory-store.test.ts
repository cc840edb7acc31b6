import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { storeContract } from '@backupctl/plugin-api/testing';
import { createDirectoryStore } from '../src/directory-store.js';

const made: string[] = [];
async function freshStore() {
  const root = await mkdtemp(path.join(os.tmpdir(), 'backupctl-file-'));
  made.push(root);
  return createDirectoryStore({ root, prefix: 'backups/clara/' });
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('directory store passes the store contract', () => {
  // manyKeys: more keys than S3 lists in a page or deletes in a batch (1000);
  // 1100 fsynced files take a few seconds on a busy disk.
  for (const check of storeContract({ manyKeys: 1100 })) it(check.name, async () => check.run(await freshStore()), 30_000);
});

describe('directory store', () => {
  it('leaves no temporary file behind after a failed write', async () => {
    const store = await freshStore();
    const failing = new Readable({ read() {} });
    failing.push(Buffer.alloc(1000));
    setTimeout(() => failing.destroy(new Error('boom')), 10);
    await expect(store.write(failing, 'clara_20260201_030000.sql.gz', new AbortController().signal)).rejects.toThrow('boom');
    expect(await readdir(path.join(store.location, 'backups/clara'))).toEqual([]);
  });

  it('refuses keys that point outside its directory', async () => {
    const store = await freshStore();
    await expect(store.get('../../etc/passwd')).rejects.toThrow(/outside/);
  });
});
