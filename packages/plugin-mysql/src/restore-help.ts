import { shellWord, type RestoreHelpCommands, type RestoreHelpContext, type SourceRestoreHelp } from '@backupctl/plugin-api';

/** The options restore-help reads; typed loosely, as for a skipped job they did not pass the schema. */
export interface MysqlHelpOptions {
  url?: unknown;
  dump?: unknown;
}

/** What the commands may show of the URL: its host and port (never the user or password). */
function serverOf(url: unknown): { host: string; port: string; database: string } | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: parsed.port || '3306', database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) };
  } catch {
    return undefined;
  }
}

/** Backquotes a database name for SQL inside a shell word. */
const backquote = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/**
 * restore-help: the mariadb (or mysql) client loads the dump. The client
 * takes no URL and the password must stay out of argv, so the first lines
 * write a private option file (user and password as placeholders: they are
 * in the URL's variable, which is never printed); then into the job's
 * database (which must be empty: the load is not one transaction), or a
 * new one first. A whole server's users part goes to the server without a
 * database.
 */
export const mysqlRestoreHelp: SourceRestoreHelp<MysqlHelpOptions> = {
  load(file, context: RestoreHelpContext<MysqlHelpOptions>) {
    const { options } = context;
    const server = serverOf(options.url);
    const variable = context.variable('url');
    const users = context.partOf !== undefined && options.dump === 'users';
    const database = context.partOf !== undefined ? context.job : server?.database || context.job;
    const fresh = `${database}_restore`;
    const dump = shellWord(file);
    const optionFile: RestoreHelpCommands = {
      text:
        `The client takes no URL and the password must stay out of argv: put the user and password of ${variable ? `$${variable}` : `the ${database} database's URL`} ` +
        'in a private option file (mariadb and mysql read it when it comes first)',
      commands: [
        `umask 077; printf '[client]\\nhost=%s\\nport=%s\\nuser=%s\\npassword=%s\\n' ${shellWord(server?.host || '<host>')} ${shellWord(server?.port ?? '3306')} '<user>' '<password>' > restore.cnf`,
      ],
    };
    const client = 'mariadb --defaults-file=restore.cnf';
    if (users) {
      return {
        ways: [
          optionFile,
          { text: 'Accounts and grants first (CREATE USER IF NOT EXISTS: accounts that exist are kept, grants are added)', commands: [`${client} < ${dump}`] },
        ],
      };
    }
    const target = variable && context.partOf === undefined ? `"\${${variable}%/*}/${fresh}"` : `"<URL of the new ${fresh} database>"`;
    return {
      ways: [
        optionFile,
        {
          text:
            'Full restore (the database must be empty: MySQL and MariaDB commit DDL implicitly, so the load is not one transaction; ' +
            'the dump drops and recreates each table it holds). With MySQL\'s client, use mysql instead of mariadb',
          commands: [`${client} ${shellWord(database)} < ${dump}`],
        },
        {
          text: 'Or restore to a new database first (drop it again if the load fails)',
          commands: [
            `${client} -e ${shellWord(`CREATE DATABASE ${backquote(fresh)} CHARACTER SET utf8mb4`)}`,
            `${client} ${shellWord(fresh)} < ${dump}`,
          ],
        },
      ],
      newTarget: target,
    };
  },
};
