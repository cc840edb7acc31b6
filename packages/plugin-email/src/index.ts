import { readFile } from 'node:fs/promises';
import { defineNotifier, renderTemplate } from '@backupctl/plugin-api';
import { composeEmail } from './compose.js';
import { emailOptions } from './options.js';
import { sendMail } from './send-mail.js';
import { caProblem, isPem } from './trust.js';

/**
 * `use: email`: sends each event it listens for as an email over SMTP
 * (nodemailer): STARTTLS required by default, implicit TLS, or none for a
 * local relay. An empty host (an unset variable) turns it off.
 */
export default defineNotifier({
  name: 'email',
  description: 'Email the events it listens for over SMTP (STARTTLS or TLS, with a login).',
  options: emailOptions,
  defaultOn: ['failure', 'verify-failed', 'copy-failed', 'anomaly', 'stale', 'recovered'],
  enabled: (options) => options.host !== '',
  secrets: (options) => [options.password],
  check(options) {
    if (Boolean(options.username) !== Boolean(options.password)) return 'give username and password together (or neither, for a server that asks for no login)';
    return options.ca === undefined ? undefined : caProblem(options.ca);
  },
  target: (options) => `${options.security === 'tls' ? 'smtps' : 'smtp'}://${options.host}:${portOf(options)}`,
  async send(notification, delivery) {
    const { options } = delivery;
    const content = composeEmail(notification, {
      subjectPrefix: options.subjectPrefix,
      subject: options.subject === undefined ? undefined : delivery.redact(renderTemplate(options.subject, notification)),
      message: delivery.message,
    });
    try {
      await sendMail(
        {
          host: options.host,
          port: portOf(options),
          security: options.security,
          username: options.username || undefined,
          password: options.password || undefined,
          // Read at each email, so a long-running `serve` picks up a renewed CA.
          ca: options.ca === undefined ? undefined : isPem(options.ca) ? options.ca : await readFile(options.ca, 'utf8'),
          insecureSkipVerify: options.insecureSkipVerify,
          timeoutMs: options.timeoutSeconds * 1000,
        },
        { from: options.from, to: options.to, ...(options.cc === undefined ? {} : { cc: options.cc }), ...content },
        { retries: options.retries, signal: delivery.signal },
      );
    } catch (error) {
      // The message alone: what reaches the log is one masked line.
      throw new Error(delivery.redact((error as Error).message));
    }
  },
});

function portOf(options: { port?: number; security: string }): number {
  return options.port ?? (options.security === 'tls' ? 465 : 587);
}
