import { constants, createGunzip, createGzip } from 'node:zlib';
import { Type, definePlugin } from '@backupctl/runner';

// zlib's default 16 KiB output chunks cost a callback each; 256 KiB chunks
// measured faster on dump-sized input (shared/reference/performance-baseline.md).
const CHUNK_SIZE = 256 * 1024;

export default definePlugin({
  name: 'gzip',
  kind: 'transform',
  description: 'Compresses the stream with gzip (node:zlib); restore decompresses it.',
  schema: Type.Object(
    {
      level: Type.Integer({
        minimum: constants.Z_NO_COMPRESSION,
        maximum: constants.Z_BEST_COMPRESSION,
        default: 6,
        description: 'Compression level, 0 (none) to 9 (smallest). 6 is what `gzip` uses by default.',
      }),
    },
    { additionalProperties: false },
  ),
  create(options, context) {
    context.artifact.extension += '.gz';
    context.artifact.contentType = 'application/gzip';
    return {
      encode: () => createGzip({ level: options.level, chunkSize: CHUNK_SIZE }),
      decode: () => createGunzip({ chunkSize: CHUNK_SIZE }),
    };
  },
});
