// Network failures, a server still starting or too busy: worth waiting for.
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR', // 1040: too many connections
  'ER_SERVER_SHUTDOWN', // 1053: shutting down (a restart)
]);

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  errors?: unknown;
}

/** The error itself, or the first inner error of an AggregateError (Node's happy-eyeballs connect). */
function primary(error: unknown): ErrorLike {
  const record = (error ?? {}) as ErrorLike;
  if (Array.isArray(record.errors) && record.errors.length > 0 && typeof record.code !== 'string') return record.errors[0] as ErrorLike;
  return record;
}

/** The driver's or Node's code (`ER_ACCESS_DENIED_ERROR`, `ECONNREFUSED`). */
export function codeOf(error: unknown): string | undefined {
  const code = (error as ErrorLike | undefined)?.code ?? primary(error).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for failures that another connection attempt may cure: the network, or a server starting or busy. */
export function isRetryableConnectError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** A few words for the retry log line: `connect ECONNREFUSED`, or the server's message. */
export function summarizeConnectError(error: unknown): string {
  const inner = primary(error);
  if (typeof inner.syscall === 'string' && typeof inner.code === 'string') return `${inner.syscall} ${inner.code}`;
  return describeConnectError(error);
}

/** The whole reason: the server's message with its error number, or every network error. */
export function describeConnectError(error: unknown): string {
  const record = (error ?? {}) as ErrorLike;
  if (Array.isArray(record.errors) && record.errors.length > 0 && !record.message) {
    return record.errors.map((inner) => describeConnectError(inner)).join('; ');
  }
  const message = typeof record.message === 'string' && record.message !== '' ? record.message : String(error);
  return typeof record.errno === 'number' && record.errno > 999 && !message.includes(String(record.errno)) ? `${message} (${record.errno})` : message;
}

/** One sentence telling the user what to do about a connection failure. */
export function connectErrorHint(error: unknown): string {
  switch (codeOf(error)) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return 'check the user name and password in the URL (and that the account may connect from this host)';
    case 'ER_BAD_DB_ERROR':
      return 'create the database, or fix its name in the URL';
    case 'ER_DBACCESS_DENIED_ERROR':
      return 'the database does not exist, or the account has no privilege on it: GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON db.* TO the account';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'check the host name in the URL';
  }
  if (isRetryableConnectError(error)) {
    return 'check that the database server is running and reachable, or raise retryAttempts / retryDelaySeconds';
  }
  return 'check the connection URL and that the server accepts connections';
}
