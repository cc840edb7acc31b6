import { defineNotifier, Type, type NotifierOptions } from '@backupctl/plugin-api';
import { defaultLine, pingBody } from './ping-body.js';
import { pingUrl, signalOf, SUFFIX_PATTERN, type PingSignal } from './ping-url.js';

export { BODY_LIMIT_BYTES, capBytes, defaultLine, pingBody } from './ping-body.js';
export { pingUrl, signalOf, type PingSignal } from './ping-url.js';

/** A query parameter's value stays short: URLs past a few kB are refused by some servers. */
export const MAX_PARAM_CHARS = 1000;

const suffix = (fallback: string, what: string) =>
  Type.String({
    pattern: SUFFIX_PATTERN,
    errorMessage: 'must be empty, a /path, a ?query or a /path?query',
    default: fallback,
    description: `Added to \`url\` for ${what}: a path appended to its path, query parameters set in its query (replacing one of the same name), or both.`,
  });

const pingOptions = {
  url: Type.String({
    pattern: '^(https?://[^\\s/?#]+([/?#]\\S*)?)?$',
    errorMessage: 'must be an http(s) URL (or empty)',
    description:
      "The check's ping URL: healthchecks.io's `https://hc-ping.com/<uuid>`, an Uptime Kuma push URL, a Cronitor telemetry URL. " +
      'It holds the check\'s credential: masked in every log line and error. Empty (an unset `${PING_URL:-}`): the notifier does nothing.',
  }),
  method: Type.Union([Type.Literal('POST'), Type.Literal('GET')], {
    default: 'POST',
    description: "POST sends a text body (on failure the run's last log lines, up to healthchecks.io's 100 kB); GET sends none.",
  }),
  startPath: suffix('/start', '`start`, when the run begins (healthchecks.io then alerts if its end does not come within the grace time)'),
  successPath: suffix('', '`success`, `skipped` (a recent backup exists) and, when listed, `verified` and `recovered`'),
  failPath: suffix('/fail', '`failure` and the problems listed in `on` (`copy-failed`, `anomaly`, `verify-failed`, `stale`)'),
  logPath: suffix('/log', "`notify-test` (healthchecks.io's /log records a ping without changing the check's state)"),
  messageParam: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_.-]+$',
      errorMessage: 'must be a query parameter name (letters, digits, _ . -)',
      description: `A query parameter that carries the one line (the \`message:\` or the event's summary, cut at ${MAX_PARAM_CHARS} characters): \`msg\` for Uptime Kuma, \`message\` for Cronitor.`,
    }),
  ),
  runIdParam: Type.String({
    pattern: '^[A-Za-z0-9_.-]*$',
    errorMessage: 'must be empty or a query parameter name (letters, digits, _ . -)',
    default: 'rid',
    description:
      "The query parameter pairing a run's start ping with its end: the run's id (a UUID), sent on each ping of a run " +
      "(healthchecks.io's `rid`, which keeps overlapping runs' durations apart). Empty: none.",
  }),
};

/** The suffix each signal appends to the URL. */
function suffixFor(options: NotifierOptions<typeof pingOptions>, signal: PingSignal): string {
  const paths: Record<PingSignal, string> = { start: options.startPath, success: options.successPath, fail: options.failPath, log: options.logPath };
  return paths[signal];
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** `use: ping`. */
export default defineNotifier({
  name: 'ping',
  description: "Pings a dead-man monitor (healthchecks.io, Uptime Kuma, Cronitor): start, success or fail for each run, which alerts when no success comes.",
  options: pingOptions,
  defaultOn: ['start', 'success', 'failure', 'skipped'],
  enabled: (options) => options.url !== '',
  // The ping URL is the check's credential (its UUID, a ping key, a push token), and so is its path alone.
  secrets: (options) => {
    const url = parseUrl(options.url);
    const path = url ? `${url.pathname}${url.search}` : '';
    return [options.url, path.length > 8 ? path : undefined];
  },
  check: (options) => (parseUrl(options.url) ? undefined : 'url is not a valid URL'),
  target: (options) => parseUrl(options.url)?.origin ?? 'the monitor',
  async send(notification, delivery) {
    const { options, event } = delivery;
    const signal = signalOf(event);
    const line = delivery.message ?? defaultLine(notification);
    const params: Record<string, string> = {};
    // A run's events share its id (healthchecks.io pairs a start with its end by it); outside a run there is none.
    if (options.runIdParam && notification.runId && signal !== 'log') params[options.runIdParam] = notification.runId;
    if (options.messageParam) params[options.messageParam] = line.slice(0, MAX_PARAM_CHARS);
    const url = pingUrl(options.url, suffixFor(options, signal), params);
    await delivery.http(
      url,
      options.method === 'GET'
        ? { method: 'GET' }
        : { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: pingBody(notification, line) },
    );
  },
});
