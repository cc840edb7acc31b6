import type { ArtifactInfo, PluginContext } from '../context.js';
import { BackupctlError, ErrorCodes } from '../errors.js';
import type { PluginDefinition, PluginInstances, PluginKind } from '../plugin.js';
import { checkSchema, refuseInvalidSchema } from '../check-schema.js';
import { testContext } from './test-context.js';

/** A plugin instance made as backupctl makes it, with what its context collected. */
export interface TestInstance<K extends PluginKind> {
  instance: PluginInstances[K];
  /** The context `create` received. */
  context: PluginContext;
  /** What `create` set on the shared artifact (extension, content type). */
  artifact: ArtifactInfo;
  /** Log lines the plugin wrote (debug included), secrets masked. */
  logs: string[];
  /** Masks what the plugin registered as secret, as the CLI does. */
  redact(text: string): string;
}

/**
 * Calls a plugin's `create` the way backupctl does: options validated
 * against its schema, defaults filled in and env-style strings coerced
 * ("6" -> 6), with a real logger and secret registry (testContext). Throws
 * a CONFIG_INVALID BackupctlError listing every option problem.
 *
 *   const { instance: gzip, artifact } = await createTestInstance(gzipPlugin, { level: 9 });
 */
export async function createTestInstance<K extends PluginKind>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  plugin: PluginDefinition<K, any>,
  options: Record<string, unknown> = {},
  setting: { job?: string; use?: string; signal?: AbortSignal } = {},
): Promise<TestInstance<K>> {
  const use = setting.use ?? plugin.name;
  const checked = checkedOptions(plugin, options, use);
  const { context, artifact, logs, redact } = testContext({ ...setting, use });
  const instance = (await plugin.create(checked, context)) as PluginInstances[K];
  return { instance, context, artifact, logs, redact };
}

/** A copy of `options` validated against the plugin's schema, defaults filled in; throws CONFIG_INVALID listing every problem. */
export function checkedOptions(plugin: PluginDefinition<PluginKind, unknown>, options: Record<string, unknown>, use: string): Record<string, unknown> {
  // As backupctl does for a plugin it finds on disk: an author's test should fail where the CLI would.
  refuseInvalidSchema(plugin.schema, use, use);
  const copy = structuredClone(options);
  const problems = checkSchema(plugin.schema, copy);
  if (problems.length) {
    const list = problems.map((problem) => `with.${problem.path.join('.')} ${problem.message}`).join('; ');
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `${use} options: ${list}`, { plugin: use });
  }
  return copy;
}
