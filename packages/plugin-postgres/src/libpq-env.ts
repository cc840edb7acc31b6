import { LIBPQ_ENV_BY_PARAMETER, type ConnectionSettings } from './connection-url.js';

/**
 * The libpq environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE,
 * PGPASSWORD, PGSSLMODE, ...) that make pg_dump, psql or pg_restore connect
 * where the settings say, so the connection never appears in a child's argv.
 */
export function toLibpqEnv(settings: ConnectionSettings): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: settings.host,
    PGPORT: String(settings.port),
    PGUSER: settings.user,
    PGDATABASE: settings.database,
  };
  if (settings.password !== undefined) env.PGPASSWORD = settings.password;
  for (const [parameter, value] of Object.entries(settings.parameters)) {
    const name = LIBPQ_ENV_BY_PARAMETER[parameter];
    if (name !== undefined) env[name] = value;
  }
  return env;
}

/**
 * The environment for a libpq child process: the parent's, without any
 * inherited `PG*` variable (a developer's PGHOST or PGSERVICE must not
 * redirect a backup or a restore), plus the given libpq variables.
 */
export function childEnv(libpqEnv: Record<string, string>, parentEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parentEnv)) {
    if (!name.toUpperCase().startsWith('PG')) env[name] = value;
  }
  return { ...env, ...libpqEnv };
}
