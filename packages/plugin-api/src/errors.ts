/**
 * Errors are data: a stable code, where the error came from, a hint for the
 * user and the original cause. The CLI maps codes to exit codes in one place.
 */
export const ErrorCodes = {
  /** The pipeline file or an option in it is wrong. Exit 2. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** No pipeline file where one was named or searched. Exit 2. */
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  /** A `${VAR}` without a default is not set. Exit 2. */
  ENV_MISSING: 'ENV_MISSING',
  /** `use:` named a plugin that could not be loaded. Exit 2. */
  PLUGIN_NOT_FOUND: 'PLUGIN_NOT_FOUND',
  /** A plugin is of the wrong kind, has no valid definition or a foreign apiVersion. Exit 2. */
  PLUGIN_INVALID: 'PLUGIN_INVALID',
  /** A command-line argument is wrong (unknown job, bad flag value). Exit 2. */
  USAGE: 'USAGE',
  /** The source (e.g. pg_dump) failed. Exit 1. */
  SOURCE_FAILED: 'SOURCE_FAILED',
  /** A transform failed. Exit 1. */
  TRANSFORM_FAILED: 'TRANSFORM_FAILED',
  /** The sink failed to write or commit. Exit 1. */
  SINK_FAILED: 'SINK_FAILED',
  /** A store operation (list, get, delete, metadata) failed. Exit 1. */
  STORE_FAILED: 'STORE_FAILED',
  /** A hook failed. Exit 1. */
  HOOK_FAILED: 'HOOK_FAILED',
  /** No backup matches what was asked (`--key`, `--at`), or the job has none. Exit 1. */
  BACKUP_NOT_FOUND: 'BACKUP_NOT_FOUND',
  /** The stored object is not what was backed up: its SHA-256 or size differs from the record. Exit 1. */
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  /** Restoring into the target failed (psql, pg_restore, creating the database). Exit 1. */
  RESTORE_FAILED: 'RESTORE_FAILED',
  /** The backup restored, but what it holds differs from its manifest (or the live database, with --against-source). Exit 1. */
  VERIFY_FAILED: 'VERIFY_FAILED',
  /** The run was aborted (signal). Exit 1. */
  ABORTED: 'ABORTED',
  /** Anything else. Exit 1. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface BackupctlErrorOptions {
  /** Plugin name (as written in `use:`) the error came from. */
  plugin?: string;
  /** The hook or method that was running: `open`, `write`, `beforeRun`, ... */
  hook?: string;
  /** The job the error belongs to. */
  job?: string;
  /** What the user can do about it, one sentence. */
  hint?: string;
  /** The original error. */
  cause?: unknown;
}

export class BackupctlError extends Error {
  override readonly name = 'BackupctlError';
  readonly code: ErrorCode;
  readonly plugin?: string;
  readonly hook?: string;
  readonly job?: string;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: BackupctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.plugin = options.plugin;
    this.hook = options.hook;
    this.job = options.job;
    this.hint = options.hint;
  }
}

export function isBackupctlError(error: unknown): error is BackupctlError {
  return error instanceof BackupctlError || (error instanceof Error && error.name === 'BackupctlError' && 'code' in error);
}

/** Config and usage problems exit 2; everything that went wrong while running exits 1. */
export function isUserInputError(code: ErrorCode): boolean {
  return (
    code === 'CONFIG_INVALID' ||
    code === 'CONFIG_NOT_FOUND' ||
    code === 'ENV_MISSING' ||
    code === 'PLUGIN_NOT_FOUND' ||
    code === 'PLUGIN_INVALID' ||
    code === 'USAGE'
  );
}
