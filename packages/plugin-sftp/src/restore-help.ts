import { shellWord, type RestoreHelpCommands, type SinkRestoreHelp } from '@backupctl/plugin-api';
import { isInlineKey, type SftpOptions } from './options.js';

/**
 * restore-help: `sftp -P <port> user@host:<directory>/<key> .` (OpenSSH's
 * sftp fetches a file named on its command line), `scp` as the other way.
 * The password is never printed: sftp asks for it, and a note names the
 * variable holding it. A key file is passed with `-i`; a key given inline
 * is named by its variable only. The host key fingerprint goes in a note, to
 * compare with what ssh shows at the first connection.
 */
export const sftpRestoreHelp: SinkRestoreHelp<SftpOptions> = {
  download({ key }, context) {
    const { options } = context;
    const directory = options.directory.replace(/\/+$/, '');
    const remotePath = directory ? `${directory}/${key}` : key;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const remote = shellWord(`${options.username}@${host}:${remotePath}`);
    const keyFile = options.privateKey.trim();
    const identity = keyFile && !isInlineKey(keyFile) ? ` -i ${shellWord(keyFile)}` : '';
    const notes: string[] = [];
    if (options.hostKey) notes.push(`# The server's host key must be ${options.hostKey} (ssh shows it at the first connection).`);
    if (keyFile && isInlineKey(keyFile)) {
      const variable = context.variable('privateKey');
      notes.push(
        variable
          ? `# Log in with the private key in $${variable}: write it to a file readable only by you and add -i <that file>.`
          : `# Log in with the private key set in ${context.path} (not shown here): write it to a file and add -i <that file>.`,
      );
    } else if (!keyFile && options.password) {
      const variable = context.variable('password');
      notes.push(
        variable ? `# sftp asks for the password of ${options.username}: the value of $${variable}.` : `# sftp asks for the password of ${options.username} (set in ${context.path}, not shown here).`,
      );
    }
    const port = options.port === 22 ? '' : ` -P ${options.port}`;
    const help: RestoreHelpCommands = {
      text: 'Using OpenSSH sftp (or: scp' + port + identity + ` ${remote} .)`,
      commands: [...notes, `sftp${port}${identity} ${remote} .`],
    };
    return help;
  },
};
