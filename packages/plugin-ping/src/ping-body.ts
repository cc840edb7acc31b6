import { Buffer } from 'node:buffer';
import { formatDuration, isProblem, type Notification } from '@backupctl/plugin-api';

/**
 * healthchecks.io keeps the first 100 kB (100,000 bytes) of a ping's body
 * and drops the rest: a longer body would lose its newest log lines, the
 * ones that say why the run failed.
 */
export const BODY_LIMIT_BYTES = 100_000;

/**
 * The ping's one line when no `message:` replaces it: the event's summary,
 * and how long a successful run took.
 */
export function defaultLine(notification: Notification): string {
  const { event, summary, durationMs } = notification;
  return event === 'success' && durationMs !== undefined ? `${summary} in ${formatDuration(durationMs)}` : summary;
}

/**
 * The text/plain body of a ping: the line alone, or for a problem the line,
 * the error's code and hint, and the run's last log lines (a failed run's
 * are in `logTail`), the oldest dropped first to stay within `limit` bytes.
 */
export function pingBody(notification: Notification, line: string, limit = BODY_LIMIT_BYTES): string {
  if (!isProblem(notification.event)) return capBytes(line, limit);
  const { error } = notification;
  const head = [line, ...(error ? [`Code: ${error.code}`] : []), ...(error?.hint ? [`Hint: ${error.hint}`] : [])].join('\n');
  const tail = [...(notification.logTail ?? [])];
  const total = tail.length;
  const text = () => {
    if (!total) return head;
    const dropped = total - tail.length;
    const title = dropped ? `Last log lines (${dropped} older left out to stay within ${limit} bytes):` : 'Last log lines:';
    return [head, '', title, ...tail].join('\n');
  };
  while (tail.length && Buffer.byteLength(text()) > limit) tail.shift();
  return capBytes(text(), limit);
}

/** Cuts text to `limit` UTF-8 bytes, never through a character. */
export function capBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  const marker = ' [cut]';
  const kept = Buffer.from(text).subarray(0, Math.max(0, limit - Buffer.byteLength(marker)));
  // A cut through a multi-byte character decodes to U+FFFD at the end: drop it.
  return `${kept.toString('utf8').replace(/\uFFFD$/, '')}${marker}`;
}
