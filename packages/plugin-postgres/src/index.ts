import { Type, definePlugin } from '@backupctl/plugin-api';
import { createPostgresSource } from './postgres-source.js';
import { postgresRestoreHelp } from './restore-help.js';

export { describeTarget } from './connection-url.js';

export default definePlugin({
  name: 'postgres',
  kind: 'source',
  description: 'Streams a PostgreSQL database with pg_dump (plain SQL or custom format).',
  schema: Type.Object(
    {
      url: Type.String({
        minLength: 1,
        // Checked when the file loads, so a wrong URL is a config error (exit 2) naming its line; never echoed.
        pattern: '^postgres(ql)?://',
        errorMessage: 'must be a postgres:// or postgresql:// URL',
        description:
          'Connection URL, postgres://user:password@host:5432/database?sslmode=require. Percent-encode special characters in the user and password; query parameters are libpq keywords.',
        examples: ['${DATABASE_URL}'],
      }),
      format: Type.Union([Type.Literal('plain'), Type.Literal('custom')], {
        default: 'plain',
        description: "pg_dump's output format: plain SQL (.sql, restore with psql) or custom (.dump, restore with pg_restore).",
      }),
      retryAttempts: Type.Integer({
        minimum: 1,
        default: 5,
        description: 'Connection attempts before giving up (DB_RETRY_ATTEMPTS). Only network failures and a starting server are retried.',
      }),
      retryDelaySeconds: Type.Number({
        minimum: 0,
        default: 2,
        description: 'Seconds to wait after the first failed attempt (DB_RETRY_DELAY); each next wait doubles: 2, 4, 8, 16 s.',
      }),
      pgDumpPath: Type.String({
        default: '',
        description:
          'pg_dump binary to run. Empty: PG_DUMP_PATH, else the oldest /usr/lib/postgresql/<N>/bin/pg_dump able to dump the server, else pg_dump on PATH if new enough.',
      }),
      args: Type.Array(Type.String(), {
        default: [],
        description:
          'Extra pg_dump arguments, e.g. ["--no-owner", "--exclude-table=audit_log"]. Output, format and connection options (-f, -F, -d, -h, -p, -U, -W) are refused.',
      }),
      // Whole servers (whole-server.ts): one backup per database, plus the server's globals.
      databases: Type.Optional(
        Type.Union([Type.Literal('all'), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
          description:
            'Back up several databases of the URL\'s server, each as its own object under <prefix><db>/: "all" (every database one can connect to, templates left out) or a list of names. Unset: the URL\'s database only.',
        }),
      ),
      globals: Type.Optional(
        Type.Boolean({
          default: false,
          description:
            'Also back up the server\'s roles and tablespaces (pg_dumpall --globals-only) under <prefix>globals/, so a restore onto a new server works. Restore runs it first.',
        }),
      ),
      globalsWithPasswords: Type.Optional(
        Type.Boolean({
          default: false,
          description: "Keep the roles' password hashes in the globals backup (needs a superuser). Default: left out (--no-role-passwords).",
        }),
      ),
      dump: Type.Optional(
        Type.Union([Type.Literal('database'), Type.Literal('globals')], {
          description: 'Internal: set by backupctl on each part of a whole-server job (databases, globals). Do not set it in a pipeline file.',
        }),
      ),
      lock: Type.Optional(
        Type.Boolean({
          default: true,
          description:
            'Hold a PostgreSQL advisory lock on the database while the job runs, so a second run of the same job started meanwhile (on any machine) skips instead of backing up twice.',
        }),
      ),
      lockUrl: Type.Optional(
        Type.String({
          minLength: 1,
          description:
            "Take the advisory lock (lock) on this server instead of url's, e.g. the primary (CloudNativePG's <cluster>-rw) while dumping from replicas behind one service (<cluster>-ro): runs reaching different replicas still share the lock. Whole servers: each part locks in its own database there. Same form as url.",
        }),
      ),
      manifest: Type.Optional(
        Type.Boolean({
          default: true,
          description:
            "Count every table's rows as the backup holds them, for its manifest (verify compares a restore with it; the anomaly guard with the previous backup). " +
            'Plain dumps are counted in their own bytes; custom archives by count(*) in the dump\'s snapshot (one extra scan). false: no counts (verify then compares with the live database).',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  create: (options, context) => createPostgresSource(options, context),
  restoreHelp: postgresRestoreHelp,
});
