import { definePlugin } from '@backupctl/plugin-api';
import { azureOptionsSchema, connectionStringSecrets, resolveAzureOptions } from './options.js';
import { azureRestoreHelp } from './restore-help.js';
import type * as SinkModule from './sink.js';

export { azureOptionsSchema, resolveAzureOptions, type AzureOptions, type ResolvedAzureOptions } from './options.js';

// The sink's code loads when a sink is created, and the Azure SDK at its
// first request (sdk.ts), not with the plugin: reading the schema (validate,
// plugins --schema) stays instant.
async function loadSink(): Promise<typeof SinkModule> {
  return import('./sink.js');
}

/**
 * The azure sink: streams each backup to `container/prefix + name` as a
 * block blob whose block list is committed only when the stream ended
 * cleanly, and serves the container as the job's store (list, get, delete,
 * metadata).
 */
export default definePlugin({
  name: 'azure',
  kind: 'sink',
  description: 'Streams backups to Azure Blob Storage (block blobs committed at the end); lists, reads and deletes them.',
  schema: azureOptionsSchema,
  async create(options, context) {
    context.secrets.add(options.accountKey || undefined);
    context.secrets.add(options.sasToken || undefined);
    context.secrets.add(options.sasToken.replace(/^\?/, '') || undefined);
    context.secrets.add(options.connectionString || undefined);
    for (const secret of connectionStringSecrets(options.connectionString)) context.secrets.add(secret);
    const resolved = resolveAzureOptions(options);
    const { createAzureSink } = await loadSink();
    return createAzureSink(resolved, context);
  },
  // Whole servers: each database's backups under `<prefix><database>/`.
  partOptions: (options, part) => ({ ...options, prefix: `${options.prefix}${part}/` }),
  // The blocks in flight and the one filling (block-writer.ts).
  bufferBytes: (options) => options.blockSizeMiB * (options.concurrency + 1) * 1024 * 1024,
  restoreHelp: azureRestoreHelp,
});
