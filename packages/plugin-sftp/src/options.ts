import { existsSync } from 'node:fs';
import { Type, type Static } from '@backupctl/plugin-api';

// No ssh2 import here: the schema and the option checks load instantly
// (validate, plugins --schema); the SSH library only when a job connects.

/** The `with:` options of the sftp sink. Empty strings mean "unset", for `${VAR:-}` in the pipeline file. */
export const sftpOptionsSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Host name or address of the SFTP server, e.g. `nas.example.lan`.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 22, description: 'SSH port of the server.' }),
    username: Type.String({ minLength: 1, description: 'User to log in as.' }),
    password: Type.String({ default: '', description: 'Password of the user. Set this or `privateKey`. Redacted from all output.' }),
    privateKey: Type.String({
      default: '',
      description:
        'Private key to log in with: the path of a key file (OpenSSH or PEM format), or the key itself (text starting with `-----BEGIN`). Redacted from all output.',
    }),
    passphrase: Type.String({ default: '', description: 'Passphrase of an encrypted `privateKey`. Redacted from all output.' }),
    hostKey: Type.String({
      default: '',
      pattern: `^(SHA256:[A-Za-z0-9+/]{43}=?)?$`,
      description:
        "Fingerprint of the server's host key, as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server: `SHA256:` and 43 characters. " +
        'Any other key is refused, and so is every key while this is empty: the error shows the fingerprint the server offered, to check and copy here.',
    }),
    directory: Type.String({
      default: '',
      description: "Directory on the server the backups go to, absolute or relative to the user's login directory; created when missing. Empty: the login directory.",
    }),
    prefix: Type.String({
      default: '',
      description: 'Sub-path under the directory for this job, e.g. `backups/clara/`. Include the trailing slash.',
    }),
    retryAttempts: Type.Integer({
      minimum: 1,
      default: 3,
      description: 'Connection attempts in all when the server cannot be reached (refused, reset, timed out); failed logins and refused host keys are not retried.',
    }),
    retryDelaySeconds: Type.Number({ minimum: 0, default: 2, description: 'Wait before the second attempt, in seconds; each next wait doubles.' }),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 20, description: 'How long a connection may take to log in before the attempt fails.' }),
  },
  { additionalProperties: false },
);

/** Options of the sftp sink, as `create` receives them (validated, defaults filled). */
export type SftpOptions = Static<typeof sftpOptionsSchema>;

/** Whether `privateKey` holds the key itself rather than a file's path. */
export function isInlineKey(privateKey: string): boolean {
  return privateKey.trimStart().startsWith('-----BEGIN');
}

/** Problems the schema cannot express, as one line (never quoting a secret). */
export function checkSftpOptions(options: SftpOptions): string | undefined {
  if (!options.password && !options.privateKey.trim()) return 'set password or privateKey (the user must log in somehow)';
  if (options.privateKey.trim() && !isInlineKey(options.privateKey) && !existsSync(options.privateKey.trim())) {
    return `privateKey: no key file at ${options.privateKey.trim()} (give a path, or the key itself starting with -----BEGIN)`;
  }
  return undefined;
}

/** `sftp://user@host:port/directory`, as messages and `ls` show the place (no credentials). */
export function describeServer(options: Pick<SftpOptions, 'host' | 'port' | 'username' | 'directory'>): string {
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const directory = options.directory.replace(/\/+$/, '');
  const path = directory === '' ? '' : directory.startsWith('/') ? directory : `/~/${directory}`;
  return `sftp://${options.username}@${host}:${options.port}${path}`;
}
