import { defineNotifier, Type } from '@backupctl/plugin-api';
import { teamsMessage } from './teams-card.js';

export { teamsMessage, type AdaptiveCard, type TeamsMessage } from './teams-card.js';

/**
 * `use: teams`: posts an Adaptive Card to a Microsoft Teams channel through
 * a Workflows webhook (the Office 365 connectors' incoming webhooks are
 * retired; a Workflow's "when a Teams webhook request is received" URL
 * takes the same card).
 */
export default defineNotifier({
  name: 'teams',
  description: 'Post an Adaptive Card to a Microsoft Teams channel through a Workflows webhook.',
  options: {
    webhookUrl: Type.String({
      pattern: '^https?://\\S+$',
      errorMessage: 'must be the URL of the Workflow\'s "When a Teams webhook request is received" trigger',
      description:
        'The URL of a Teams Workflow ("Send webhook alerts to a channel"); its signature (sig=) is a credential: give it from the environment. Masked in logs.',
    }),
  },
  defaultOn: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
  secrets: (options) => webhookSecrets(options.webhookUrl),
  check: (options) => (URL.canParse(options.webhookUrl) ? undefined : 'webhookUrl is not a valid URL'),
  target: (options) => new URL(options.webhookUrl).origin,
  async send(notification, delivery) {
    await delivery.http(delivery.options.webhookUrl, { method: 'POST', body: teamsMessage(notification, delivery.message) });
  },
});

/** The URL is the credential (its query holds the signature): masked whole, and its path and query alone. */
function webhookSecrets(url: string): string[] {
  const { pathname, search } = URL.canParse(url) ? new URL(url) : { pathname: '', search: '' };
  const rest = `${pathname}${search}`;
  return rest.length > 8 ? [url, rest, ...signatureOf(search)] : [url];
}

/** The `sig` parameter alone, as a log line might quote it. */
function signatureOf(search: string): string[] {
  const sig = new URLSearchParams(search).get('sig');
  return sig ? [sig] : [];
}
