/**
 * Helpers for testing plugins, exported as `@backupctl/plugin-api/testing`.
 * Runner-agnostic: they throw on failure, so they work under vitest, node:test or jest.
 */
export { createMemoryStore, type MemoryStore } from './memory-store.js';
export { storeContract, type ContractCase, type StoreContractOptions } from './store-contract.js';
export { sourceFrom } from './sources.js';
export {
  streamThrough,
  transformContract,
  transformRoundTrip,
  type RoundTripReport,
  type TestInput,
  type TransformContractCase,
} from './transform-round-trip.js';
export { runTestPipeline, type JobResult, type PluginStep, type TestPipeline, type TestPipelineRun, type TestStage } from './run-test-pipeline.js';
export { slowSink, type SlowSink, type SlowSinkOptions } from './slow-sink.js';
export { createTestInstance, createTestNotifier, type TestInstance, type TestNotifier } from './create-test-instance.js';
export { testContext, type LogEntry, type TestContext, type TestContextSetting } from './test-context.js';
export { restoreHelpContext, type RestoreHelpContextSetting } from './restore-help-context.js';
export { sampleNotification } from './sample-notification.js';
export { startHttpReceiver, type HttpReceiver, type ReceivedRequest, type ReceiverAnswer } from './http-receiver.js';
