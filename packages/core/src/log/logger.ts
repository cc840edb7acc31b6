import type { LogFields, Logger, Secrets } from '@backupctl/plugin-api';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** `text`: the reference service's lines; `json`: one JSON object a line, for log collectors. */
export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  secrets: Secrets;
  /** Where lines go; stderr by default, so stdout stays for command output (ls, --json). */
  write?: (line: string) => void;
  debug?: boolean;
  /** The clock, for tests. */
  now?: () => Date;
  /** `text` (default) or `json`. */
  format?: LogFormat;
}

/** `2026-02-01 03:00:05` in UTC: the reference service's log format. */
export function formatLogTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** A moment as messages name it: `2026-02-01 03:00:05 UTC`. */
export function formatUtcTime(date: Date): string {
  return `${formatLogTime(date)} UTC`;
}

/**
 * A field the text format prints at the head of the line, `[main/crm]`,
 * and JSON leaves out: set on each backup's lines while several run at
 * once (run-pipeline.ts), so interleaved lines stay readable.
 */
export const LINE_TAG = 'lineTag';

/**
 * Lines as the reference service printed them: `2026-02-01 03:00:05 - message`,
 * secrets masked. With `format: 'json'`, one object a line instead:
 * `{"time":"2026-02-01T03:00:05.000Z","level":"info","message":"...","job":"clara","event":"complete",...}`.
 */
export function createLogger(options: LoggerOptions): Logger & { child(prefix: string): Logger } {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields?: LogFields, prefix = '') => {
    if (level === 'debug' && !options.debug) return;
    const { [LINE_TAG]: tag, ...rest } = fields ?? {};
    if (options.format === 'json') {
      write(formatJsonLine(options.secrets, { time: now().toISOString(), level, message: `${prefix}${message}`.trim() }, rest));
      return;
    }
    const label = level === 'info' ? '' : `${level.toUpperCase()}: `;
    const extra = options.debug && fields ? formatFields(rest) : '';
    // One record, one line: multi-line messages (pg_dump's stderr) are joined so log collectors keep them together.
    const text = `${prefix}${message}`.trim().replace(/\s*\n\s*/g, ' | ');
    // Backups running at once: each text line says whose it is (JSON lines have their job and part fields).
    const tagged = typeof tag === 'string' && tag ? `[${tag}] ` : '';
    write(options.secrets.redact(`${formatLogTime(now())} - ${label}${tagged}${text}${extra}`));
  };
  const make = (prefix: string): Logger => ({
    debug: (message, fields) => emit('debug', message, fields, prefix),
    info: (message, fields) => emit('info', message, fields, prefix),
    warn: (message, fields) => emit('warn', message, fields, prefix),
    error: (message, fields) => emit('error', message, fields, prefix),
  });
  return { ...make(''), child: make };
}

/**
 * A logger that adds `fields` to every line it logs (the engine gives each
 * job's logger `{ job }`, so plugins' lines carry it too in JSON logs).
 */
export function withLogFields(logger: Logger, fields: LogFields): Logger {
  return {
    debug: (message, extra) => logger.debug(message, { ...fields, ...extra }),
    info: (message, extra) => logger.info(message, { ...fields, ...extra }),
    warn: (message, extra) => logger.warn(message, { ...fields, ...extra }),
    error: (message, extra) => logger.error(message, { ...fields, ...extra }),
  };
}

// Each string is masked before it is serialised, so a secret holding a
// character JSON escapes is still found; the whole line is masked again in
// case a value carries a URL with a password.
function formatJsonLine(secrets: Secrets, base: { time: string; level: LogLevel; message: string }, fields: LogFields = {}): string {
  const masked: Record<string, string | number | boolean> = {};
  // time, level and message come first and cannot be overwritten by a field.
  for (const [key, value] of [...Object.entries(base), ...Object.entries(fields)]) {
    if (value !== undefined && !(key in masked)) masked[key] = typeof value === 'string' ? secrets.redact(value) : value;
  }
  return secrets.redact(JSON.stringify(masked));
}

function formatFields(fields: LogFields): string {
  const parts = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${String(value)}`);
  return parts.length ? ` (${parts.join(' ')})` : '';
}
