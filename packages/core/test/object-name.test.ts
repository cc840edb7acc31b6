import { describe, expect, it } from 'vitest';
import { checkNameTemplate, formatTimestamp, renderObjectName } from '../src/naming/object-name.js';
import { formatSize } from '@backupctl/plugin-api';

describe('object names', () => {
  const startedAt = new Date('2026-02-01T03:00:05.678Z');

  it('renders the reference key format in UTC', () => {
    expect(formatTimestamp(startedAt)).toBe('20260201_030005');
    expect(renderObjectName('{job}_{timestamp}{ext}', { job: 'clara', startedAt, ext: '.sql.gz' })).toBe('clara_20260201_030005.sql.gz');
  });

  it('rejects templates that would overwrite or escape', () => {
    expect(checkNameTemplate('{job}_{timestamp}{ext}')).toBeUndefined();
    expect(checkNameTemplate('{job}.sql.gz')).toMatch(/must contain \{timestamp\}/);
    expect(checkNameTemplate('{job}_{date}{ext}')).toMatch(/unknown placeholder \{date\}/);
    expect(checkNameTemplate('../{timestamp}')).toMatch(/relative/);
  });
});

describe('formatSize', () => {
  it('prints sizes as the reference does', () => {
    expect(formatSize(Math.round(2.5 * 1024 * 1024))).toBe('2.5 MB');
    expect(formatSize(1.2 * 1024 * 1024)).toBe('1.2 MB');
    expect(formatSize(900)).toBe('900 B');
    expect(formatSize(2048)).toBe('2.0 KB');
    expect(formatSize(3 * 1024 ** 3)).toBe('3.0 GB');
  });
});

describe('parseObjectTimestamp', () => {
  it('reads the UTC time from reference-style keys', async () => {
    const { parseObjectTimestamp } = await import('../src/naming/object-name.js');
    expect(parseObjectTimestamp('backups/clara/clara_20260201_030000.sql.gz', 'clara')?.toISOString()).toBe('2026-02-01T03:00:00.000Z');
    expect(parseObjectTimestamp('backups/mem0/mem0_20260131_235959.dump')?.toISOString()).toBe('2026-01-31T23:59:59.000Z');
    expect(parseObjectTimestamp('backups/clara/clara_20260201_030000.sql.gz', 'mem0')).toBeUndefined();
    expect(parseObjectTimestamp('backups/clara/notes.txt')).toBeUndefined();
    expect(parseObjectTimestamp('backups/clara/clara_20261341_250000.sql.gz')).toBeUndefined();
  });
});
