/**
 * Helpers for testing plugins, exported as `@backupctl/runner/testing`.
 * Runner-agnostic: they throw on failure, so they work under vitest, node:test or jest.
 */
export { createMemoryStore, type MemoryStore } from './testing/memory-store.js';
export { storeContract, type ContractCase } from './testing/store-contract.js';
export { sourceFrom } from './testing/sources.js';
