import { describe, expect, it } from 'vitest';
import { Secrets } from '@backupctl/plugin-api';
import { createLogger } from '../src/log/logger.js';

describe('Secrets', () => {
  it('masks registered values, their URL-encoded form, and passwords in any URL', () => {
    const secrets = new Secrets();
    secrets.add('p@ss/word');
    expect(secrets.redact('x p@ss/word y p%40ss%2Fword')).toBe('x *** y ***');
    expect(secrets.redact('postgresql://app:unregistered@db:5432/x')).toBe('postgresql://app:***@db:5432/x');
  });

  it('ignores empty and tiny values', () => {
    const secrets = new Secrets();
    secrets.add('');
    secrets.add(undefined);
    secrets.add('ab');
    expect(secrets.redact('ab cd')).toBe('ab cd');
  });

  it('the logger prints the reference format with secrets masked', () => {
    const secrets = new Secrets();
    secrets.add('hunter22');
    const lines: string[] = [];
    const logger = createLogger({ secrets, write: (line) => lines.push(line), now: () => new Date('2026-02-01T03:00:05Z') });
    logger.info('Clara DB backup complete: clara_20260201_030000.sql.gz (2.5 MB)');
    logger.error('login failed for hunter22');
    logger.debug('hidden unless --debug');
    expect(lines).toEqual([
      '2026-02-01 03:00:05 - Clara DB backup complete: clara_20260201_030000.sql.gz (2.5 MB)',
      '2026-02-01 03:00:05 - ERROR: login failed for ***',
    ]);
  });
});
