import type { PluginDefinition } from '@backupctl/plugin-api';
import { respawnHook, retentionHook, verifyHook, webhookHook, type BuiltinLoader } from '@backupctl/core';

// The one module that lists the official plugins. They ship as their own
// packages, written against @backupctl/plugin-api like any third-party
// plugin; the CLI depends on them so their short names work out of the box.
// Loaded lazily: `ls` never pays for pg, `validate` never for the AWS SDK
// until a job uses them.
const official = (load: () => Promise<{ default?: PluginDefinition }>): BuiltinLoader => async () => (await load()).default;

export const builtinPlugins: Record<string, BuiltinLoader | undefined> = {
  postgres: official(() => import('@backupctl/plugin-postgres')),
  mysql: official(() => import('@backupctl/plugin-mysql')),
  gzip: official(() => import('@backupctl/plugin-gzip')),
  s3: official(() => import('@backupctl/plugin-s3')),
  file: official(() => import('@backupctl/plugin-file')),
  sftp: official(() => import('@backupctl/plugin-sftp')),
  azure: official(() => import('@backupctl/plugin-azure')),
  // Hooks over the store interface, from the core; written against the plugin API like any third-party hook.
  respawn: async () => respawnHook,
  retention: async () => retentionHook,
  // Proven backups: restore each new backup into a scratch database and compare it with its manifest.
  verify: async () => verifyHook,
  // Notifiers: a job's notify: list (or a sink's hooks) hears the run's events.
  // Slack/Discord-compatible JSON, from the core; the others in their own packages.
  webhook: async () => webhookHook,
  email: official(() => import('@backupctl/plugin-email')),
  // Chat services, each in its own message format.
  slack: official(() => import('@backupctl/plugin-slack')),
  discord: official(() => import('@backupctl/plugin-discord')),
  teams: official(() => import('@backupctl/plugin-teams')),
  telegram: official(() => import('@backupctl/plugin-telegram')),
  ntfy: official(() => import('@backupctl/plugin-ntfy')),
  // Dead-man pings: healthchecks.io, Uptime Kuma, Cronitor.
  ping: official(() => import('@backupctl/plugin-ping')),
};
