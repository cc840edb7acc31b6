import { describe, expect, it } from 'vitest';
import { clipText, fitTexts, notificationFacts, notificationHeadline, type Notification } from '@backupctl/plugin-api';
import { startHttpReceiver } from '@backupctl/plugin-api/testing';

const base = { job: 'clara', title: 'Clara DB', at: '2026-03-01T03:00:07.000Z', summary: 'Clara DB ...' };

describe('notificationHeadline and notificationFacts', () => {
  it('a failure: who, what, how long, then the error and what to do', () => {
    const failure: Notification = {
      ...base,
      event: 'failure',
      durationMs: 1200,
      error: { code: 'SOURCE_FAILED', message: 'pg_dump: database "nope" does not exist', hint: 'check DATABASE_URL' },
      logTail: ['a line'],
    };
    expect(notificationHeadline(failure)).toBe('Clara DB backup failed');
    expect(notificationFacts(failure)).toEqual([
      { label: 'Job', value: 'clara', short: true },
      { label: 'Result', value: 'failed', short: true },
      { label: 'Duration', value: '1.2 s', short: true },
      { label: 'Error', value: 'pg_dump: database "nope" does not exist', short: false },
      { label: 'Hint', value: 'check DATABASE_URL', short: false },
    ]);
  });

  it('a success with its size and key; a failed verification names the differing tables; staleness its last backup', () => {
    const success: Notification = { ...base, event: 'success', key: 'backups/clara/clara_20260301_030007.sql.gz', size: 4_404_019, durationMs: 65_000, tables: 12 };
    expect(notificationFacts(success).map(({ label, value }) => `${label}: ${value}`)).toEqual([
      'Job: clara',
      'Result: succeeded',
      'Size: 4.2 MB',
      'Duration: 1 min 5 s',
      'Tables: 12',
      'Key: backups/clara/clara_20260301_030007.sql.gz',
    ]);
    const verifyFailed: Notification = { ...base, event: 'verify-failed', differences: [{ table: 'users', expected: 3, restored: 2 }], tables: 12 };
    expect(notificationHeadline(verifyFailed)).toBe('Clara DB verification failed');
    expect(notificationFacts(verifyFailed)).toContainEqual({ label: 'Differing tables', value: 'users (3 → 2)', short: false });
    expect(notificationFacts({ ...base, event: 'stale', staleAfterHours: 26 }).slice(2)).toEqual([
      { label: 'Last backup', value: 'none', short: true },
      { label: 'Stale after', value: '26 h', short: true },
    ]);
    expect(notificationHeadline({ ...base, event: 'test' })).toBe('Clara DB test notification');
  });
});

describe('clipText and fitTexts', () => {
  it('cuts with an ellipsis, never half an emoji', () => {
    expect(clipText('abcdef', 6)).toBe('abcdef');
    expect(clipText('abcdef', 4)).toBe('abc…');
    expect(clipText('ab😀cd', 4)).toBe('ab…');
  });

  it('shortens only the longest texts until the budget holds', () => {
    const fitted = fitTexts(['4 B', 'x'.repeat(100), 'y'.repeat(50), 'ok'], 60);
    expect(fitted[0]).toBe('4 B');
    expect(fitted[3]).toBe('ok');
    expect(fitted.join('').length).toBeLessThanOrEqual(60);
    expect(fitted[1]).toMatch(/^x+…$/);
    expect(fitted[1]!.length).toBe(fitted[2]!.length);
    expect(fitTexts(['a', 'b'], 10)).toEqual(['a', 'b']);
  });
});

describe('startHttpReceiver', () => {
  it('records each request and answers in turn', async () => {
    const receiver = await startHttpReceiver([{ status: 500 }, { status: 200, body: '{"ok":true}' }]);
    try {
      const first = await fetch(`${receiver.url}/a?b=1`, { method: 'POST', body: '{"x":1}', headers: { 'content-type': 'application/json' } });
      const second = await fetch(`${receiver.url}/a`, { method: 'POST', body: 'text' });
      expect([first.status, second.status, await second.text()]).toEqual([500, 200, '{"ok":true}']);
      expect(receiver.requests.map(({ method, path }) => `${method} ${path}`)).toEqual(['POST /a?b=1', 'POST /a']);
      expect(receiver.requests[0]!.json()).toEqual({ x: 1 });
      expect(receiver.requests[0]!.headers['content-type']).toBe('application/json');
    } finally {
      await receiver.close();
    }
  });
});
