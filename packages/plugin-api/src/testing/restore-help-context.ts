import type { PluginDefinition, PluginKind, RestoreHelpContext } from '../plugin.js';
import { checkedOptions } from './create-test-instance.js';

/** How the step is written in the pipeline file, for {@link restoreHelpContext}. */
export interface RestoreHelpContextSetting {
  /** Default `test-job`. */
  job?: string;
  /** Set to describe a part of a whole-server job named so. */
  partOf?: string;
  /** Default: the plugin's name. */
  use?: string;
  /** Default `jobs.<job>.<kind>`. */
  path?: string;
  /** The options written as `${NAME}` in the file, by option: `{ url: 'DATABASE_URL' }`. */
  variables?: Readonly<Record<string, string>>;
}

/**
 * The context restore-help gives a plugin's `restoreHelp`, for its tests:
 * options validated against its schema with defaults filled in (throws
 * CONFIG_INVALID as createTestInstance does), and `variable()` answering
 * from `setting.variables`.
 *
 *   const step = s3.restoreHelp!.download({ key, file }, restoreHelpContext(s3, { bucket: 'b' }, { variables: { accessKeyId: 'S3_ACCESS_KEY' } }));
 */
export function restoreHelpContext<O>(
  plugin: PluginDefinition<PluginKind, O>,
  options: Record<string, unknown> = {},
  setting: RestoreHelpContextSetting = {},
): RestoreHelpContext<O> {
  const use = setting.use ?? plugin.name;
  const job = setting.job ?? 'test-job';
  return {
    options: checkedOptions(plugin as PluginDefinition<PluginKind, unknown>, options, use) as O,
    job,
    partOf: setting.partOf,
    use,
    path: setting.path ?? `jobs.${setting.partOf ?? job}.${plugin.kind}`,
    variable: (option) => setting.variables?.[option],
  };
}
