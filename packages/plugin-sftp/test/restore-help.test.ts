import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const KEY = 'backups/clara/clara_20260201_030000.sql.gz';
const PASSWORD = 'nas-secret-pw';
const PEM = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n';
const HOST_KEY = `SHA256:${'a'.repeat(43)}`;

function download(options: Record<string, unknown>, variables: Record<string, string> = {}) {
  const context = restoreHelpContext(plugin, { host: 'nas.lan', username: 'backup', ...options }, { job: 'clara', variables });
  return plugin.restoreHelp!.download({ key: KEY, file: 'clara_20260201_030000.sql.gz' }, context);
}

describe('sftp restoreHelp', () => {
  it('fetches with sftp from the directory, the password named by its variable only', () => {
    const step = download({ password: PASSWORD, port: 2222, directory: '/volume1/backups/', hostKey: HOST_KEY }, { password: 'SFTP_PASSWORD' });
    expect(step.commands).toEqual([
      `# The server's host key must be ${HOST_KEY} (ssh shows it at the first connection).`,
      '# sftp asks for the password of backup: the value of $SFTP_PASSWORD.',
      `sftp -P 2222 backup@nas.lan:/volume1/backups/${KEY} .`,
    ]);
    expect(step.text).toBe(`Using OpenSSH sftp (or: scp -P 2222 backup@nas.lan:/volume1/backups/${KEY} .)`);
    expect(JSON.stringify(step)).not.toContain(PASSWORD);
  });

  it('a password written in the file is not shown; the key relative to the login directory without a directory', () => {
    const step = download({ password: PASSWORD });
    expect(step.commands).toEqual(['# sftp asks for the password of backup (set in jobs.clara.sink, not shown here).', `sftp backup@nas.lan:${KEY} .`]);
    expect(JSON.stringify(step)).not.toContain(PASSWORD);
  });

  it('an inline private key is named by its variable, never printed', () => {
    const step = download({ privateKey: PEM, passphrase: 'pp-secret' }, { privateKey: 'SFTP_KEY' });
    expect(step.commands[0]).toBe('# Log in with the private key in $SFTP_KEY: write it to a file readable only by you and add -i <that file>.');
    expect(JSON.stringify(step)).not.toMatch(/OPENSSH PRIVATE|b3BlbnNz|pp-secret/);
    expect(download({ privateKey: PEM }).commands[0]).toBe('# Log in with the private key set in jobs.clara.sink (not shown here): write it to a file and add -i <that file>.');
  });

  it('quotes what the shell would split', () => {
    const step = download({ password: PASSWORD, directory: 'my backups' });
    expect(step.commands.at(-1)).toBe(`sftp 'backup@nas.lan:my backups/${KEY}' .`);
  });
});
