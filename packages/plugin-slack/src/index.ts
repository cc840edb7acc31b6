import { defineNotifier, Type } from '@backupctl/plugin-api';
import { slackMessage } from './slack-message.js';

export { escapeMarkdown, slackMessage, type SlackBlock, type SlackMessage } from './slack-message.js';

/**
 * `use: slack`: posts a Block Kit message to a Slack incoming webhook. The
 * webhook's app decides the channel and the name it posts as: Slack
 * ignores `channel` and `username` from app webhooks, so there are none here.
 */
export default defineNotifier({
  name: 'slack',
  description: 'Post a message to a Slack channel through an incoming webhook (Block Kit).',
  options: {
    webhookUrl: Type.String({
      pattern: '^https?://\\S+$',
      errorMessage: 'must be the incoming webhook URL Slack gave (https://hooks.slack.com/services/...)',
      description: "The incoming webhook's URL (Slack app > Incoming Webhooks); it is a credential: give it from the environment. Masked in logs.",
    }),
  },
  defaultOn: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
  secrets: (options) => webhookSecrets(options.webhookUrl),
  check: (options) => (URL.canParse(options.webhookUrl) ? undefined : 'webhookUrl is not a valid URL'),
  target: (options) => new URL(options.webhookUrl).origin,
  async send(notification, delivery) {
    await delivery.http(delivery.options.webhookUrl, { method: 'POST', body: slackMessage(notification, delivery.message) }).catch((error: Error & { answer?: string }) => {
      // Slack says why in a word (no_service, invalid_blocks, channel_is_archived): worth more than the status.
      const reason = error.answer?.trim();
      throw reason && /^[a-z_]{1,64}$/.test(reason) ? new Error(`${error.message}: ${reason}`) : error;
    });
  },
});

/** A webhook's URL is its credential: masked whole, and its path alone (a log line may quote it without the host). */
function webhookSecrets(url: string): string[] {
  const path = URL.canParse(url) ? new URL(url).pathname : '';
  return path.length > 8 ? [url, path] : [url];
}
