import { shellWord, type RestoreHelpContext, type RestoreHelpCommands, type SourceRestoreHelp } from '@backupctl/plugin-api';

/**
 * The options restore-help reads. Typed loosely on purpose: for a job
 * skipped here (MEM0_DATABASE_URL unset) they did not pass the schema.
 */
export interface PostgresHelpOptions {
  url?: unknown;
  format?: unknown;
  args?: unknown;
  dump?: unknown;
}

/**
 * restore-help: load the dump with psql (plain SQL) or pg_restore (custom
 * format), into the job's database or a new one first; a whole server's
 * globals part with psql onto the server's `postgres` database. Databases
 * are named through the variable of `url` (`"$DATABASE_URL"`,
 * `"${DATABASE_URL%/*}/clara_restore"`), never by the URL, which holds the
 * password.
 */
export const postgresRestoreHelp: SourceRestoreHelp<PostgresHelpOptions> = {
  load(file, context) {
    const { options } = context;
    const part = context.partOf !== undefined;
    const globals = part && options.dump === 'globals';
    const database = databaseReference(context, part ? (globals ? 'postgres' : context.job) : undefined);
    const dump = shellWord(file);
    if (globals) {
      return {
        ways: [
          {
            text: 'Roles and tablespaces first; those that exist already fail with "already exists" and are kept',
            commands: [`psql ${database.current} < ${dump}`],
          },
        ],
      };
    }
    const createdb = `createdb --maintenance-db=${database.current} ${database.freshName}`;
    const note = database.note ? [database.note] : [];
    let ways: RestoreHelpCommands[];
    if (options.format === 'custom') {
      ways = [
        {
          text: 'Full restore (WARNING: drops and recreates the objects in the backup)',
          commands: [`pg_restore --clean --if-exists --exit-on-error --single-transaction --dbname=${database.current} ${dump}`],
        },
        {
          text: 'Or restore to a new database first',
          commands: [createdb, ...note, `pg_restore --exit-on-error --single-transaction --dbname=${database.fresh} ${dump}`],
        },
      ];
    } else {
      const psql = 'psql -v ON_ERROR_STOP=1 --single-transaction';
      const extraArgs = Array.isArray(options.args) ? options.args.map(String) : [];
      const dropsFirst = extraArgs.some((arg) => arg === '-c' || arg === '--clean');
      ways = [
        {
          text: dropsFirst
            ? 'Full restore (WARNING: the dump drops and recreates its objects)'
            : 'Full restore (the database must be empty: this dump does not drop existing objects)',
          commands: [`${psql} ${database.current} < ${dump}`],
        },
        { text: 'Or restore to a new database first', commands: [createdb, ...note, `${psql} ${database.fresh} < ${dump}`] },
      ];
    }
    return { ways, newTarget: database.fresh };
  },
};

/** How the commands name a database: shell words that never hold its URL. */
interface DatabaseReference {
  /** The job's database, e.g. `"$DATABASE_URL"`. */
  current: string;
  /** A new database on the same server, e.g. `"${DATABASE_URL%/*}/clara_restore"`. */
  fresh: string;
  /** Its name, e.g. clara_restore. */
  freshName: string;
  /** Why `fresh` may need a manual touch (a `#` comment). */
  note?: string;
}

/**
 * The job's database, or for a part of a whole-server job `database`: the
 * database of that name on the server the job's URL points at (`"${URL%/*}/crm"`).
 */
function databaseReference(context: RestoreHelpContext<PostgresHelpOptions>, database?: string): DatabaseReference {
  const name = database ?? context.job;
  const freshName = `${name}_restore`;
  const variable = context.variable('url');
  if (!variable) {
    return { current: `"<URL of the ${name} database>"`, fresh: `"<URL of the new ${freshName} database>"`, freshName };
  }
  const current = database === undefined ? `"$${variable}"` : `"\${${variable}%/*}/${database}"`;
  const reference: DatabaseReference = { current, fresh: `"\${${variable}%/*}/${freshName}"`, freshName };
  // The value itself is only inspected, never printed: `${VAR%/*}` swaps the
  // database name only in URLs that end with it.
  const url = parseUrl(typeof context.options.url === 'string' ? context.options.url : '');
  if (url && (url.pathname === '' || url.pathname === '/')) {
    return database === undefined
      ? { ...reference, fresh: `"<URL of the new ${freshName} database>"` }
      : { current: `"<URL of the ${name} database>"`, fresh: `"<URL of the new ${freshName} database>"`, freshName };
  }
  if (url?.search) return { ...reference, note: `# \${${variable}%/*} drops the ?parameters of ${variable}: add them back (e.g. sslmode) if needed.` };
  return reference;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
