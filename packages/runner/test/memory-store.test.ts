import { describe, it } from 'vitest';
import { createMemoryStore, storeContract } from '../src/testing.js';

describe('memory store passes the store contract', () => {
  for (const check of storeContract()) it(check.name, () => check.run(createMemoryStore({ prefix: 'backups/x/' })));
});
