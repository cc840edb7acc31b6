import { BackupctlError, defineNotifier, ErrorCodes, resultOf, Type, type Notification, type NotificationEvent } from '@backupctl/plugin-api';
// A public helper of @backupctl/core (exported from src/index.ts).

/** What the webhook receives. `text` (Slack) and `content` (Discord) hold the same one line. */
export interface WebhookPayload {
  text: string;
  content: string;
  job: string;
  title: string;
  /** `{result}`: started, succeeded, failed, skipped, flagged, stale, recovered or test. */
  result: string;
  /** The event (see docs/notifications.md): start, success, failure, skipped, copy-failed, anomaly, verified, verify-failed, stale, recovered, test. */
  event: NotificationEvent;
  /** When it happened (ISO 8601). */
  at: string;
  key?: string;
  bytes?: number;
  sourceBytes?: number;
  sha256?: string;
  durationSeconds?: number;
  error?: { code: string; message: string; hint?: string };
  /** Why the run was skipped (`skipped`). */
  reason?: string;
  /** The copy that failed (`copy-failed`), and every copy's outcome when the job has several. */
  copy?: string;
  copies?: Notification['copies'];
  /** The anomaly guard's reasons (`anomaly`). */
  reasons?: string[];
  /** Tables that differ after the restore (`verify-failed`). */
  differences?: Notification['differences'];
  tables?: number;
  lastBackupAt?: string;
  staleAfterHours?: number;
}

// Discord refuses content over 2000 characters; Slack truncates far later.
const MAX_TEXT = 1900;

/** The JSON the webhook posts for one notification (`message:` replaces the one line). */
export function webhookPayload(notification: Notification, message?: string): WebhookPayload {
  const text = (message ?? notification.summary).slice(0, MAX_TEXT);
  const { event, job, title, at, key, size, sourceSize, sha256, durationMs, error, reason, copy, copies, reasons, differences, tables, lastBackupAt, staleAfterHours } = notification;
  const present = Object.entries({
    key,
    bytes: size,
    sourceBytes: sourceSize,
    sha256,
    durationSeconds: durationMs === undefined ? undefined : durationMs / 1000,
    error,
    reason,
    copy,
    copies,
    reasons,
    differences: differences?.slice(0, 20),
    tables,
    lastBackupAt,
    staleAfterHours,
  }).filter(([, value]) => value !== undefined);
  return { text, content: text, job, title, result: resultOf(event), event, at, ...Object.fromEntries(present) };
}

/**
 * `use: webhook`: posts a JSON summary of each event it listens for
 * (Slack- and Discord-compatible: `text` and `content` carry the line).
 * An empty URL (an unset variable) turns it off.
 */
export default defineNotifier({
  name: 'webhook',
  description: 'POST a JSON summary (Slack/Discord-compatible) of the events it listens for.',
  options: {
    url: Type.String({
      pattern: '^(https?://.+)?$',
      description: 'Where to POST the JSON summary (a Slack or Discord incoming webhook, or any URL). Empty: the hook does nothing.',
    }),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Extra request headers, e.g. { Authorization: "Bearer ${TOKEN}" }; masked in logs.' }),
    ),
  },
  defaultOn: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
  aliases: { error: ['failure', 'verify-failed', 'copy-failed'], success: ['success', 'verified'] },
  enabled: (options) => options.url !== '',
  // The URL of an incoming webhook is its credential; so may the headers be.
  secrets: (options) => {
    const { pathname, search } = parseUrl(options.url);
    return [options.url, `${pathname}${search}`.length > 8 ? `${pathname}${search}` : undefined, ...Object.values(options.headers ?? {})];
  },
  target: (options) => parseUrl(options.url).origin,
  async send(notification, delivery) {
    const { options } = delivery;
    await delivery.http(options.url, { method: 'POST', headers: options.headers, body: webhookPayload(notification, delivery.message) });
  },
});

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (cause) {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, 'webhook: url is not a valid URL', { plugin: 'webhook', cause });
  }
}
