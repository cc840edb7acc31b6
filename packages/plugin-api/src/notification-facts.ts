import { templateValues } from './message-template.js';
import type { Notification, NotificationEvent } from './notification.js';

// What a chat card shows for a notification, shared by the notifiers so
// Slack, Discord, Teams and Telegram say the same thing in their own format.

/** One labelled value of a notification. */
export interface NotificationFact {
  label: string;
  value: string;
  /** A short value a channel may set beside another (a size, a duration), as opposed to a sentence (an error). */
  short: boolean;
}

const HEADLINES: Record<NotificationEvent, string> = {
  start: 'backup started',
  success: 'backup succeeded',
  failure: 'backup failed',
  skipped: 'backup skipped',
  'copy-failed': 'copy failed',
  anomaly: 'backup flagged as an anomaly',
  verified: 'backup verified',
  'verify-failed': 'verification failed',
  stale: 'backups are stale',
  recovered: 'backups are fresh again',
  test: 'test notification',
};

/** A title for the notification, shorter than its summary: `Clara DB backup failed`. */
export function notificationHeadline(notification: Notification): string {
  return `${notification.title} ${HEADLINES[notification.event]}`;
}

/**
 * The values of a notification worth showing, labelled, always in the same
 * order (who, what, how much, then why), leaving out those the event lacks.
 */
export function notificationFacts(notification: Notification): NotificationFact[] {
  const values = templateValues(notification);
  const { event, differences, lastBackupAt, staleAfterHours } = notification;
  const staleness = event === 'stale' || event === 'recovered';
  const facts: NotificationFact[] = [
    { label: 'Job', value: values.job, short: true },
    { label: 'Result', value: values.result, short: true },
    { label: 'Size', value: values.size, short: true },
    { label: 'Duration', value: values.duration, short: true },
    { label: 'Copy', value: values.copy, short: true },
    differences?.length
      ? { label: 'Differing tables', value: values.tables, short: false }
      : { label: 'Tables', value: values.tables, short: true },
    { label: 'Last backup', value: lastBackupAt ?? (staleness ? 'none' : ''), short: true },
    { label: 'Stale after', value: staleAfterHours === undefined ? '' : `${staleAfterHours} h`, short: true },
    { label: 'Key', value: values.key, short: false },
    { label: 'Reason', value: values.reason, short: false },
    { label: 'Error', value: values.error, short: false },
    { label: 'Hint', value: values.hint, short: false },
  ];
  return facts.filter((fact) => fact.value !== '');
}
