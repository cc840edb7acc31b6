import { clipText, fitTexts, notificationFacts, notificationHeadline, type Notification } from '@backupctl/plugin-api';

// A message holds 4096 characters once its HTML is parsed; over that the Bot API answers 400.
const TEXT_MAX = 4096;
const HEADLINE_MAX = 256;

/**
 * The HTML text of one message: the headline in bold, then one line per
 * fact; or the user's `message:` alone. Every value is escaped, so an error
 * quoting `<table>` is shown as written instead of failing the parse.
 */
export function telegramText(notification: Notification, message?: string): string {
  if (message) return escapeHtml(clipText(message, TEXT_MAX));
  const headline = clipText(notificationHeadline(notification), HEADLINE_MAX);
  const facts = notificationFacts(notification);
  // What the reader sees: the headline, and per fact its label, ": " and a line break.
  const frame = headline.length + facts.reduce((sum, { label }) => sum + label.length + 3, 0);
  const values = fitTexts(facts.map(({ value }) => value), TEXT_MAX - frame);
  return [`<b>${escapeHtml(headline)}</b>`, ...facts.map(({ label }, index) => `<b>${label}:</b> ${escapeHtml(values[index]!)}`)].join('\n');
}

/** What Telegram's HTML mode wants escaped outside tags: `&`, `<`, `>` (and `"`, harmless here). */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
