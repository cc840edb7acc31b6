import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Client, type ClientConfig } from 'pg';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import type { ConnectionSettings } from './connection-url.js';
import { lookUpPassfilePassword } from './pgpass.js';

/** Raised by the password callback when the server wants a password that neither the URL nor the password file has. */
export class NoPasswordError extends Error {
  override readonly name = 'NoPasswordError';
  constructor() {
    super('the server asked for a password and the URL has none (fe_sendauth: no password supplied)');
  }
}

const SSL_UNSUPPORTED = 'The server does not support SSL connections';

async function readIfGiven(path: string | undefined, fallback: string): Promise<Buffer | undefined> {
  if (path !== undefined) return readFile(path);
  return existsSync(fallback) ? readFile(fallback) : undefined;
}

/**
 * The TLS settings to try, in order, for libpq's sslmode: `prefer` (libpq's
 * default) tries TLS without verifying and falls back to plain, `allow` the
 * other way round, `require` does not verify unless a root certificate is
 * named, `verify-ca` checks the chain and `verify-full` the host name too.
 */
async function sslAttempts(settings: ConnectionSettings): Promise<Array<false | ConnectionOptions>> {
  const parameters = settings.parameters;
  const postgresDir = join(homedir(), '.postgresql');
  const cert = await readIfGiven(parameters.sslcert, join(postgresDir, 'postgresql.crt'));
  const key = cert === undefined ? undefined : await readIfGiven(parameters.sslkey, join(postgresDir, 'postgresql.key'));
  const clientCertificate: ConnectionOptions = cert && key ? { cert, key } : {};
  const noVerify: ConnectionOptions = { ...clientCertificate, rejectUnauthorized: false };

  const verified = async (checkHostName: boolean): Promise<ConnectionOptions> => {
    const rootCert = parameters.sslrootcert ?? join(postgresDir, 'root.crt');
    // 'system' means the platform's trusted CAs, which is Node's default.
    const ca = rootCert === 'system' ? undefined : await readFile(rootCert);
    return {
      ...clientCertificate,
      ...(ca === undefined ? {} : { ca }),
      rejectUnauthorized: true,
      servername: settings.host.startsWith('/') ? undefined : settings.host,
      ...(checkHostName ? {} : { checkServerIdentity: () => undefined }),
    };
  };

  switch (parameters.sslmode ?? 'prefer') {
    case 'disable':
      return [false];
    case 'allow':
      return [false, noVerify];
    case 'require':
      return [parameters.sslrootcert === undefined ? noVerify : await verified(false)];
    case 'verify-ca':
      return [await verified(false)];
    case 'verify-full':
      return [await verified(true)];
    default:
      return [noVerify, false];
  }
}

function shouldFallBack(error: unknown): boolean {
  const record = error as { message?: unknown; code?: unknown };
  // 28000: pg_hba.conf has no entry for this kind of connection (with or without TLS).
  return record.message === SSL_UNSUPPORTED || record.code === '28000';
}

/** A `pg` client configuration with the same connection parameters libpq gets from {@link toLibpqEnv}. */
export function pgClientConfig(settings: ConnectionSettings, ssl: false | ConnectionOptions): ClientConfig {
  const parameters = settings.parameters;
  const timeout = Number(parameters.connect_timeout ?? 0);
  return {
    // libpq connects to hostaddr when given and keeps host for TLS checks.
    host: parameters.hostaddr ?? settings.host,
    port: settings.port,
    user: settings.user,
    database: settings.database,
    // A callback rather than a value: `pg` would otherwise fall back to an
    // inherited PGPASSWORD that pg_dump never sees.
    password: (async () => {
      const password = settings.password ?? (await lookUpPassfilePassword(settings));
      if (password === undefined) throw new NoPasswordError();
      return password;
    }) as () => Promise<string>,
    ssl,
    sslnegotiation: ssl !== false && parameters.sslnegotiation === 'direct' ? 'direct' : 'postgres',
    application_name: parameters.application_name ?? 'backupctl',
    ...(parameters.options === undefined ? {} : { options: parameters.options }),
    ...(parameters.client_encoding === undefined ? {} : { client_encoding: parameters.client_encoding }),
    // libpq treats a timeout below 2 s as 2 s, and 0 as none.
    ...(timeout > 0 ? { connectionTimeoutMillis: Math.max(timeout, 2) * 1000 } : {}),
  };
}

function abortedError(): BackupctlError {
  return new BackupctlError(ErrorCodes.ABORTED, 'connecting to PostgreSQL was aborted');
}

/**
 * Opens one `pg` connection to the database the settings name (TLS fallback
 * included, as libpq does it). Rejects with the driver's error, or ABORTED
 * when the signal fires first.
 */
export async function connectClient(settings: ConnectionSettings, signal?: AbortSignal): Promise<Client> {
  const attempts = await sslAttempts(settings);
  for (const [index, ssl] of attempts.entries()) {
    if (signal?.aborted) throw abortedError();
    const client = new Client(pgClientConfig(settings, ssl));
    // An idle client may still emit 'error' (server restart); it must not crash the process.
    client.on('error', () => {});
    // pg's connect() never settles when end() closes the socket mid-handshake:
    // an abort must settle the attempt itself.
    let rejectAborted: (error: Error) => void = () => {};
    const aborted = new Promise<never>((_, reject) => (rejectAborted = reject));
    aborted.catch(() => {});
    const onAbort = (): void => {
      rejectAborted(abortedError());
      void client.end().catch(() => {});
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([client.connect(), aborted]);
      if (signal?.aborted) throw abortedError();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      if (signal?.aborted) throw abortedError();
      if (index < attempts.length - 1 && shouldFallBack(error)) continue;
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  throw new Error('no connection attempt was made');
}
