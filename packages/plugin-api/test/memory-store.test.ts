import { describe, it } from 'vitest';
import { createMemoryStore, storeContract } from '@backupctl/plugin-api/testing';

describe('memory store passes the store contract', () => {
  for (const check of storeContract()) it(check.name, () => check.run(createMemoryStore({ prefix: 'backups/x/' })));
});
