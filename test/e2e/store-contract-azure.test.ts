import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SinkInstance } from '@backupctl/plugin-api';
import { createTestInstance, storeContract } from '@backupctl/plugin-api/testing';
import plugin from '../../packages/plugin-azure/src/index.js';
import { startAzurite, type Azurite } from '../harness/azurite.js';
import { uniqueName } from '../harness/index.js';

// The azure store passes the store contract against Azurite (the blob
// service, one per test file), made the way the runner makes it: options
// checked against the plugin's schema, defaults filled in. Each case gets a
// container of its own. The many-keys case (1100 blobs, ~14 s) checks that
// delete takes a large batch; the listing is one page there (Azure and
// Azurite answer up to 5000 names a page), the SDK's paging iterator is
// what follows the continuation marker beyond that.

let azurite: Azurite;
const open: SinkInstance[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});
afterEach(async () => {
  for (const store of open.splice(0)) await store.close?.();
});

async function freshStore(): Promise<SinkInstance> {
  const container = uniqueName('store-contract');
  await azurite.createContainer(container);
  const { instance } = await createTestInstance(plugin, {
    container,
    account: azurite.account,
    accountKey: azurite.accountKey,
    endpoint: azurite.endpoint,
    prefix: 'backups/clara/',
  });
  open.push(instance);
  return instance;
}

describe('azure store passes the store contract (Azurite)', () => {
  for (const check of storeContract({ manyKeys: 1100 })) it(check.name, async () => check.run(await freshStore()));

  it('is reached with a connection string as well as with account and key', async () => {
    const container = uniqueName('store-contract');
    await azurite.createContainer(container);
    const { instance } = await createTestInstance(plugin, { container, connectionString: azurite.connectionString });
    open.push(instance);
    await instance.check?.();
    await instance.writeMetadata('last_backup.json', { key: 'k' });
    expect(await instance.readMetadata('last_backup.json')).toEqual({ key: 'k' });
  });

  it('is reached with a SAS token (the leading ? optional), and a read-only one is refused in one line', async () => {
    const container = uniqueName('store-contract');
    await azurite.createContainer(container);
    const sas = (permissions: string): string =>
      generateAccountSASQueryParameters(
        {
          expiresOn: new Date(Date.now() + 3600_000),
          permissions: AccountSASPermissions.parse(permissions),
          resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
          services: AccountSASServices.parse('b').toString(),
        },
        new StorageSharedKeyCredential(azurite.account, azurite.accountKey),
      ).toString();
    const { instance } = await createTestInstance(plugin, { container, endpoint: azurite.endpoint, sasToken: `?${sas('racwdl')}`, prefix: 'p/' });
    open.push(instance);
    await instance.writeMetadata('a.json', [1]);
    expect(await instance.readMetadata('a.json')).toEqual([1]);
    const { instance: readOnly } = await createTestInstance(plugin, { container, endpoint: azurite.endpoint, sasToken: sas('rl'), prefix: 'p/' });
    open.push(readOnly);
    await expect(readOnly.writeMetadata('b.json', [2])).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringMatching(new RegExp(`^access denied to container ${container} at ${azurite.endpoint.replace(/[.]/g, '\\.')} \\(`)),
    });
  });
});
