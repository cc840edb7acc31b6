import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';

/** pg_dump's output formats that stream to stdout. */
export type DumpFormat = 'plain' | 'custom';

// pg_dump options backupctl sets itself, or that would make the "backup" something else.
const FORBIDDEN: ReadonlyArray<{ short?: string; long: string; reason: string }> = [
  { short: 'f', long: 'file', reason: 'the dump is streamed to the pipeline, not to a file' },
  { short: 'F', long: 'format', reason: 'use the format option' },
  { short: 'd', long: 'dbname', reason: 'the database comes from the url option' },
  { short: 'h', long: 'host', reason: 'the host comes from the url option' },
  { short: 'p', long: 'port', reason: 'the port comes from the url option' },
  { short: 'U', long: 'username', reason: 'the user comes from the url option' },
  { short: 'W', long: 'password', reason: 'pg_dump never prompts; the password comes from the url option' },
  { short: 'V', long: 'version', reason: 'it would store the version text instead of a dump' },
  { short: '?', long: 'help', reason: 'it would store the help text instead of a dump' },
];

// Options that take a value (pg_dump 15-17), so the next argument is not a positional one.
const SHORT_WITH_VALUE = new Set(['d', 'e', 'E', 'f', 'F', 'h', 'j', 'n', 'N', 'p', 'S', 't', 'T', 'U', 'Z']);
const LONG_WITH_VALUE = [
  'compress',
  'dbname',
  'encoding',
  'exclude-extension',
  'exclude-schema',
  'exclude-table',
  'exclude-table-and-children',
  'exclude-table-data',
  'exclude-table-data-and-children',
  'extension',
  'extra-float-digits',
  'file',
  'filter',
  'format',
  'host',
  'include-foreign-data',
  'jobs',
  'lock-wait-timeout',
  'port',
  'restrict-key',
  'role',
  'rows-per-insert',
  'schema',
  'section',
  'snapshot',
  'superuser',
  'sync-method',
  'table',
  'table-and-children',
  'username',
];

function rejected(index: number, what: string, reason: string): BackupctlError {
  return new BackupctlError(ErrorCodes.CONFIG_INVALID, `args[${index}]: ${what} is not allowed: ${reason}`, {
    hint: 'args are extra pg_dump options such as --no-owner or --exclude-table=PATTERN',
  });
}

/** getopt_long accepts any unambiguous prefix of a long option, so `--fil` is `--file`. */
function forbiddenLong(name: string): (typeof FORBIDDEN)[number] | undefined {
  return FORBIDDEN.find((option) => option.long === name) ?? FORBIDDEN.find((option) => name.length > 0 && option.long.startsWith(name));
}

// An abbreviation that fits a value-taking option: when it also fits another
// option, pg_dump rejects it as ambiguous, so guessing "takes a value" is safe.
function takesValue(name: string): boolean {
  return name.length > 0 && LONG_WITH_VALUE.some((option) => option.startsWith(name));
}

/**
 * Checks the user's extra pg_dump arguments. Refuses anything that would
 * change where the output goes, its format, or the connection (-f, -F, -d,
 * -h, -p, -U, -W, a positional database name), and --version / --help.
 * Values are never echoed: a misplaced connection string may hold a password.
 *
 * @throws BackupctlError CONFIG_INVALID naming the offending argument's index.
 */
export function validateDumpArgs(args: readonly string[]): void {
  let optionsEnded = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (optionsEnded || arg === '-' || !arg.startsWith('-')) {
      throw rejected(index, 'a positional argument', 'pg_dump would take it as the database to dump; the url option names it');
    }
    if (arg === '--') {
      optionsEnded = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = arg.slice(2, equals < 0 ? undefined : equals);
      const forbidden = forbiddenLong(name);
      if (forbidden) throw rejected(index, `--${forbidden.long}`, forbidden.reason);
      if (equals < 0 && takesValue(name)) index++;
      continue;
    }
    for (let position = 1; position < arg.length; position++) {
      const letter = arg[position]!;
      const forbidden = FORBIDDEN.find((option) => option.short === letter);
      if (forbidden) throw rejected(index, `-${letter} (--${forbidden.long})`, forbidden.reason);
      if (SHORT_WITH_VALUE.has(letter)) {
        // The value is the rest of this argument, or the next argument.
        if (position === arg.length - 1) index++;
        break;
      }
    }
  }
}

// The shortest abbreviation getopt_long takes for a long option: a shorter
// one also fits another of pg_dump's options (15 to 18).
const SHORTEST_ABBREVIATION = {
  snapshot: 'sn',
  'serializable-deferrable': 'ser',
} as const;

/** True when `arg` is the long option, written whole or abbreviated as getopt_long takes it. */
function isLongOption(arg: string, option: keyof typeof SHORTEST_ABBREVIATION): { value?: string } | undefined {
  if (!arg.startsWith('--')) return undefined;
  const equals = arg.indexOf('=');
  const name = arg.slice(2, equals < 0 ? undefined : equals);
  if (name.length < SHORTEST_ABBREVIATION[option].length || !option.startsWith(name)) return undefined;
  return equals < 0 ? {} : { value: arg.slice(equals + 1) };
}

/**
 * What the user's args give a long pg_dump option: its value (`--snapshot=ID`
 * or `--snapshot ID`, or an abbreviation such as `--snap=ID`), `''` for one
 * given without a value, undefined when absent. The last one wins, as in pg_dump.
 */
export function dumpOption(args: readonly string[], option: keyof typeof SHORTEST_ABBREVIATION): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const found = isLongOption(args[index]!, option);
    if (found === undefined) continue;
    value = found.value ?? (takesValue(option) ? (args[++index] ?? '') : '');
  }
  return value;
}

/** The args without a long option that takes no value (e.g. --serializable-deferrable), however abbreviated. */
export function withoutDumpOption(args: readonly string[], option: 'serializable-deferrable'): string[] {
  return args.filter((arg) => isLongOption(arg, option) === undefined);
}

/** pg_dump's arguments: never prompt, the format, then the user's (checked) extras. No connection details: they go in the environment. */
export function buildDumpArgs(format: DumpFormat, extra: readonly string[]): string[] {
  validateDumpArgs(extra);
  return ['--no-password', `--format=${format}`, ...extra];
}
