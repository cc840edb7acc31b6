import { userInfo } from 'node:os';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';

/**
 * libpq connection keywords that may appear as URL query parameters, with
 * the environment variable that carries each to libpq (pg_dump, psql,
 * pg_restore). The URL's own parts (host, port, user, password, database)
 * are carried the same way.
 */
export const LIBPQ_ENV_BY_PARAMETER: Readonly<Record<string, string>> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  channel_binding: 'PGCHANNELBINDING',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  client_encoding: 'PGCLIENTENCODING',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  sslmode: 'PGSSLMODE',
  sslnegotiation: 'PGSSLNEGOTIATION',
  sslcompression: 'PGSSLCOMPRESSION',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcertmode: 'PGSSLCERTMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  sslcrldir: 'PGSSLCRLDIR',
  sslsni: 'PGSSLSNI',
  requirepeer: 'PGREQUIREPEER',
  require_auth: 'PGREQUIREAUTH',
  ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
  ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  gsslib: 'PGGSSLIB',
  gssdelegation: 'PGGSSDELEGATION',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  load_balance_hosts: 'PGLOADBALANCEHOSTS',
};

// libpq knows these, but has no environment variable for them, so they could
// not reach pg_dump without putting the connection on its command line.
const NOT_PASSABLE = new Set([
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'sslpassword',
  'replication',
]);

// A service file can name another host, which the pre-flight `pg` connection
// could not follow; the URL is the single place the connection is described.
const REFUSED = new Map([['service', 'service files are not supported: put the connection in the URL']]);

const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);

/** What a postgres:// URL says, with libpq's defaults filled in. */
export interface ConnectionSettings {
  /** Host name, IP address or (starting with `/`) a Unix-socket directory. */
  host: string;
  port: number;
  user: string;
  /** Undefined when the URL has none (libpq then looks in the password file). */
  password?: string;
  database: string;
  /** Every other libpq keyword given as a query parameter (sslmode, options, ...), decoded. */
  parameters: Readonly<Record<string, string>>;
  /** Every form of the password that appears in the URL (decoded and as written), to redact. */
  secrets: readonly string[];
}

/** Defaults libpq takes from the machine; injectable for tests. */
export interface ConnectionDefaults {
  /** libpq's default user is the operating-system user. */
  osUser?: string;
}

const DEFAULT_HOST = 'localhost';
const DEFAULT_PORT = 5432;

function invalid(message: string, hint?: string): BackupctlError {
  return new BackupctlError(ErrorCodes.CONFIG_INVALID, `url: ${message}`, {
    hint: hint ?? 'write it as postgresql://user:password@host:5432/database, percent-encoding special characters',
  });
}

function decode(text: string, part: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw invalid(`the ${part} has an invalid percent-encoding`);
  }
  // libpq refuses %00 too: no C string (or environment variable) can hold it.
  if (decoded.includes('\0')) throw invalid(`the ${part} contains %00`);
  return decoded;
}

function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): fall back to the environment.
    return process.env.USER ?? process.env.LOGNAME ?? 'postgres';
  }
}

function splitHostPort(hostPort: string): { host?: string; port?: string } {
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw invalid('an IPv6 host is missing its closing "]"');
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw invalid('unexpected text after the IPv6 host');
    return { host: hostPort.slice(1, close), port: after === '' ? undefined : after.slice(1) };
  }
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0) return { host: hostPort === '' ? undefined : hostPort };
  return { host: hostPort.slice(0, colon) || undefined, port: hostPort.slice(colon + 1) };
}

function parsePort(text: string): number {
  // The value is never echoed: when a password holds an unescaped ':' or '/',
  // what lands here may be a piece of it.
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw invalid('the port is not a number from 1 to 65535');
  return port;
}

function parseQuery(query: string): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    if (equals < 0) throw invalid(`query parameter "${decode(pair, 'query')}" has no "=value"`);
    let key = decode(pair.slice(0, equals), 'query');
    let value = decode(pair.slice(equals + 1), `"${key}" parameter`);
    // libpq's own JDBC-compatibility spelling.
    if (key === 'ssl' && value === 'true') [key, value] = ['sslmode', 'require'];
    if (REFUSED.has(key)) throw invalid(`query parameter "${key}": ${REFUSED.get(key)}`);
    if (NOT_PASSABLE.has(key)) {
      throw invalid(
        `query parameter "${key}" is not supported: libpq has no environment variable for it, and the connection never goes on pg_dump's command line`,
        'remove it from the URL',
      );
    }
    if (!(key in LIBPQ_ENV_BY_PARAMETER)) {
      throw invalid(
        `unknown query parameter "${key}"`,
        `use libpq connection keywords (${Object.keys(LIBPQ_ENV_BY_PARAMETER).filter((name) => name.startsWith('ssl')).join(', ')}, application_name, connect_timeout, options, target_session_attrs, ...)`,
      );
    }
    parameters.set(key, value);
  }
  return parameters;
}

function validateParameters(parameters: Map<string, string>): void {
  const sslmode = parameters.get('sslmode');
  if (sslmode !== undefined && !SSL_MODES.has(sslmode)) {
    throw invalid(`sslmode "${sslmode}" is not one of ${[...SSL_MODES].join(', ')}`);
  }
  const timeout = parameters.get('connect_timeout');
  if (timeout !== undefined && !/^\d+$/.test(timeout)) throw invalid('connect_timeout must be a whole number of seconds');
}

/**
 * Parses a `postgres://` or `postgresql://` URL the way libpq reads it:
 * percent-decoded parts, query parameters as libpq keywords (overriding the
 * URL's own parts), user defaulting to the operating-system user and the
 * database to the user. One deliberate difference: with no host, libpq uses
 * its Unix socket, here the host is `localhost` (write
 * `?host=/var/run/postgresql` for the socket).
 *
 * Throws BackupctlError CONFIG_INVALID saying what is wrong, never echoing
 * the password.
 */
export function parseConnectionUrl(url: string, defaults: ConnectionDefaults = {}): ConnectionSettings {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (!scheme) throw invalid('not a URL; expected postgresql://user:password@host:port/database');
  const schemeName = scheme[1]!.toLowerCase();
  if (schemeName !== 'postgres' && schemeName !== 'postgresql') {
    throw invalid(`scheme "${schemeName}:" is not supported; use postgres:// or postgresql://`);
  }
  const rest = url.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd < 0 ? '' : rest.slice(authorityEnd);

  const at = authority.lastIndexOf('@');
  if (at < 0 && afterAuthority.includes('@')) {
    // Most likely a password holding an unescaped '/' or '?': everything after
    // it would be read as the database, so stop before it reaches a log line.
    throw invalid(
      'found "@" after the host; if the user or password contains "/", "?" or "@", percent-encode them (%2F, %3F, %40)',
    );
  }
  const credentials = at < 0 ? undefined : authority.slice(0, at);
  const hostPort = at < 0 ? authority : authority.slice(at + 1);

  const secrets: string[] = [];
  let user: string | undefined;
  let password: string | undefined;
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    user = decode(colon < 0 ? credentials : credentials.slice(0, colon), 'user name') || undefined;
    if (colon >= 0) {
      const rawPassword = credentials.slice(colon + 1);
      password = decode(rawPassword, 'password') || undefined;
      secrets.push(rawPassword);
    }
  }

  if (hostPort.includes(',')) throw invalid('several hosts are not supported; name one host');
  const split = splitHostPort(hostPort);
  let host = split.host === undefined ? undefined : decode(split.host, 'host');
  let port = split.port === undefined || split.port === '' ? undefined : parsePort(split.port);

  const queryStart = afterAuthority.indexOf('?');
  const path = queryStart < 0 ? afterAuthority : afterAuthority.slice(0, queryStart);
  let database = path.length > 1 ? decode(path.slice(1), 'database name') : undefined;
  const parameters = parseQuery(queryStart < 0 ? '' : afterAuthority.slice(queryStart + 1));
  validateParameters(parameters);

  // Query parameters override the URL's own parts, as in libpq.
  const take = (key: string): string | undefined => {
    const value = parameters.get(key);
    parameters.delete(key);
    return value;
  };
  host = take('host') ?? host;
  const portParameter = take('port');
  if (portParameter !== undefined) port = parsePort(portParameter);
  user = take('user') ?? user;
  const passwordParameter = take('password');
  if (passwordParameter !== undefined) {
    password = passwordParameter || undefined;
    secrets.push(passwordParameter);
  }
  database = take('dbname') ?? database;

  if (password !== undefined) secrets.push(password);
  const resolvedUser = user ?? defaults.osUser ?? osUserName();
  return {
    host: host ?? DEFAULT_HOST,
    port: port ?? DEFAULT_PORT,
    user: resolvedUser,
    password,
    database: database ?? resolvedUser,
    parameters: Object.fromEntries(parameters),
    secrets: [...new Set(secrets.filter((secret) => secret !== ''))],
  };
}

/** `host:port/database` for messages: the settings without user or password. */
export function describeSettings(settings: Pick<ConnectionSettings, 'host' | 'port' | 'database'>): string {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return `${host}:${settings.port}/${settings.database}`;
}

/**
 * `host:port/database` of a connection URL, for log lines and errors: never
 * the user or password. Throws CONFIG_INVALID when the URL cannot be read.
 */
export function describeTarget(url: string): string {
  return describeSettings(parseConnectionUrl(url));
}
