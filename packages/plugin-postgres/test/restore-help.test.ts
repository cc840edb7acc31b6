import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const PASSWORD = 'pw-Secret-9x';
const URL = `postgresql://clara:${PASSWORD}@db.internal:5432/clara_main`;

function load(options: Record<string, unknown>, setting: { variables?: Record<string, string>; job?: string; partOf?: string } = {}, file = 'clara.sql') {
  return plugin.restoreHelp!.load(file, restoreHelpContext(plugin, { url: URL, ...options }, { job: 'clara', ...setting }));
}

describe('postgres restoreHelp', () => {
  it('loads plain SQL with psql into the database of the url variable, or into a new one first', () => {
    const steps = load({}, { variables: { url: 'DATABASE_URL' } });
    expect(steps).toEqual({
      ways: [
        {
          text: 'Full restore (the database must be empty: this dump does not drop existing objects)',
          commands: ['psql -v ON_ERROR_STOP=1 --single-transaction "$DATABASE_URL" < clara.sql'],
        },
        {
          text: 'Or restore to a new database first',
          commands: [
            'createdb --maintenance-db="$DATABASE_URL" clara_restore',
            'psql -v ON_ERROR_STOP=1 --single-transaction "${DATABASE_URL%/*}/clara_restore" < clara.sql',
          ],
        },
      ],
      newTarget: '"${DATABASE_URL%/*}/clara_restore"',
    });
    expect(JSON.stringify(steps)).not.toContain(PASSWORD);
  });

  it('uses pg_restore for the custom format and placeholders for a URL written in the file', () => {
    const steps = load({ format: 'custom' }, {}, 'clara.dump');
    expect(steps.ways.flatMap((way) => way.commands)).toEqual([
      'pg_restore --clean --if-exists --exit-on-error --single-transaction --dbname="<URL of the clara database>" clara.dump',
      'createdb --maintenance-db="<URL of the clara database>" clara_restore',
      'pg_restore --exit-on-error --single-transaction --dbname="<URL of the new clara_restore database>" clara.dump',
    ]);
    expect(steps.newTarget).toBe('"<URL of the new clara_restore database>"');
    expect(JSON.stringify(steps)).not.toMatch(/pw-Secret|db\.internal/);
  });

  it('warns when the dump drops first, and when ${VAR%/*} drops URL parameters', () => {
    const steps = load({ url: `${URL}?sslmode=require`, args: ['--clean', '--if-exists'] }, { variables: { url: 'DATABASE_URL' } });
    expect(steps.ways[0]!.text).toBe('Full restore (WARNING: the dump drops and recreates its objects)');
    expect(steps.ways[1]!.commands).toContain('# ${DATABASE_URL%/*} drops the ?parameters of DATABASE_URL: add them back (e.g. sslmode) if needed.');
  });

  it("names a whole server's parts on the job's server, the globals with psql onto postgres", () => {
    const server = { url: 'postgresql://admin:x@db.internal:5432/postgres' };
    const variables = { url: 'SERVER_URL' };
    const globals = load({ ...server, dump: 'globals' }, { job: 'globals', partOf: 'server', variables }, 'globals.sql');
    expect(globals.ways).toEqual([
      {
        text: 'Roles and tablespaces first; those that exist already fail with "already exists" and are kept',
        commands: ['psql "${SERVER_URL%/*}/postgres" < globals.sql'],
      },
    ]);
    const crm = load({ ...server, dump: 'database' }, { job: 'crm', partOf: 'server', variables }, 'crm.sql');
    expect(crm.ways[0]!.commands).toEqual(['psql -v ON_ERROR_STOP=1 --single-transaction "${SERVER_URL%/*}/crm" < crm.sql']);
    expect(crm.ways[1]!.commands[0]).toBe('createdb --maintenance-db="${SERVER_URL%/*}/crm" crm_restore');
  });
});
