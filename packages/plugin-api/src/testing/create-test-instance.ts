import type { ArtifactInfo, PluginContext } from '../context.js';
import { BackupctlError, ErrorCodes } from '../errors.js';
import type { Notification } from '../notification.js';
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

/** A notifier made by createTestInstance, with `notify` ready to call. */
export interface TestNotifier extends TestInstance<'hook'> {
  /** The instance's `notify`, bounded as backupctl bounds it (60 s) unless given a signal; rejects when the plugin has no `notify`. */
  notify(notification: Notification, signal?: AbortSignal): Promise<boolean>;
}

/**
 * createTestInstance for a notifier (a hook with `notify`, see defineNotifier):
 *
 *   const { notify, redact } = await createTestNotifier(slack, { webhookUrl: service.url });
 *   expect(await notify(sampleNotification('failure'))).toBe(true);
 */
export async function createTestNotifier(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  plugin: PluginDefinition<'hook', any>,
  options: Record<string, unknown> = {},
  setting: { job?: string; use?: string; signal?: AbortSignal } = {},
): Promise<TestNotifier> {
  const created = await createTestInstance(plugin, options, setting);
  const { instance } = created;
  return {
    ...created,
    async notify(notification, signal = AbortSignal.timeout(60_000)) {
      if (!instance.notify) throw new Error(`${setting.use ?? plugin.name} has no notify: it is no notifier, or its options turned it off`);
      return instance.notify(notification, signal);
    },
  };
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
