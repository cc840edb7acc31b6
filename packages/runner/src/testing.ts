/**
 * Helpers for testing plugins, exported as `@backupctl/runner/testing`.
 * Runner-agnostic: they throw on failure, so they work under vitest, node:test or jest.
 */
export { createMemoryStore, type MemoryStore } from './testing/memory-store.js';
export { storeContract, type ContractCase } from './testing/store-contract.js';
export { sourceFrom } from './testing/sources.js';
export {
  streamThrough,
  transformContract,
  transformRoundTrip,
  type RoundTripReport,
  type TestInput,
  type TransformContractCase,
} from './testing/transform-round-trip.js';
export { runTestPipeline, type PluginStep, type TestPipeline, type TestPipelineRun, type TestStage } from './testing/run-test-pipeline.js';
export { slowSink, type SlowSink, type SlowSinkOptions } from './testing/slow-sink.js';
export { createTestInstance, type TestInstance } from './testing/create-test-instance.js';
