import { defineNotifier, Type } from '@backupctl/plugin-api';
import { ntfyMessage } from './ntfy-message.js';

export { ntfyMessage, type NtfyMessage } from './ntfy-message.js';

/**
 * `use: ntfy`: a push notification through ntfy (ntfy.sh or your own
 * server). Published in ntfy's JSON form rather than as a body with
 * Title/Priority/Tags headers: a header carries Latin-1 only, so a job
 * titled "Base de données" or "数据库" would need RFC 2047 encoding there,
 * and JSON also keeps every value out of the request's headers.
 */
export default defineNotifier({
  name: 'ntfy',
  description: 'Send a push notification through ntfy (ntfy.sh or a self-hosted server).',
  options: {
    server: Type.String({
      pattern: '^https?://\\S+$',
      default: 'https://ntfy.sh',
      description: 'The ntfy server: ntfy.sh, or your own (https://ntfy.example.com).',
    }),
    topic: Type.String({
      pattern: '^[-_A-Za-z0-9]{1,64}$',
      errorMessage: 'must be 1 to 64 letters, digits, - or _',
      description: 'The topic to publish to. On ntfy.sh anyone who knows a topic can read it: pick one nobody would guess, or protect it with a token.',
    }),
    token: Type.Optional(
      Type.String({ minLength: 1, description: 'An access token (tk_...) for a protected topic, sent as a Bearer token. Masked in logs.' }),
    ),
    username: Type.Optional(Type.String({ minLength: 1, description: 'A user for a protected topic (with password), sent as Basic authentication.' })),
    password: Type.Optional(Type.String({ minLength: 1, description: "The user's password. Masked in logs." })),
  },
  defaultOn: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
  secrets: (options) => [options.token, options.password],
  check: (options) => {
    if (!URL.canParse(options.server)) return 'server is not a valid URL';
    if ((options.username === undefined) !== (options.password === undefined)) return 'username and password go together';
    if (options.token !== undefined && options.username !== undefined) return 'give a token or a username and password, not both';
    return undefined;
  },
  target: (options) => new URL(options.server).origin,
  async send(notification, delivery) {
    const { server, topic } = delivery.options;
    // The JSON form is published to the server's root; the topic is in the body.
    await delivery.http(`${server.replace(/\/+$/, '')}/`, {
      method: 'POST',
      headers: authorization(delivery.options),
      body: ntfyMessage(notification, topic, delivery.message),
    });
  },
});

function authorization(options: { token?: string; username?: string; password?: string }): Record<string, string> {
  if (options.token) return { authorization: `Bearer ${options.token}` };
  if (options.username && options.password) return { authorization: `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}` };
  return {};
}
