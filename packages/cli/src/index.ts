/**
 * backupctl: the CLI. Its library entry holds what the commands render
 * (backup lists, restore steps, plugin lists) and the host the CLI gives
 * the core (the official plugins, the default pipeline); the health server
 * is `backupctl/server`. Pipelines, backup and restore are @backupctl/core.
 */
export { builtinPlugins } from './builtins.js';
export { cliHost, cliVersion, defaultPipelinePath } from './host.js';
export { backupListItems, formatBackupList, NO_BACKUPS, type BackupListItem } from './render/format-backup-list.js';
export { formatRestoreHelp, formatWholeServerRestoreHelp, type RestoreHelpOptions } from './render/restore-help.js';
export { formatOptionsTable, formatPluginList, pluginsAreUsable } from './render/format-plugin-list.js';
