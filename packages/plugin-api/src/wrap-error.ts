import { BackupctlError, ErrorCodes, isBackupctlError, type ErrorCode } from './errors.js';
import type { PluginKind } from './plugin.js';

/** The code of a failure inside a stage of each kind, as errors from its plugin are stamped. */
export const FAILURE_CODE: Readonly<Record<PluginKind, ErrorCode>> = {
  source: ErrorCodes.SOURCE_FAILED,
  transform: ErrorCodes.TRANSFORM_FAILED,
  sink: ErrorCodes.SINK_FAILED,
  hook: ErrorCodes.HOOK_FAILED,
};

export interface ErrorOrigin {
  code: ErrorCode;
  job: string;
  plugin?: string;
  hook?: string;
}

/**
 * Whatever a plugin throws becomes a BackupctlError that says which job,
 * plugin and hook it came from. A BackupctlError keeps its own code and
 * message; it only gains the context it lacked.
 */
export function wrapError(error: unknown, origin: ErrorOrigin): BackupctlError {
  if (isBackupctlError(error)) {
    if (error.job && error.plugin) return error;
    const wrapped = new BackupctlError(error.code, error.message, {
      job: error.job ?? origin.job,
      plugin: error.plugin ?? origin.plugin,
      hook: error.hook ?? origin.hook,
      hint: error.hint,
      cause: error.cause,
    });
    wrapped.stack = error.stack;
    return wrapped;
  }
  const message = error instanceof Error ? error.message : String(error);
  const where = [origin.plugin, origin.hook].filter(Boolean).join(' ');
  return new BackupctlError(origin.code, where ? `${where}: ${message}` : message, {
    job: origin.job,
    plugin: origin.plugin,
    hook: origin.hook,
    cause: error,
  });
}

/**
 * Calls one stage or hook of a plugin: whatever it throws comes out as a
 * BackupctlError stamped with `origin` (wrapError). The one way backupctl
 * calls into a plugin.
 */
export async function callPlugin<T>(origin: ErrorOrigin, call: () => T | Promise<T>): Promise<Awaited<T>> {
  try {
    return await call();
  } catch (error) {
    throw wrapError(error, origin);
  }
}

export function abortedError(job: string, reason: unknown): BackupctlError {
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the run was cancelled';
  return new BackupctlError(ErrorCodes.ABORTED, `aborted: ${why}`, { job });
}
