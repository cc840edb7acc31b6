import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConnectionSettings } from './connection-url.js';

/** A client option file holding the connection; `remove` deletes it and its directory. */
export interface OptionFile {
  /** `--defaults-file=<path>`: it must be the tools' first argument. */
  argument: string;
  remove(): Promise<void>;
}

/** An option-file value in double quotes, with `\` and `"` escaped as the client's option parser reads them. */
function quoteValue(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The `[client]` group the tools read: who, where, and the password, which must never reach argv. */
export function optionFileText(settings: ConnectionSettings): string {
  return [
    '[client]',
    `user=${quoteValue(settings.user)}`,
    `password=${quoteValue(settings.password)}`,
    `host=${quoteValue(settings.host)}`,
    `port=${settings.port}`,
    // TCP even for localhost: without it the tools would look for a socket.
    'protocol=TCP',
    '',
  ].join('\n');
}

/**
 * Writes the connection to an option file (0600, in a fresh 0700 directory)
 * for mariadb-dump / mysqldump / mariadb / mysql, which read it through
 * `--defaults-file` and nothing else (no /etc/mysql/my.cnf). The password
 * thus stays out of argv and out of the environment.
 */
export async function writeOptionFile(settings: ConnectionSettings, directory = tmpdir()): Promise<OptionFile> {
  const dir = await mkdtemp(path.join(directory, 'backupctl-mysql-'));
  const file = path.join(dir, 'client.cnf');
  try {
    await writeFile(file, optionFileText(settings), { mode: 0o600 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let removed: Promise<void> | undefined;
  return {
    argument: `--defaults-file=${file}`,
    remove: () => (removed ??= rm(dir, { recursive: true, force: true })),
  };
}
