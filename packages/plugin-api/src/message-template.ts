import { formatSize } from './format-size.js';
import { resultOf, type Notification } from './notification.js';

/** The named fields a notifier's `message:` template may use, as `{job}`. */
export const TEMPLATE_FIELDS = [
  'job',
  'title',
  'event',
  'result',
  'summary',
  'key',
  'size',
  'duration',
  'error',
  'hint',
  'tables',
  'reason',
  'copy',
  'at',
] as const;

export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/**
 * A template is text with `{field}` placeholders and no other braces, so a
 * misspelt field is refused when the pipeline loads instead of being sent
 * as is at 3 a.m.
 */
export const MESSAGE_TEMPLATE_PATTERN = `^(?:[^{}]|\\{(?:${TEMPLATE_FIELDS.join('|')})\\})*$`;

/** What a template field becomes for one notification; empty where the event has no such value. */
export function templateValues(notification: Notification): Record<TemplateField, string> {
  const { error } = notification;
  return {
    job: notification.job,
    title: notification.title,
    event: notification.event,
    result: resultOf(notification.event),
    summary: notification.summary,
    key: notification.key ?? '',
    size: notification.size === undefined ? '' : formatSize(notification.size),
    duration: notification.durationMs === undefined ? '' : formatDuration(notification.durationMs),
    error: error ? error.message : '',
    hint: error?.hint ?? '',
    tables: describeTables(notification),
    reason: notification.reason ?? notification.reasons?.join('; ') ?? '',
    copy: notification.copy ?? '',
    at: notification.at,
  };
}

/** Fills a template's `{field}` placeholders (the pattern above has already refused unknown ones). */
export function renderTemplate(template: string, notification: Notification): string {
  const values = templateValues(notification);
  return template.replace(/\{([a-z]+)\}/g, (whole, field: string) => (field in values ? values[field as TemplateField] : whole));
}

/** `4.2 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The tables that differ after a failed verification (the first ten), else how many tables the backup holds. */
function describeTables(notification: Notification): string {
  const differences = notification.differences ?? [];
  if (differences.length) {
    const shown = differences.slice(0, 10).map(({ table, expected, restored }) => `${table} (${expected ?? 'missing'} → ${restored ?? 'missing'})`);
    return differences.length > 10 ? `${shown.join(', ')} and ${differences.length - 10} more` : shown.join(', ');
  }
  return notification.tables === undefined ? '' : String(notification.tables);
}
