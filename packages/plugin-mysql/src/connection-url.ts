/** What a `mysql://` URL says: where to connect, as whom, to which database. */
export interface ConnectionSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Empty when the URL names no database (a whole server's URL). */
  database: string;
  /** The password and the user's credentials in every form they may be printed (decoded, encoded). */
  secrets: string[];
}

/** MySQL limits database names to 64 characters. */
export const MAX_DATABASE_NAME = 64;

/**
 * Why `url` is not a usable connection URL, or undefined. Checked when the
 * pipeline loads (bad input, exit 2); never quotes the URL, which holds the
 * password.
 */
export function connectionUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url is not a valid URL (percent-encode special characters in the user and password)';
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') return 'url must start with mysql:// or mariadb://';
  if (parsed.hostname === '') return 'url names no host';
  if (parsed.username === '') return 'url names no user (mysql://user:password@host:3306/database)';
  if (parsed.search !== '') return 'url has query parameters, which the mysql source does not read (TLS and sockets are not supported yet)';
  const database = safeDecode(parsed.pathname.replace(/^\//, ''));
  if (database === undefined) return 'url has a badly percent-encoded database name';
  if (database.includes('/')) return 'url has more than one path segment: name the database only (mysql://user:password@host:3306/database)';
  if (database.length > MAX_DATABASE_NAME) return `url names a database longer than ${MAX_DATABASE_NAME} characters`;
  if (safeDecode(parsed.username) === undefined || safeDecode(parsed.password) === undefined) return 'url has a badly percent-encoded user or password';
  return undefined;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The settings of a URL that passed connectionUrlProblem. */
export function parseConnectionUrl(url: string): ConnectionSettings {
  const problem = connectionUrlProblem(url);
  if (problem) throw new Error(problem);
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
    secrets: [password, parsed.password].filter((secret) => secret !== ''),
  };
}

/** `host:port/database` for logs and messages: never the user's password. */
export function describeSettings(settings: Pick<ConnectionSettings, 'host' | 'port' | 'database'>): string {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return `${host}:${settings.port}${settings.database === '' ? '' : `/${settings.database}`}`;
}

/** The same URL naming another database (its path replaced; user, password and host as written). */
export function urlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
