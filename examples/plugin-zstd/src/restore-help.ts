import { shellWord, type TransformRestoreHelp } from '@backupctl/plugin-api';

/**
 * restore-help: `zstd -d name.zst` leaves `name` (and keeps `name.zst`),
 * with the program the pipeline runs (`with: path`). A file not named
 * `.zst` is decompressed to `name.out`.
 */
export const zstdRestoreHelp: TransformRestoreHelp<{ path: string }> = {
  title: 'Decompress',
  undo(file, { options }) {
    const zstd = shellWord(options.path || 'zstd');
    if (file.endsWith('.zst') && file.length > '.zst'.length) {
      return { commands: [`${zstd} -d ${shellWord(file)}`], file: file.slice(0, -'.zst'.length) };
    }
    return { commands: [`${zstd} -d ${shellWord(file)} -o ${shellWord(`${file}.out`)}`], file: `${file}.out` };
  },
};
