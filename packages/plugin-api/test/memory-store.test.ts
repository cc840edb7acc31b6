import { describe, it } from 'vitest';
import { createMemoryStore, storeContract } from '@backupctl/plugin-api/testing';

describe('memory store passes the store contract', () => {
  // manyKeys: more keys than S3 lists in a page or deletes in a batch (1000).
  for (const check of storeContract({ manyKeys: 1100 })) it(check.name, () => check.run(createMemoryStore({ prefix: 'backups/x/' })));
});
