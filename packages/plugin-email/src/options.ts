import { MESSAGE_TEMPLATE_PATTERN, TEMPLATE_FIELDS, Type } from '@backupctl/plugin-api';

// What may stand on either side of the @: no spaces, angle brackets, quotes,
// commas or semicolons (a comma means two addresses in one string: give a list).
const LOCAL = '[^\\s@<>()[\\],;:"\\\\]+';
const LABEL = '[^\\s@<>()[\\],;:"\\\\.]+';
const ADDRESS = `${LOCAL}@${LABEL}(?:\\.${LABEL})*`;

/** `name@example.com`, or `Name <name@example.com>` (a display name without quotes, commas or @). */
export const ADDRESS_PATTERN = `^(?:${ADDRESS}|[^<>"@,;\\r\\n]*<${ADDRESS}>)$`;

const ADDRESS_MESSAGE = 'must be an email address: name@example.com or "Name <name@example.com>"; several go in a list, one address each';

const address = (description: string) => Type.String({ pattern: ADDRESS_PATTERN, errorMessage: ADDRESS_MESSAGE, description });

/**
 * One address or a list. A type list rather than a union: a union's
 * problems reach the user as "must match a schema in anyOf", where this
 * keeps the pattern's errorMessage, on the string or on the list's item.
 */
const addresses = (description: string) =>
  Type.Unsafe<string | string[]>({
    type: ['string', 'array'],
    pattern: ADDRESS_PATTERN,
    errorMessage: ADDRESS_MESSAGE,
    items: Type.String({ pattern: ADDRESS_PATTERN, errorMessage: ADDRESS_MESSAGE }),
    minItems: 1,
    description,
  });

export const SECURITY = ['starttls', 'tls', 'none'] as const;
export type Security = (typeof SECURITY)[number];

/** The email notifier's own options (defineNotifier adds on, message, timeoutSeconds, retries). */
export const emailOptions = {
  host: Type.String({
    pattern: '^([^\\s:/@]+)?$',
    errorMessage: 'must be a host name or IP address such as smtp.example.com, without scheme, port or user',
    description: 'The SMTP server (smtp.example.com). Empty: the notifier does nothing (an unset `${SMTP_HOST:-}`).',
  }),
  // No schema default: 587 would be filled in for `security: tls` too, whose port is 465.
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 587, or 465 with `security: tls`.' })),
  // An enum rather than a union of literals: a wrong value is told "must be one of ...", not "must match a schema in anyOf".
  security: Type.Unsafe<Security>({
    type: 'string',
    enum: [...SECURITY],
    default: 'starttls',
    description:
      'starttls: connect in plain text, then require the upgrade to TLS (submission, port 587); a server that does not offer it gets no email, never one in clear text. ' +
      'tls: TLS from the first byte (port 465). ' +
      'none: no encryption at all, the password and the email in clear text: only for a relay on the same host or a trusted private network.',
  }),
  // Empty is as good as absent, so `${SMTP_USERNAME:-}` can leave the login out.
  username: Type.Optional(Type.String({ description: 'Log in (AUTH PLAIN or LOGIN) with this user name; give `password` with it. Absent or empty: no login.' })),
  password: Type.Optional(Type.String({ description: 'The password (or app password, or SMTP credential) for `username`; masked in logs and errors.' })),
  from: address('The sender: an address the server lets this user send as, e.g. "backupctl <backups@example.com>".'),
  to: addresses('Who gets the email: one address or a list, each written as `from` is.'),
  cc: Type.Optional(addresses('Copied: one address or a list, each written as `from` is.')),
  subjectPrefix: Type.String({ default: '[backupctl]', description: 'Put before every subject, for mail filters; empty for none.' }),
  subject: Type.Optional(
    Type.String({
      minLength: 1,
      pattern: MESSAGE_TEMPLATE_PATTERN,
      errorMessage: `may only use the fields ${TEMPLATE_FIELDS.map((field) => `{${field}}`).join(', ')}`,
      description: 'Replaces the default subject ("{title} backup {result}" and the like), after the prefix; the same fields as `message`.',
    }),
  ),
  ca: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Trust this CA (a PEM file\'s path, or the PEM text itself) for a server whose certificate a private CA signed; the system\'s CAs are trusted either way. The server\'s name is still checked.',
    }),
  ),
  insecureSkipVerify: Type.Boolean({
    default: false,
    description:
      'Dangerous: accept any certificate, so anyone between here and the server can read the email and the password. Give `ca` instead; this is for a throwaway test server only.',
  }),
};
