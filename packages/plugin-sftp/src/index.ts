import { definePlugin } from '@backupctl/plugin-api';
import { checkSftpOptions, sftpOptionsSchema } from './options.js';
import { sftpRestoreHelp } from './restore-help.js';
import type * as StoreModule from './store.js';

export { checkSftpOptions, describeServer, sftpOptionsSchema, type SftpOptions } from './options.js';

// The store's code, and the SSH library with it, loads when a sink is
// created, not with the plugin: reading the schema stays instant.
async function loadStore(): Promise<typeof StoreModule> {
  return import('./store.js');
}

/**
 * The sftp sink: streams each backup to a hidden file beside
 * `<directory>/<prefix><name>` on an SFTP server and renames it into place
 * when complete; serves the directory as the job's store.
 */
export default definePlugin({
  name: 'sftp',
  kind: 'sink',
  description: 'Writes backups to an SFTP server (a NAS, a server of your own), atomically renamed into place; lists, reads and deletes them.',
  schema: sftpOptionsSchema,
  checkOptions: checkSftpOptions,
  async create(options, context) {
    for (const secret of [options.password, options.passphrase, options.privateKey.trim()]) context.secrets.add(secret || undefined);
    const { createSftpStore } = await loadStore();
    return createSftpStore(options, { logger: context.logger, addSecret: (secret) => context.secrets.add(secret) });
  },
  // Whole servers: each database's backups under `<prefix><database>/`.
  partOptions: (options, part) => ({ ...options, prefix: `${options.prefix}${part}/` }),
  restoreHelp: sftpRestoreHelp,
});
