import path from 'node:path';
import { Type, definePlugin } from '@backupctl/plugin-api';
import { createDirectoryStore } from './directory-store.js';
import { fileRestoreHelp } from './restore-help.js';

export default definePlugin({
  name: 'file',
  kind: 'sink',
  description: 'Writes backups to a local directory (a mounted volume, a NAS); also a store for ls, restore and retention.',
  schema: Type.Object(
    {
      directory: Type.String({ minLength: 1, description: 'Directory the backups go to; created when missing. Relative to the working directory.' }),
      prefix: Type.String({ default: '', description: 'Sub-path under the directory for this job, e.g. backups/clara/.' }),
    },
    { additionalProperties: false },
  ),
  create(options) {
    return createDirectoryStore({ root: path.resolve(options.directory), prefix: options.prefix });
  },
  // Whole servers: each database's backups under `<prefix><database>/`.
  partOptions: (options, part) => ({ ...options, prefix: `${options.prefix}${part}/` }),
  restoreHelp: fileRestoreHelp,
});

export { createDirectoryStore, type DirectoryStoreOptions } from './directory-store.js';
