const PLAIN_WORD = /^[\w@%+=:,./-]+$/;

/**
 * A value as one POSIX shell word: as is when it holds nothing the shell
 * reads specially, else single-quoted (`/srv/my backups` -> `'/srv/my backups'`).
 * For the commands of restore-help (RestoreHelpCommands).
 */
export function shellWord(value: string): string {
  return PLAIN_WORD.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
