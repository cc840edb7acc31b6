import { NoPasswordError } from './pg-client.js';

// Network failures and a server that is still starting up: worth waiting for.
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P03', // cannot_connect_now: the database system is starting up
]);

// What `pg` says when the socket closes or its connect timeout fires.
const RETRYABLE_MESSAGES = [
  'Connection terminated unexpectedly',
  'timeout expired',
  'Connection terminated due to connection timeout',
];

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  syscall?: unknown;
  errors?: unknown;
}

/** The error itself, or the first inner error of an AggregateError (Node's happy-eyeballs connect). */
function primary(error: unknown): ErrorLike {
  const record = (error ?? {}) as ErrorLike;
  if (Array.isArray(record.errors) && record.errors.length > 0 && typeof record.code !== 'string') {
    return record.errors[0] as ErrorLike;
  }
  return record;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as ErrorLike | undefined)?.code ?? primary(error).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for failures that another connection attempt may cure: the network, or a server still starting. */
export function isRetryableConnectError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  const message = primary(error).message;
  return typeof message === 'string' && RETRYABLE_MESSAGES.includes(message);
}

/** A few words for the retry log line: `connect ECONNREFUSED`, or the server's message. */
export function summarizeConnectError(error: unknown): string {
  const inner = primary(error);
  if (typeof inner.syscall === 'string' && typeof inner.code === 'string') return `${inner.syscall} ${inner.code}`;
  return describeConnectError(error);
}

/** The whole reason: the server's message with its SQLSTATE, or every network error. */
export function describeConnectError(error: unknown): string {
  const record = (error ?? {}) as ErrorLike;
  if (Array.isArray(record.errors) && record.errors.length > 0 && !record.message) {
    return record.errors.map((inner) => describeConnectError(inner)).join('; ');
  }
  const message = typeof record.message === 'string' && record.message !== '' ? record.message : String(error);
  const code = codeOf(error);
  // SQLSTATEs are five characters; network codes are already in Node's message.
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !message.includes(code) ? `${message} (${code})` : message;
}

/** One sentence telling the user what to do about a connection failure. */
export function connectErrorHint(error: unknown): string {
  if (error instanceof NoPasswordError) return 'put the password in the URL (postgresql://user:password@host:port/database)';
  switch (codeOf(error)) {
    case '28P01':
      return 'check the user name and password in the URL';
    case '3D000':
      return 'create the database, or fix its name in the URL';
    case '28000':
      return 'the server refused this user, host or TLS setting (pg_hba.conf); check the URL and its sslmode';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'check the host name in the URL';
  }
  if (isRetryableConnectError(error)) {
    return 'check that the database server is running and reachable, or raise retryAttempts / retryDelaySeconds';
  }
  const message = primary(error).message;
  if (typeof message === 'string' && /certificate|SSL|TLS/i.test(message)) return 'check sslmode and sslrootcert in the URL';
  return 'check the connection URL and that the server accepts connections';
}
