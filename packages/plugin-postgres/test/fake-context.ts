import type { LogFields, Logger, PluginContext } from '@backupctl/plugin-api';

/** One line a fake logger received. */
export interface LoggedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields?: LogFields;
}

/** A logger that keeps what it is told, for assertions. */
export function recordingLogger(): Logger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const log = (level: LoggedLine['level']) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A PluginContext for calling `create` directly, recording logs and registered secrets. */
export function fakeContext(signal: AbortSignal = new AbortController().signal) {
  const logger = recordingLogger();
  const secrets: string[] = [];
  const context: PluginContext = {
    job: 'test',
    use: 'postgres',
    logger,
    signal,
    artifact: { extension: '', contentType: 'application/octet-stream' },
    secrets: { add: (secret) => void (secret ? secrets.push(secret) : undefined) },
  };
  return { context, logger, secrets };
}
