import path from 'node:path';
import { shellWord, type SinkRestoreHelp } from '@backupctl/plugin-api';

/** restore-help: the object is a file under the directory (resolved as the store resolves it): `cp <directory>/<key> .`. */
export const fileRestoreHelp: SinkRestoreHelp<{ directory: string }> = {
  download({ key }, { options }) {
    return { commands: [`cp ${shellWord(`${path.resolve(options.directory)}/${key}`)} .`] };
  },
};
