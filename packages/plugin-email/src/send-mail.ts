import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodemailerError, SMTPTransportOptions } from 'nodemailer';
import type { Security } from './options.js';

/** How to reach the SMTP server. */
export interface SmtpSettings {
  host: string;
  port: number;
  security: Security;
  username?: string;
  password?: string;
  /** Extra CA certificates (PEM) to trust beside the system's. */
  ca?: string;
  insecureSkipVerify: boolean;
  /** For connecting, the greeting, the TLS upgrade and each answer. */
  timeoutMs: number;
}

export interface OutgoingMail {
  from: string;
  to: string | string[];
  cc?: string | string[];
  subject: string;
  text: string;
  html?: string;
}

export interface Attempts {
  /** Attempts after the first, on connection errors, timeouts and 4xx answers. */
  retries: number;
  signal: AbortSignal;
  /** First wait between attempts, doubled each time up to 8 s (default 1 s). */
  retryDelayMs?: number;
}

/**
 * The transport options for `settings`. `starttls` sets requireTLS, so a
 * server that does not offer STARTTLS, or whose upgrade fails, gets
 * nothing, the password least of all; nodemailer's default would carry on
 * in clear text.
 */
export function transportOptions(settings: SmtpSettings): SMTPTransportOptions {
  const { host, port, security, username, password, ca, insecureSkipVerify, timeoutMs } = settings;
  return {
    host,
    port,
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'none',
    ...(username ? { auth: { user: username, pass: password } } : {}),
    tls: {
      rejectUnauthorized: !insecureSkipVerify,
      minVersion: 'TLSv1.2',
      // `ca` alone would replace Node's CAs: a private CA is trusted beside them.
      ...(ca ? { ca: [...rootCertificates, ca] } : {}),
    },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
  };
}

/**
 * Sends one email, retrying what may pass later (a refused or dropped
 * connection, a timeout, a 4xx answer). Rejects with one line saying why
 * (never the password); the caller masks it again all the same.
 */
export async function sendMail(settings: SmtpSettings, mail: OutgoingMail, attempts: Attempts): Promise<void> {
  // Loaded on the first email: `validate`, `plugins` and runs that send none never pay for nodemailer.
  const { createTransport } = await import('nodemailer');
  const baseDelay = attempts.retryDelayMs ?? 1000;
  let problem = '';
  for (let attempt = 1; attempt <= attempts.retries + 1; attempt += 1) {
    if (attempt > 1) {
      await sleep(Math.min(baseDelay * 2 ** (attempt - 2), 8000), undefined, { signal: attempts.signal }).catch((error: unknown) => {
        throw new Error(`cancelled after ${problem}`, { cause: error });
      });
    }
    // nodemailer's timeouts each bound one wait; this bounds the whole attempt, as `timeoutSeconds` says.
    const attemptSignal = AbortSignal.any([attempts.signal, AbortSignal.timeout(settings.timeoutMs)]);
    const transport = createTransport(transportOptions(settings));
    try {
      await transport.sendMail({
        ...mail,
        signal: attemptSignal,
        // Nothing in a notification is a file or a URL to fetch and attach.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      return;
    } catch (error) {
      if (attempts.signal.aborted) throw new Error('cancelled', { cause: error });
      // Stopped by the attempt's limit (nodemailer's own ETIMEDOUT says more: which wait ran out).
      const stopped = attemptSignal.aborted && (error as NodemailerError).code !== 'ETIMEDOUT';
      problem = stopped ? `no answer within ${settings.timeoutMs / 1000} s` : oneLine(describeSmtpError(error as NodemailerError, settings));
      if (!(stopped || isTransient(error as NodemailerError)) || attempt === attempts.retries + 1) {
        throw new Error(attempt > 1 ? `${problem} after ${attempt} attempts` : problem, { cause: error });
      }
    } finally {
      transport.close();
    }
  }
  throw new Error(problem);
}

// Node's codes for a certificate it would not trust (tls.connect's errors).
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** What went wrong, in the user's terms: what the server said, or what the connection did. */
export function describeSmtpError(error: NodemailerError, settings: Pick<SmtpSettings, 'host' | 'security' | 'timeoutMs'>): string {
  const cause = tlsCause(error);
  if (cause?.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `certificate does not name ${settings.host}: ${cause.message}`;
  if (cause?.code === 'CERT_HAS_EXPIRED') return `certificate expired: ${cause.message}`;
  if (cause?.code && UNTRUSTED.has(cause.code)) return `certificate not trusted: ${cause.message} (a private CA: give its certificate as ca)`;
  const response = error.response?.trim();
  const code = error.originalCode ?? error.code;
  if (error.responseCode === 530) return `the server asks for a login (${response}): give username and password`;
  switch (code) {
    case 'EAUTH':
      return `authentication failed: ${response ?? error.message}`;
    case 'ENOAUTH':
      return 'the server asks for a login: give username and password';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EDNS':
      return `host not found: ${settings.host}`;
    case 'ETIMEDOUT':
      // Both sides waiting: the server for a TLS handshake, the client for its greeting.
      if (error.timeoutType === 'GREETING_TIMEOUT' && settings.security !== 'tls') {
        return `no greeting within ${settings.timeoutMs / 1000} s (a port that speaks TLS from the start, such as 465, takes security: tls)`;
      }
      return `no answer within ${settings.timeoutMs / 1000} s`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'the server did not answer in TLS (a STARTTLS port, such as 587, takes security: starttls)';
    case 'ETLS':
      if (error.command === 'STARTTLS') {
        return `the server does not offer STARTTLS${response ? ` (${response})` : ''}: security: starttls never sends in clear text (port 465 takes security: tls)`;
      }
      return `TLS failed: ${error.message}`;
    case 'EENVELOPE':
      return `${error.command === 'MAIL FROM' ? 'sender' : 'recipient'} refused: ${response ?? error.message}`;
    case 'EMESSAGE':
      return `message refused: ${response ?? error.message}`;
  }
  return response ? `${error.message} (${response})` : error.message;
}

/** The TLS socket's own error behind nodemailer's, where a certificate was refused. */
function tlsCause(error: NodemailerError): { code?: string; message: string } | undefined {
  const candidates = [error, error.cause as NodemailerError | undefined].filter((item): item is NodemailerError => item !== undefined);
  for (const candidate of candidates) {
    const code = candidate.originalCode ?? candidate.code;
    if (code && (UNTRUSTED.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'CERT_HAS_EXPIRED')) {
      return { code, message: candidate.message.replace(/^Error initiating TLS - /, '') };
    }
  }
  return undefined;
}

/** Worth another attempt: the connection failed or dropped, or the server said "later" (4xx). */
function isTransient(error: NodemailerError): boolean {
  if (tlsCause(error)) return false;
  if (error.responseCode !== undefined) return error.responseCode >= 400 && error.responseCode < 500;
  return ['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS'].includes(error.code ?? '');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
