import { isBackupctlError, isUserInputError, type BackupctlError, type Secrets } from '@backupctl/plugin-api';

/** Exit codes: 0 all good, 1 a job or an operation failed, 2 bad input or config. */
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** The single place that turns an error into what the user sees and the exit code. */
export function reportError(error: unknown, secrets: Secrets, debug: boolean): { text: string; exitCode: number } {
  const exitCode = exitCodeFor(error);
  // oclif's flag errors end in a second line, "See more help with --help": keep the error to one line.
  const message = (error instanceof Error ? error.message : String(error)).replace(/\n+See more help with --help$/, ' (see --help)');
  const hint = isBackupctlError(error) && error.hint ? ` (${error.hint})` : '';
  let text = `Error: ${message}${hint}`;
  if (debug && error instanceof Error && error.stack) text += `\n${error.stack}${causeStack(error)}`;
  return { text: secrets.redact(text), exitCode };
}

function exitCodeFor(error: unknown): number {
  if (isBackupctlError(error)) return isUserInputError(error.code) ? EXIT_BAD_INPUT : EXIT_FAILED;
  // oclif's flag and argument parsing errors carry their own exit code (2).
  const oclifExit = (error as { oclif?: { exit?: number } } | undefined)?.oclif?.exit;
  return typeof oclifExit === 'number' ? oclifExit : EXIT_FAILED;
}

function causeStack(error: Error): string {
  const cause = (error as BackupctlError).cause;
  return cause instanceof Error && cause.stack ? `\nCaused by: ${cause.stack}` : '';
}
