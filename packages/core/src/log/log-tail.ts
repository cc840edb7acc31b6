import type { Logger } from '@backupctl/plugin-api';

/**
 * Keeps the last lines a logger was given (level and message, as the text
 * format writes them), so a failure notification can carry what led to it
 * (a dead-man monitor shows the body of its `fail` ping). Debug lines are
 * left out: they are for whoever runs with --debug.
 */
export function recordTail(logger: Logger, size = 20): { logger: Logger; lines(): string[] } {
  const kept: string[] = [];
  const keep = (level: string, message: string) => {
    kept.push(`${level}: ${message}`);
    if (kept.length > size) kept.shift();
  };
  return {
    logger: {
      debug: (message, fields) => logger.debug(message, fields),
      info: (message, fields) => {
        keep('INFO', message);
        logger.info(message, fields);
      },
      warn: (message, fields) => {
        keep('WARN', message);
        logger.warn(message, fields);
      },
      error: (message, fields) => {
        keep('ERROR', message);
        logger.error(message, fields);
      },
    },
    lines: () => [...kept],
  };
}
