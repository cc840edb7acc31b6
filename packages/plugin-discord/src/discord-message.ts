import { clipText, fitTexts, isProblem, notificationFacts, notificationHeadline, type Notification, type NotificationEvent } from '@backupctl/plugin-api';

// Discord's limits (a message over one is refused with 400): content 2000
// characters; an embed's title 256, field name 256, field value 1024,
// footer 2048, 25 fields, and 6000 for all of an embed's texts together.
const CONTENT_MAX = 2000;
const TITLE_MAX = 256;
const FIELD_VALUE_MAX = 1024;
const FIELDS_MAX = 25;
const EMBED_TOTAL_MAX = 6000;

const RED = 0xd83c3e;
const GREEN = 0x2ea043;
const GREY = 0x8b949e;

export interface DiscordEmbed {
  title: string;
  color: number;
  fields: { name: string; value: string; inline: boolean }[];
  footer: { text: string };
  timestamp: string;
}

/** What Discord's "execute webhook" receives. */
export interface DiscordMessage {
  content?: string;
  username?: string;
  embeds: [DiscordEmbed];
  allowed_mentions: { parse: [] };
}

/**
 * One embed: the headline as title, coloured by the event, the facts as
 * fields (short ones side by side). The user's `message:` goes in
 * `content`, above the embed and in the push notification.
 */
export function discordMessage(notification: Notification, options: { message?: string; username?: string }): DiscordMessage {
  const title = clipText(notificationHeadline(notification), TITLE_MAX);
  const footer = `backupctl · ${notification.event}`;
  const facts = notificationFacts(notification).slice(0, FIELDS_MAX);
  const names = facts.map(({ label }) => label);
  const budget = EMBED_TOTAL_MAX - title.length - footer.length - names.join('').length;
  const values = fitTexts(facts.map(({ value }) => clipText(value, FIELD_VALUE_MAX)), budget);
  return {
    ...(options.message ? { content: clipText(options.message, CONTENT_MAX) } : {}),
    ...(options.username ? { username: options.username } : {}),
    embeds: [
      {
        title,
        color: colourOf(notification.event),
        fields: facts.map(({ label, short }, index) => ({ name: label, value: values[index]!, inline: short })),
        footer: { text: footer },
        timestamp: notification.at,
      },
    ],
    // A notification pings nobody: an @everyone quoted in an error message is shown, not sent to everyone.
    allowed_mentions: { parse: [] },
  };
}

function colourOf(event: NotificationEvent): number {
  if (isProblem(event)) return RED;
  return event === 'success' || event === 'verified' || event === 'recovered' ? GREEN : GREY;
}
