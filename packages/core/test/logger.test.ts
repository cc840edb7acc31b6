import { describe, expect, it } from 'vitest';
import { createLogger, withLogFields } from '../src/log/logger.js';
import { Secrets } from '@backupctl/plugin-api';

const at = new Date('2026-02-01T03:00:05Z');

function capture(options: { format?: 'text' | 'json'; debug?: boolean; secrets?: Secrets } = {}) {
  const lines: string[] = [];
  const secrets = options.secrets ?? new Secrets();
  const logger = createLogger({ secrets, write: (line) => lines.push(line), now: () => at, format: options.format, debug: options.debug });
  return { lines, logger };
}

describe('createLogger, format json', () => {
  it('writes one JSON object a line: time (ISO), level, message, then the fields', () => {
    const { lines, logger } = capture({ format: 'json' });
    logger.info('Clara DB backup complete: clara_20260201_030000.sql.gz (2.5 MB)', {
      job: 'clara',
      event: 'complete',
      bytes: 2_621_440,
      durationMs: 5000,
      skipped: undefined,
    });
    logger.warn('multi\nline');
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
    const [complete, warning] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(complete).toEqual({
      time: '2026-02-01T03:00:05.000Z',
      level: 'info',
      message: 'Clara DB backup complete: clara_20260201_030000.sql.gz (2.5 MB)',
      job: 'clara',
      event: 'complete',
      bytes: 2_621_440,
      durationMs: 5000,
    });
    expect(Object.keys(complete!).slice(0, 3)).toEqual(['time', 'level', 'message']);
    expect(warning).toMatchObject({ level: 'warn', message: 'multi\nline' });
  });

  it('masks secrets in the message and in every field, also ones JSON would escape', () => {
    const secrets = new Secrets();
    secrets.add('hunter22');
    secrets.add('pa"ss\\word');
    const { lines, logger } = capture({ format: 'json', secrets });
    logger.error('login failed for hunter22 with pa"ss\\word', { url: 'postgresql://app:hunter22@db/x', other: 'postgresql://u:unregistered@h/d' });
    const record = JSON.parse(lines[0]!) as Record<string, string>;
    expect(record.message).toBe('login failed for *** with ***');
    expect(record.url).toBe('postgresql://app:***@db/x');
    expect(record.other).toBe('postgresql://u:***@h/d');
    expect(lines[0]).not.toContain('hunter22');
    expect(lines[0]).not.toContain('ss\\\\word');
  });

  it('time, level and message cannot be replaced by a field; debug lines only with debug', () => {
    const { lines, logger } = capture({ format: 'json' });
    logger.info('real', { message: 'fake', level: 'error' });
    logger.debug('hidden');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([{ time: '2026-02-01T03:00:05.000Z', level: 'info', message: 'real' }]);
  });
});

describe('createLogger, format text', () => {
  it('keeps the reference format and shows fields only with debug', () => {
    const quiet = capture();
    quiet.logger.info('Backup complete', { event: 'run-complete' });
    expect(quiet.lines).toEqual(['2026-02-01 03:00:05 - Backup complete']);
    const debug = capture({ debug: true });
    debug.logger.info('Backup complete', { event: 'run-complete', bytes: 3 });
    expect(debug.lines).toEqual(['2026-02-01 03:00:05 - Backup complete (event=run-complete bytes=3)']);
  });
});

describe('withLogFields', () => {
  it('adds its fields to every line; a line\'s own fields win', () => {
    const { lines, logger } = capture({ format: 'json' });
    const jobLogger = withLogFields(logger, { job: 'clara', event: 'default' });
    jobLogger.info('one');
    jobLogger.error('two', { event: 'failed' });
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ message: 'one', job: 'clara', event: 'default' }),
      expect.objectContaining({ level: 'error', message: 'two', job: 'clara', event: 'failed' }),
    ]);
  });
});
