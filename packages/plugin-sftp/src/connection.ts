import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { BackupctlError, ErrorCodes, type Logger } from '@backupctl/plugin-api';
import type { Client, ConnectConfig, SFTPWrapper } from 'ssh2';
import { describeServer, isInlineKey, type SftpOptions } from './options.js';

/** `SHA256:<base64 without =>` of a raw host key blob: what `ssh-keygen -lf` prints. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);

/** Network-level failures worth another attempt; a refused login or host key is not one. */
export function isRetryable(error: unknown): boolean {
  const { code, level } = (error ?? {}) as { code?: unknown; level?: unknown };
  return (typeof code === 'string' && RETRYABLE_CODES.has(code)) || level === 'client-timeout';
}

/** The waits between attempts, in seconds: delay × 2^(attempt-1), none after the last. */
export function retryWaitsSeconds(attempts: number, delaySeconds: number): number[] {
  return Array.from({ length: Math.max(attempts - 1, 0) }, (_, index) => delaySeconds * 2 ** index);
}

/** What a connection needs besides the options. */
export interface ConnectEnvironment {
  logger: Logger;
  /** Registers the key file's text once read, so it is masked like the options' secrets. */
  addSecret(secret: string): void;
}

/** One logged-in SSH connection with its SFTP channel. */
export interface SftpConnection {
  client: Client;
  sftp: SFTPWrapper;
  /** Aborted when the connection closes (dropped, or ended): requests waiting on it must give up. */
  lost: AbortSignal;
}

/**
 * Opens an SSH connection and its SFTP channel, retrying network failures
 * with doubling waits (one warning per wait). The host key must match
 * `hostKey`; when it does not (or `hostKey` is empty) the error shows the
 * fingerprint the server offered.
 */
export async function connectWithRetry(options: SftpOptions, environment: ConnectEnvironment, signal?: AbortSignal): Promise<SftpConnection> {
  const server = describeServer(options);
  const waits = retryWaitsSeconds(options.retryAttempts, options.retryDelaySeconds);
  const config = await connectConfig(options, environment);
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await connectOnce(options, config);
    } catch (error) {
      if (error instanceof BackupctlError) throw error;
      const wait = waits[attempt - 1];
      if (!isRetryable(error) || wait === undefined) {
        const tries = isRetryable(error) && options.retryAttempts > 1 ? ` after ${options.retryAttempts} attempts` : '';
        throw new BackupctlError(ErrorCodes.STORE_FAILED, `could not connect to ${server}${tries}: ${describeSshError(error)}`, {
          plugin: 'sftp',
          hint: connectHint(error),
          cause: error,
        });
      }
      environment.logger.warn(
        `SFTP server ${server} not reachable (${describeSshError(error)}), retrying in ${wait}s (attempt ${attempt} of ${options.retryAttempts})`,
      );
      await delay(wait * 1000, undefined, signal === undefined ? {} : { signal });
    }
  }
}

async function connectConfig(options: SftpOptions, environment: ConnectEnvironment): Promise<ConnectConfig> {
  const config: ConnectConfig = {
    host: options.host,
    port: options.port,
    username: options.username,
    readyTimeout: options.timeoutSeconds * 1000,
    // Notices a server that vanished (a NAS powered off) during a long upload.
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
  };
  if (options.password) config.password = options.password;
  const keyOption = options.privateKey.trim();
  if (keyOption) {
    let key = options.privateKey;
    if (!isInlineKey(keyOption)) {
      try {
        key = await readFile(keyOption, 'utf8');
      } catch (error) {
        throw new BackupctlError(ErrorCodes.STORE_FAILED, `cannot read the private key file ${keyOption}: ${(error as Error).message}`, {
          plugin: 'sftp',
          cause: error,
        });
      }
      environment.addSecret(key.trim());
    }
    config.privateKey = key;
    if (options.passphrase) config.passphrase = options.passphrase;
  }
  return config;
}

async function connectOnce(options: SftpOptions, config: ConnectConfig): Promise<SftpConnection> {
  const { Client } = await import('ssh2');
  const client = new Client();
  // ssh-keygen prints no `=` padding; a fingerprint copied from elsewhere may have it.
  const expected = options.hostKey.replace(/=+$/, '');
  let offered: string | undefined;
  return new Promise<SftpConnection>((resolve, reject) => {
    const fail = (error: unknown) => {
      client.end();
      if (offered !== undefined && offered !== expected) {
        reject(hostKeyError(options, offered));
        return;
      }
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    client.once('error', fail);
    client.once('ready', () => {
      client.sftp((error, sftp) => {
        if (error) {
          fail(error);
          return;
        }
        client.removeListener('error', fail);
        // Later errors (a dropped connection) fail the requests in flight; this only keeps them from being unhandled.
        client.on('error', () => {});
        const lost = new AbortController();
        client.once('close', () => lost.abort(new Error('the connection to the server was lost')));
        resolve({ client, sftp, lost: lost.signal });
      });
    });
    try {
      client.connect({
        ...config,
        hostVerifier: (key: Buffer) => {
          offered = fingerprint(key);
          return offered === expected;
        },
      });
    } catch (error) {
      fail(error);
    }
  });
}

function hostKeyError(options: SftpOptions, offered: string): BackupctlError {
  const server = describeServer(options);
  const message = options.hostKey
    ? `host key of ${server} is ${offered}, not the configured hostKey ${options.hostKey}: refusing to connect`
    : `host key of ${server} is not known: refusing to connect (its fingerprint is ${offered})`;
  return new BackupctlError(ErrorCodes.STORE_FAILED, message, {
    plugin: 'sftp',
    hint: `Check on the server that ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (or the key type it uses) prints ${offered}, then set hostKey: "${offered}" in the sink's options.`,
  });
}

/** The SSH library's message in a few words (it never holds the password). */
export function describeSshError(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message ? message : String(error);
  return typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text;
}

function connectHint(error: unknown): string {
  const { level } = (error ?? {}) as { level?: unknown };
  if (level === 'client-authentication') return "Check the user and its password or private key (and the key's passphrase).";
  if (isRetryable(error)) return 'Check that the server is running and reachable on that port, or raise retryAttempts / retryDelaySeconds.';
  return 'Check host, port and the credentials.';
}
