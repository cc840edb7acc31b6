import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sameOrigin, sessionCookie, UiSessions } from '../src/server/status-page/ui-session.js';

const TOKEN = 'a-token-of-some-length-0123456789';

function request(headers: Record<string, string>): IncomingMessage {
  return { headers, socket: {} } as unknown as IncomingMessage;
}

function withCookie(value: string): IncomingMessage {
  return request({ cookie: `other=1; backupctl_session=${value}` });
}

describe('UiSessions', () => {
  it('takes the token only, whatever the length of what is given', () => {
    const sessions = new UiSessions(TOKEN);
    expect(sessions.checkToken(TOKEN)).toBe(true);
    for (const wrong of ['', 'a', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase()]) expect(sessions.checkToken(wrong)).toBe(false);
  });

  it('a session cookie holds no token, cannot be forged or extended, and ends at logout or expiry', () => {
    let now = 1_000_000;
    const sessions = new UiSessions(TOKEN, () => now);
    const value = sessions.create();
    expect(value).not.toContain(TOKEN);
    const id = sessions.read(withCookie(value));
    expect(id).toBeDefined();
    const [session, expires, mac] = value.split('.') as [string, string, string];
    expect(sessions.read(withCookie(`${session}.${Number(expires) + 1}.${mac}`))).toBeUndefined();
    expect(sessions.read(withCookie(`${session}.${expires}.${'A'.repeat(43)}`))).toBeUndefined();
    // Another process (another key) does not take it.
    expect(new UiSessions(TOKEN, () => now).read(withCookie(value))).toBeUndefined();
    expect(sessions.checkCsrf(id!, sessions.csrfToken(id!))).toBe(true);
    expect(sessions.checkCsrf(id!, null)).toBe(false);
    expect(sessions.checkCsrf(id!, sessions.csrfToken('another'))).toBe(false);
    sessions.end(id!);
    expect(sessions.read(withCookie(value))).toBeUndefined();
    const later = sessions.create();
    now += 12 * 3_600_000;
    expect(sessions.read(withCookie(later))).toBeUndefined();
  });
});

describe('sessionCookie and sameOrigin', () => {
  it('sets HttpOnly and SameSite=Strict always, Secure behind https', () => {
    expect(sessionCookie(request({}), 'v')).toBe('backupctl_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200');
    expect(sessionCookie(request({ 'x-forwarded-proto': 'https, http' }), 'v')).toMatch(/; Secure$/);
    expect(sessionCookie(request({}), undefined)).toBe('backupctl_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });

  it('takes a POST from the page itself or from a client without Origin, not from another site', () => {
    expect(sameOrigin(request({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }))).toBe(true);
    expect(sameOrigin(request({ host: '127.0.0.1:8080' }))).toBe(true);
    expect(sameOrigin(request({ host: '127.0.0.1:8080', origin: 'http://evil.example' }))).toBe(false);
    expect(sameOrigin(request({ host: '127.0.0.1:8080', origin: 'null' }))).toBe(false);
    expect(sameOrigin(request({ host: '127.0.0.1:8080', 'sec-fetch-site': 'cross-site' }))).toBe(false);
  });
});
