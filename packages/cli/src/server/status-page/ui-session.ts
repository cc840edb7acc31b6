import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The session cookie's name. */
export const SESSION_COOKIE = 'backupctl_session';

/** How long a login lasts. */
export const SESSION_MS = 12 * 3_600_000;

/** Sessions kept at most; past this the oldest is logged out. */
const MAX_SESSIONS = 200;

/**
 * Logins to the status page with UI_TOKEN. The cookie holds a random
 * session id, its expiry and an HMAC of both under a key made at start
 * (never the token, nor anything derived from it): a restart logs everyone
 * out, and nobody can forge or extend a session. Sessions are also kept
 * here, so logging out ends one at once. Each session has a CSRF token,
 * the HMAC of its id, put in every form and checked on every POST.
 */
export class UiSessions {
  private readonly key = randomBytes(32);
  private readonly sessions = new Map<string, number>();

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `given` is the token, in constant time whatever its length (both sides are hashed to 32 bytes first). */
  checkToken(given: string): boolean {
    return timingSafeEqual(this.mac(`token:${given}`), this.mac(`token:${this.token}`));
  }

  /** Starts a session; returns the cookie's value. */
  create(): string {
    const id = randomBytes(24).toString('base64url');
    const expires = this.now() + SESSION_MS;
    this.sessions.set(id, expires);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return `${id}.${expires}.${this.mac(`session:${id}.${expires}`).toString('base64url')}`;
  }

  /** The session id the request's cookie proves, if it is valid, unexpired and not logged out. */
  read(request: IncomingMessage): string | undefined {
    const value = cookie(request, SESSION_COOKIE);
    const match = value && /^([\w-]{32})\.(\d{1,16})\.([\w-]{43})$/.exec(value);
    if (!match) return undefined;
    const [, id, expires, signature] = match as unknown as [string, string, string, string];
    const expected = this.mac(`session:${id}.${expires}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Number(expires) <= this.now() || this.sessions.get(id) !== Number(expires)) {
      this.sessions.delete(id);
      return undefined;
    }
    return id;
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  csrfToken(id: string): string {
    return this.mac(`csrf:${id}`).toString('base64url');
  }

  checkCsrf(id: string, given: string | null): boolean {
    if (!given) return false;
    const expected = this.mac(`csrf:${id}`);
    const received = Buffer.from(given, 'base64url');
    return received.length === expected.length && timingSafeEqual(received, expected);
  }

  private mac(text: string): Buffer {
    return createHmac('sha256', this.key).update(text).digest();
  }
}

/**
 * The Set-Cookie header for a session (or, with no value, one that clears
 * it). HttpOnly and SameSite=Strict always; Secure when the request came
 * over https, which serve learns from a reverse proxy's X-Forwarded-Proto
 * (serve itself speaks plain http): a Secure cookie sent over plain http
 * to anything but localhost would be dropped by the browser, and the
 * login with it.
 */
export function sessionCookie(request: IncomingMessage, value: string | undefined): string {
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', value ? `Max-Age=${SESSION_MS / 1000}` : 'Max-Age=0'];
  if (overHttps(request)) attributes.push('Secure');
  return [`${SESSION_COOKIE}=${value ?? ''}`, ...attributes].join('; ');
}

export function overHttps(request: IncomingMessage): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return proto === 'https' || (request.socket as { encrypted?: boolean }).encrypted === true;
}

/**
 * Whether a POST comes from the page itself: its Origin (every current
 * browser sends one on a POST) names the host the request was sent to; a
 * client that sends none (curl) must not say Sec-Fetch-Site cross-site.
 * Together with SameSite=Strict and the CSRF token.
 */
export function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (site && site !== 'same-origin' && site !== 'none') return false;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false; // "null" (a sandboxed frame, a file) or garbage
  }
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
