import { isProblem, notificationFacts, notificationHeadline, type Notification, type NotificationEvent } from '@backupctl/plugin-api';

type TextBlock = {
  type: 'TextBlock';
  text: string;
  wrap: true;
  size?: 'Small' | 'Large';
  weight?: 'Bolder';
  color?: 'Attention' | 'Good' | 'Default';
  isSubtle?: boolean;
};
type FactSet = { type: 'FactSet'; facts: { title: string; value: string }[] };

export interface AdaptiveCard {
  $schema: string;
  type: 'AdaptiveCard';
  version: string;
  body: (TextBlock | FactSet)[];
  msteams: { width: 'Full' };
}

/** What a Teams Workflows webhook ("when a Teams webhook request is received") takes: a message with one card attached. */
export interface TeamsMessage {
  type: 'message';
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }];
}

// 1.4: what Teams renders on desktop, web and mobile alike (1.5 is desktop and web only).
const CARD_VERSION = '1.4';

/**
 * The card for one notification: the headline (red for a problem, green
 * for a success), the user's `message:` when given, the facts as a
 * FactSet, and a small line with the event and the time in the reader's
 * time zone.
 */
export function teamsMessage(notification: Notification, message?: string): TeamsMessage {
  const body: AdaptiveCard['body'] = [
    { type: 'TextBlock', text: notificationHeadline(notification), size: 'Large', weight: 'Bolder', color: colourOf(notification.event), wrap: true },
    ...(message ? [{ type: 'TextBlock' as const, text: message, wrap: true as const }] : []),
    { type: 'FactSet', facts: notificationFacts(notification).map(({ label, value }) => ({ title: label, value })) },
    { type: 'TextBlock', text: `backupctl · ${notification.event} · ${cardTime(notification.at)}`, size: 'Small', isSubtle: true, wrap: true },
  ];
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: CARD_VERSION, body, msteams: { width: 'Full' } },
      },
    ],
  };
}

function colourOf(event: NotificationEvent): TextBlock['color'] {
  if (isProblem(event)) return 'Attention';
  return event === 'success' || event === 'verified' || event === 'recovered' ? 'Good' : 'Default';
}

/** The card's DATE/TIME functions show the reader's local time; they want RFC 3339 without milliseconds. */
function cardTime(at: string): string {
  const time = at.replace(/\.\d+Z$/, 'Z');
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(time) ? `{{DATE(${time}, SHORT)}} {{TIME(${time})}}` : at;
}
