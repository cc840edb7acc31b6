import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BackupctlError, ErrorCodes, Type, definePlugin } from '@backupctl/plugin-api';
import { programStream } from './program-stream.js';
import { zstdRestoreHelp } from './restore-help.js';

const run = promisify(execFile);

/**
 * backupctl-plugin-zstd: compresses with the `zstd` program, spawned and
 * streamed through its stdin and stdout. An example of a transform that
 * wraps an external program; the stored object is a standard `.zst` file.
 */
export default definePlugin({
  name: 'zstd',
  kind: 'transform',
  description: 'Compresses the stream with the zstd program; restore decompresses it.',
  schema: Type.Object(
    {
      level: Type.Integer({ minimum: 1, maximum: 19, default: 3, description: 'Compression level, 1 (fastest) to 19 (smallest); 3 is zstd’s default.' }),
      threads: Type.Integer({
        minimum: 0,
        default: 1,
        description: 'Compression threads (zstd -T); 0 = one per core. Decompression is single-threaded.',
      }),
      path: Type.String({ default: 'zstd', description: 'The zstd program: a name looked up in PATH, or a path.' }),
    },
    { additionalProperties: false },
  ),
  create(options, context) {
    context.artifact.extension += '.zst';
    context.artifact.contentType = 'application/zstd';
    const zstd = (direction: 'compress' | 'decompress', args: string[]) =>
      programStream({
        command: options.path,
        args,
        startError: (error) =>
          new BackupctlError(ErrorCodes.TRANSFORM_FAILED, `zstd: cannot start ${options.path} (${error.code ?? error.message})`, {
            plugin: context.use,
            hint: 'install zstd (apt-get install zstd, brew install zstd) or set with: path',
          }),
        exitError: (code, signal, stderr) =>
          new BackupctlError(
            ErrorCodes.TRANSFORM_FAILED,
            `zstd failed to ${direction}: ${signal ? `killed by ${signal}` : `exit code ${String(code)}`}${stderr ? `: ${stderr}` : ''}`,
            { plugin: context.use, hint: direction === 'decompress' ? 'the object is not zstd data, or it is damaged' : undefined },
          ),
      });
    return {
      // -c: to stdout; -q: no progress on stderr, which we keep for errors.
      encode: () => zstd('compress', ['-c', '-q', `-${options.level}`, `-T${options.threads}`]),
      decode: () => zstd('decompress', ['-d', '-c', '-q']),
      async check() {
        try {
          await run(options.path, ['--version'], { timeout: 10_000 });
        } catch (cause) {
          throw new BackupctlError(ErrorCodes.TRANSFORM_FAILED, `zstd: ${options.path} --version failed: ${(cause as Error).message}`, {
            plugin: context.use,
            hint: 'install zstd (apt-get install zstd, brew install zstd) or set with: path',
          });
        }
      },
    };
  },
  restoreHelp: zstdRestoreHelp,
});
