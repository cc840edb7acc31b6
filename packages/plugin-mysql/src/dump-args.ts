import type { EngineVersion } from './server-version.js';

/**
 * Options the plugin sets itself: where the dump goes, how it connects, and
 * what it holds (one database, without CREATE DATABASE / USE, so it loads
 * into any database). `args` may not set them.
 */
const REFUSED = [
  'result-file', 'r', 'tab', 'T', 'xml', 'X',
  'host', 'h', 'port', 'P', 'user', 'u', 'password', 'p', 'socket', 'S', 'protocol',
  'defaults-file', 'defaults-extra-file', 'no-defaults', 'login-path',
  'databases', 'B', 'all-databases', 'A', 'system',
];

/** The option an argument sets (`--result-file=x` -> `result-file`, `-r` -> `r`), or undefined for a value. */
function optionName(arg: string): string | undefined {
  if (arg.startsWith('--')) return arg.slice(2).split('=')[0];
  if (arg.startsWith('-') && arg.length >= 2) return arg[1];
  return undefined;
}

/** Why the extra arguments cannot be used, or undefined. */
export function dumpArgsProblem(args: readonly string[]): string | undefined {
  for (const arg of args) {
    const name = optionName(arg);
    if (name !== undefined && REFUSED.includes(name)) {
      return `args may not set ${arg.split('=')[0]}: the mysql source sets the output, the connection and the database itself`;
    }
    if (name === undefined) return `args may only hold options (--name or --name=value), not ${JSON.stringify(arg)}: the database comes from url`;
  }
  return undefined;
}

/**
 * mariadb-dump / mysqldump's arguments after `--defaults-file` (which must
 * come first): a consistent snapshot without locking InnoDB tables
 * (`--single-transaction`, which turns `--lock-tables` off), rows streamed
 * one at a time (`--quick`), routines, triggers and events, BLOBs as hex
 * (plain ASCII whatever they hold), utf8mb4, no tablespaces (they would
 * need PROCESS, and a restore into another server has other ones), then
 * the user's `args` and the database.
 */
export function buildDumpArgs(database: string, args: readonly string[], tool: EngineVersion | undefined, server: EngineVersion): string[] {
  const own = ['--single-transaction', '--quick', '--routines', '--triggers', '--events', '--hex-blob', '--default-character-set=utf8mb4', '--no-tablespaces'];
  // MySQL's mysqldump would write SET @@GLOBAL.GTID_PURGED, which a restore onto a server using GTIDs refuses.
  if (tool?.flavor === 'MySQL' && server.flavor === 'MySQL') own.push('--set-gtid-purged=OFF');
  return [...own, ...args, '--', database];
}
