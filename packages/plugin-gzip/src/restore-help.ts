import { shellWord, type TransformRestoreHelp } from '@backupctl/plugin-api';

/**
 * restore-help: `gunzip name.gz` leaves `name`. A file not named `.gz` (a
 * custom name template) is decompressed beside itself, to `name.out`, as
 * gunzip would refuse it.
 */
export const gzipRestoreHelp: TransformRestoreHelp<unknown> = {
  title: 'Decompress',
  undo(file) {
    if (file.endsWith('.gz') && file.length > '.gz'.length) {
      return { commands: [`gunzip ${shellWord(file)}`], file: file.slice(0, -'.gz'.length) };
    }
    return { commands: [`gzip -dc ${shellWord(file)} > ${shellWord(`${file}.out`)}`], file: `${file}.out` };
  },
};
