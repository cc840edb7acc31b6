import { defineNotifier, Type } from '@backupctl/plugin-api';
import { discordMessage } from './discord-message.js';

export { discordMessage, type DiscordEmbed, type DiscordMessage } from './discord-message.js';

/** `use: discord`: posts an embed to a Discord channel through its webhook. */
export default defineNotifier({
  name: 'discord',
  description: 'Post an embed to a Discord channel through a channel webhook.',
  options: {
    webhookUrl: Type.String({
      pattern: '^https?://\\S+$',
      errorMessage: 'must be the webhook URL Discord gave (https://discord.com/api/webhooks/...)',
      description: "The channel webhook's URL (Server Settings > Integrations > Webhooks); it is a credential: give it from the environment. Masked in logs.",
    }),
    username: Type.Optional(
      Type.String({ minLength: 1, maxLength: 80, description: "The name the message is posted as, instead of the webhook's own." }),
    ),
  },
  defaultOn: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
  secrets: (options) => webhookSecrets(options.webhookUrl),
  check: (options) => (URL.canParse(options.webhookUrl) ? undefined : 'webhookUrl is not a valid URL'),
  target: (options) => new URL(options.webhookUrl).origin,
  async send(notification, delivery) {
    const { webhookUrl, username } = delivery.options;
    await delivery.http(webhookUrl, { method: 'POST', body: discordMessage(notification, { message: delivery.message, username }) });
  },
});

/** A webhook's URL is its credential (its path holds the token): masked whole, and its path alone. */
function webhookSecrets(url: string): string[] {
  const path = URL.canParse(url) ? new URL(url).pathname : '';
  return path.length > 8 ? [url, path] : [url];
}
