import { isProblem, type NotificationEvent } from '@backupctl/plugin-api';

/** What a ping tells the monitor. */
export type PingSignal = 'start' | 'success' | 'fail' | 'log';

/**
 * The signal for each event: a problem is `fail`; `skipped` is `success`
 * (a recent backup exists, so the monitor must not alert); `test` is `log`,
 * which healthchecks.io records without changing the check's state.
 */
export function signalOf(event: NotificationEvent): PingSignal {
  if (event === 'start') return 'start';
  if (event === 'test') return 'log';
  return isProblem(event) ? 'fail' : 'success';
}

/**
 * A suffix as the options give it: a path to append (`/start`), a query to
 * merge (`?status=down`), both (`/fail?x=1`), or nothing.
 */
export const SUFFIX_PATTERN = '^(/[^?#\\s]*)?(\\?[^#\\s]*)?$';

/**
 * The URL one ping goes to: `base` with the suffix's path appended to its
 * path and the suffix's query parameters, then `params`, set in its query
 * (replacing one of the same name, so Uptime Kuma's copied
 * `?status=up&msg=OK&ping=` can be turned into `status=down`).
 */
export function pingUrl(base: string, suffix: string, params: Record<string, string> = {}): string {
  const url = new URL(base);
  const queryAt = suffix.indexOf('?');
  const path = queryAt === -1 ? suffix : suffix.slice(0, queryAt);
  const query = queryAt === -1 ? '' : suffix.slice(queryAt + 1);
  // `https://hc-ping.com/<uuid>/` + `/start` is the same endpoint as without the slash.
  if (path) url.pathname = url.pathname.replace(/\/+$/, '') + path;
  for (const [name, value] of [...new URLSearchParams(query), ...Object.entries(params)]) url.searchParams.set(name, value);
  return url.href;
}
