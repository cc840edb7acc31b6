import type { LogFields, Logger } from '../api/context.js';
import type { Secrets } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LoggerOptions {
  secrets: Secrets;
  /** Where lines go; stderr by default, so stdout stays for command output (ls, --json). */
  write?: (line: string) => void;
  debug?: boolean;
  /** The clock, for tests. */
  now?: () => Date;
}

/** `2026-02-01 03:00:05` in UTC: the reference service's log format. */
export function formatLogTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Lines as the reference service printed them: `2026-02-01 03:00:05 - message`, secrets masked. */
export function createLogger(options: LoggerOptions): Logger & { child(prefix: string): Logger } {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields?: LogFields, prefix = '') => {
    if (level === 'debug' && !options.debug) return;
    const label = level === 'info' ? '' : `${level.toUpperCase()}: `;
    const extra = options.debug && fields ? formatFields(fields) : '';
    // One record, one line: multi-line messages (pg_dump's stderr) are joined so log collectors keep them together.
    const text = `${prefix}${message}`.trim().replace(/\s*\n\s*/g, ' | ');
    write(options.secrets.redact(`${formatLogTime(now())} - ${label}${text}${extra}`));
  };
  const make = (prefix: string): Logger => ({
    debug: (message, fields) => emit('debug', message, fields, prefix),
    info: (message, fields) => emit('info', message, fields, prefix),
    warn: (message, fields) => emit('warn', message, fields, prefix),
    error: (message, fields) => emit('error', message, fields, prefix),
  });
  return { ...make(''), child: make };
}

function formatFields(fields: LogFields): string {
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${String(value)}`);
  return parts.length ? ` (${parts.join(' ')})` : '';
}
