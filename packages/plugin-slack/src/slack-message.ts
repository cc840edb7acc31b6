import { clipText, isProblem, notificationFacts, notificationHeadline, type Notification, type NotificationEvent } from '@backupctl/plugin-api';

// Slack's limits: a header's text 150 characters, a section's text 3000, a
// section's fields 10 of 2000 each; over them the webhook answers 400.
const HEADER_MAX = 150;
const TEXT_MAX = 3000;
const FIELDS_MAX = 10;
// Room for escaping (& becomes &amp;) within the 2000 of a field.
const FIELD_VALUE_MAX = 1500;

/** A Block Kit block, as far as this notifier writes them. */
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text?: MarkdownText; fields?: MarkdownText[] }
  | { type: 'context'; elements: MarkdownText[] };

interface MarkdownText {
  type: 'mrkdwn';
  text: string;
}

/** What an incoming webhook receives: `text` for notifications and screen readers, `blocks` for the message. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/**
 * The message for one notification: a header with the headline, the
 * user's `message:` (when given) as a section, the facts as fields, and a
 * context line with the event and the time in the reader's time zone.
 */
export function slackMessage(notification: Notification, message?: string): SlackMessage {
  const text = escapeMarkdown(clipText(message ?? notification.summary, TEXT_MAX));
  const fields = notificationFacts(notification)
    .slice(0, FIELDS_MAX)
    .map(({ label, value }) => markdown(`*${label}*\n${escapeMarkdown(clipText(value, FIELD_VALUE_MAX))}`));
  return {
    text,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clipText(`${icon(notification.event)} ${notificationHeadline(notification)}`, HEADER_MAX), emoji: true } },
      ...(message ? [{ type: 'section' as const, text: markdown(text) }] : []),
      { type: 'section', fields },
      { type: 'context', elements: [markdown(`backupctl · ${notification.event} · ${slackDate(notification.at)}`)] },
    ],
  };
}

const markdown = (text: string): MarkdownText => ({ type: 'mrkdwn', text });

/** Slack reads `&`, `<` and `>` as its own markup (links, mentions): only these are escaped. */
export function escapeMarkdown(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function icon(event: NotificationEvent): string {
  if (isProblem(event)) return ':rotating_light:';
  return event === 'success' || event === 'verified' || event === 'recovered' ? ':white_check_mark:' : ':information_source:';
}

/** Slack's date token: shown in each reader's time zone, the ISO time where a client cannot. */
function slackDate(at: string): string {
  const seconds = Math.floor(Date.parse(at) / 1000);
  return Number.isNaN(seconds) ? at : `<!date^${seconds}^{date_short_pretty} {time}|${at}>`;
}
