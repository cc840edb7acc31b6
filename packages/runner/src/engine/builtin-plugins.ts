import type { PluginDefinition } from '@backupctl/plugin-api';
import respawn from '../hooks/respawn.js';
import retention from '../hooks/retention.js';

type Loader = () => Promise<unknown>;

// The official plugins ship as their own packages, written against
// @backupctl/plugin-api like any third-party plugin; the runner depends on
// them so their short names work out of the box. Loaded lazily: `ls` never
// pays for pg, `validate` never for the AWS SDK until a job uses them.
const official = (load: () => Promise<{ default?: PluginDefinition }>): Loader => async () => (await load()).default;

export const builtinPlugins: Record<string, Loader | undefined> = {
  postgres: official(() => import('@backupctl/plugin-postgres')),
  gzip: official(() => import('@backupctl/plugin-gzip')),
  s3: official(() => import('@backupctl/plugin-s3')),
  file: official(() => import('@backupctl/plugin-file')),
  // Hooks over the store interface; part of the runner, and written against
  // its public API like any third-party hook.
  respawn: async () => respawn,
  retention: async () => retention,
  // Notifications (Slack/Discord-compatible); loaded only by pipelines that use it.
  webhook: async () => (await import('../hooks/webhook.js')).default,
};
