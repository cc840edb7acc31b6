import { defineNotifier, Type } from '@backupctl/plugin-api';
import { descriptionOf, refusalOf } from './bot-answer.js';
import { telegramText } from './telegram-text.js';

export { escapeHtml, telegramText } from './telegram-text.js';

/**
 * `use: telegram`: sends a message through a Telegram bot (Bot API
 * sendMessage, HTML). The token is part of the request's path, so it is
 * masked everywhere and never in an error: sendHttp's errors hold no URL.
 */
export default defineNotifier({
  name: 'telegram',
  description: 'Send a message to a Telegram chat, group or channel through a bot.',
  options: {
    botToken: Type.String({
      pattern: '^\\d+:[\\w-]+$',
      errorMessage: 'must be the token @BotFather gave (123456789:AA...)',
      description: "The bot's token from @BotFather; a credential: give it from the environment. Masked in logs.",
    }),
    chatId: Type.String({
      pattern: '^(-?\\d+|@\\w{4,})$',
      errorMessage: 'must be a chat id (123456789, -1001234567890) or a public channel (@name)',
      description: "Where to send: a user's or group's numeric id (a supergroup's or channel's starts with -100), or @channelname for a public channel.",
    }),
    apiUrl: Type.String({
      pattern: '^https?://\\S+$',
      default: 'https://api.telegram.org',
      description: 'The Bot API server: a local Bot API server, or a test receiver.',
    }),
  },
  defaultOn: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
  secrets: (options) => [options.botToken],
  check: (options) => (URL.canParse(options.apiUrl) ? undefined : 'apiUrl is not a valid URL'),
  target: (options) => new URL(options.apiUrl).origin,
  async send(notification, delivery) {
    const { apiUrl, botToken, chatId } = delivery.options;
    const url = `${apiUrl.replace(/\/+$/, '')}/bot${botToken}/sendMessage`;
    const body = { chat_id: chatId, text: telegramText(notification, delivery.message), parse_mode: 'HTML' };
    const answer = await delivery.http(url, { method: 'POST', body }).catch((error: Error & { answer?: string }) => {
      // "HTTP 400" alone does not say that the chat id is wrong; the Bot API's description does.
      const description = descriptionOf(error.answer);
      throw description ? new Error(delivery.redact(`${error.message}: ${description}`)) : error;
    });
    const refusal = refusalOf(answer.body);
    if (refusal) throw new Error(delivery.redact(refusal));
  },
});
