import { definePlugin } from '@backupctl/plugin-api';
import { resolveS3Options, s3OptionsSchema } from './options.js';
import { s3RestoreHelp } from './restore-help.js';
import type * as SinkModule from './sink.js';

export { resolveS3Options, s3OptionsSchema, type ResolvedS3Options, type S3Options } from './options.js';

// The sink's code loads when a sink is created, and the AWS SDK at its first
// request (sdk.ts), not with the plugin: reading the schema (validate,
// plugins --schema) stays instant.
async function loadSink(): Promise<typeof SinkModule> {
  return import('./sink.js');
}

/**
 * The s3 sink: streams each backup to `bucket/prefix + name` with a
 * multipart upload that becomes visible only when the stream ended cleanly,
 * and serves the bucket as the job's store (list, get, delete, metadata).
 */
export default definePlugin({
  name: 's3',
  kind: 'sink',
  description: 'Streams backups to S3 or an S3-compatible service (multipart upload); lists, reads and deletes them.',
  schema: s3OptionsSchema,
  async create(options, context) {
    context.secrets.add(options.secretAccessKey || undefined);
    context.secrets.add(options.sessionToken || undefined);
    const resolved = resolveS3Options(options);
    const { createS3Sink } = await loadSink();
    return createS3Sink(resolved, context);
  },
  // Whole servers: each database's backups under `<prefix><database>/`.
  partOptions: (options, part) => ({ ...options, prefix: `${options.prefix}${part}/` }),
  // The parts in flight and the one filling (part-writer.ts); parts grown for a large database stay within it or 3 parts.
  bufferBytes: (options) => options.partSizeMiB * (options.queueSize + 1) * 1024 * 1024,
  restoreHelp: s3RestoreHelp,
});
