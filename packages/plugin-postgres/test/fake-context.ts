import type { Logger } from '@backupctl/plugin-api';
import { testContext, type LogEntry } from '@backupctl/plugin-api/testing';

// The postgres tests' names for the kit's testContext(): `logger.lines` are
// its structured entries, `secrets` what the plugin registered.

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(): Logger & { lines: LogEntry[] } {
  const { context, entries } = testContext({ use: 'postgres' });
  return Object.assign(context.logger, { lines: entries });
}

/** A PluginContext for calling `create` directly, recording logs and registered secrets. */
export function fakeContext(signal: AbortSignal = new AbortController().signal) {
  const { context, entries, registered } = testContext({ use: 'postgres', signal });
  return { context, logger: Object.assign(context.logger, { lines: entries }), secrets: registered };
}
