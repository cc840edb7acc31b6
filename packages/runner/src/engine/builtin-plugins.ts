import type { PluginDefinition } from '../api/plugin.js';
import respawn from '../hooks/respawn.js';
import retention from '../hooks/retention.js';

type Loader = () => Promise<unknown>;

// The official plugins ship as their own packages, written against the
// public API like any third-party plugin; the runner depends on them so
// their short names work out of the box. Loaded lazily: `ls` never pays
// for pg, `validate` never for the AWS SDK until a job uses them. The
// specifier is a variable so the runner's build does not need the plugins'
// types (they are built after the runner, whose API they import).
const official = (name: string): Loader => async () => {
  const module = (await import(name)) as { default?: PluginDefinition };
  return module.default;
};

export const builtinPlugins: Record<string, Loader | undefined> = {
  postgres: official('@backupctl/plugin-postgres'),
  gzip: official('@backupctl/plugin-gzip'),
  s3: official('@backupctl/plugin-s3'),
  file: official('@backupctl/plugin-file'),
  // Hooks over the store interface; part of the runner, and written against
  // its public API like any third-party hook.
  respawn: async () => respawn,
  retention: async () => retention,
  // Notifications (Slack/Discord-compatible); loaded only by pipelines that use it.
  webhook: async () => (await import('../hooks/webhook.js')).default,
};
