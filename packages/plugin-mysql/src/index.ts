import { Type, definePlugin } from '@backupctl/plugin-api';
import { connectionUrlProblem, parseConnectionUrl } from './connection-url.js';
import { dumpArgsProblem } from './dump-args.js';
import { createMysqlSource } from './mysql-source.js';
import { mysqlRestoreHelp } from './restore-help.js';

export { describeSettings, parseConnectionUrl } from './connection-url.js';

export default definePlugin({
  name: 'mysql',
  kind: 'source',
  description: 'Streams a MySQL 8 or MariaDB 10.6+ database with mariadb-dump / mysqldump (SQL).',
  schema: Type.Object(
    {
      url: Type.String({
        minLength: 1,
        // Checked when the file loads, so a wrong URL is a config error (exit 2) naming its line; never echoed.
        pattern: '^(mysql|mariadb)://',
        errorMessage: 'must be a mysql:// or mariadb:// URL',
        description:
          'Connection URL, mysql://user:password@host:3306/database (or mariadb://). Percent-encode special characters in the user and password. ' +
          'The password reaches the tools through a private option file, never argv.',
        examples: ['${MYSQL_URL}'],
      }),
      retryAttempts: Type.Integer({
        minimum: 1,
        default: 5,
        description: 'Connection attempts before giving up. Only network failures and a server shutting down or out of connections are retried.',
      }),
      retryDelaySeconds: Type.Number({
        minimum: 0,
        default: 2,
        description: 'Seconds to wait after the first failed attempt; each next wait doubles: 2, 4, 8, 16 s.',
      }),
      dumpPath: Type.String({
        default: '',
        description:
          "Dump tool to run. Empty: MYSQLDUMP_PATH, else mariadb-dump (MariaDB) or mysqldump (MySQL) from PATH, the server's own engine first; a MySQL tool older than the server or dumping MariaDB is refused.",
      }),
      args: Type.Array(Type.String(), {
        default: [],
        description:
          'Extra dump tool options, e.g. ["--ignore-table=shop.audit_log"]. Output, connection and database options (--result-file, --host, --user, --password, --databases, ...) are refused.',
      }),
      // Whole servers (whole-server.ts): one backup per database, plus the accounts.
      databases: Type.Optional(
        Type.Union([Type.Literal('all'), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
          description:
            'Back up several databases of the URL\'s server, each as its own object under <prefix><db>/: "all" (every database the account sees, information_schema, performance_schema, mysql and sys left out) or a list of names. Unset: the URL\'s database only.',
        }),
      ),
      users: Type.Optional(
        Type.Boolean({
          default: false,
          description:
            "Also back up the server's accounts and their grants (password hashes included; root and the server's own accounts left out) under <prefix>users/, so a restore onto a new server works. Restore runs it first.",
        }),
      ),
      dump: Type.Optional(
        Type.Union([Type.Literal('database'), Type.Literal('users')], {
          description: 'Internal: set by backupctl on each part of a whole-server job (databases, users). Do not set it in a pipeline file.',
        }),
      ),
      lock: Type.Optional(
        Type.Boolean({
          default: true,
          description:
            'Hold a GET_LOCK lock named after the database and job while the job runs, so a second run of the same job started meanwhile (on any machine) skips instead of backing up twice.',
        }),
      ),
      manifest: Type.Optional(
        Type.Boolean({
          default: true,
          description:
            "Count every table's rows in the dump's own INSERT statements as they stream past, for the backup's manifest (verify compares a restore with it; the anomaly guard with the previous backup). false: no counts.",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  checkOptions(options) {
    const problem = connectionUrlProblem(options.url) ?? dumpArgsProblem(options.args);
    if (problem) return problem;
    if (options.dump === undefined && options.databases === undefined && parseConnectionUrl(options.url).database === '') {
      return 'url names no database: add it to the URL (mysql://user:password@host:3306/database), or set databases: all';
    }
    return undefined;
  },
  create: (options, context) => createMysqlSource(options, context),
  restoreHelp: mysqlRestoreHelp,
});
