import { availableParallelism } from 'node:os';
import { constants, createGunzip } from 'node:zlib';
import { Type, definePlugin } from '@backupctl/plugin-api';
import { GatheredGzip } from './gathered-gzip.js';
import { ParallelGzip } from './parallel-gzip.js';
import { gzipRestoreHelp } from './restore-help.js';

export { GatheredGzip, type GatheredGzipOptions } from './gathered-gzip.js';
export { ParallelGzip, type ParallelGzipOptions } from './parallel-gzip.js';

// zlib's default 16 KiB output chunks cost a callback each; 256 KiB chunks
// measured faster on dump-sized input (shared/reference/performance-baseline.md).
const CHUNK_SIZE = 256 * 1024;
/** Threads of Node's pool (libuv): 4 unless UV_THREADPOOL_SIZE says otherwise. */
const THREAD_POOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE) || 4;

export default definePlugin({
  name: 'gzip',
  kind: 'transform',
  description: 'Compresses the stream with gzip (node:zlib, in parallel on several cores); restore decompresses it.',
  schema: Type.Object(
    {
      level: Type.Integer({
        minimum: constants.Z_NO_COMPRESSION,
        maximum: constants.Z_BEST_COMPRESSION,
        default: 6,
        description: 'Compression level, 0 (none) to 9 (smallest). 6 is what `gzip` uses by default.',
      }),
      threads: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 256,
          description:
            'Cores that compress at once. Above 1 the stream is cut into 1 MiB blocks compressed as independent gzip members ' +
            '(one valid .gz that gunzip reads whole, ~0.4% larger). 1: a single zlib stream. ' +
            "Default: the number of cores, up to the size of Node's thread pool (UV_THREADPOOL_SIZE, 4 unless set).",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  create(options, context) {
    context.artifact.extension += '.gz';
    context.artifact.contentType = 'application/gzip';
    const threads = threadsOf(options);
    if (threads > THREAD_POOL_SIZE) {
      context.logger.warn(
        `gzip: threads is ${threads} but Node's thread pool has ${THREAD_POOL_SIZE} threads; set UV_THREADPOOL_SIZE=${threads} to use them all`,
      );
    }
    return {
      encode: () =>
        threads === 1 ? new GatheredGzip({ level: options.level, chunkSize: CHUNK_SIZE }) : new ParallelGzip({ level: options.level, threads }),
      decode: () => createGunzip({ chunkSize: CHUNK_SIZE }),
    };
  },
  // Per thread two 1 MiB blocks in flight (parallel-gzip.ts), each with its output and zlib's state
  // (256 KiB at memLevel 8), and the readable side's one block.
  bufferBytes: (options) => (threadsOf(options) === 1 ? 1 : threadsOf(options) * 2 * 2.25 + 1) * 1024 * 1024,
  restoreHelp: gzipRestoreHelp,
});

function threadsOf(options: { threads?: number }): number {
  return options.threads ?? Math.min(availableParallelism(), THREAD_POOL_SIZE);
}
