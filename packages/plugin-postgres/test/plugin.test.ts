import { describe, expect, it } from 'vitest';
import { API_VERSION } from '@backupctl/plugin-api';
import plugin, { describeTarget } from '../src/index.js';
import { parseConnectionUrl } from '../src/connection-url.js';
import { toLibpqEnv } from '../src/libpq-env.js';
import { fakeContext } from './fake-context.js';

const URL = 'postgresql://clara:p%40ss@db.internal:5432/clara_main';

/** The options as the runner hands them over: schema defaults filled in. */
function options(overrides: Record<string, unknown> = {}) {
  const defaults = Object.fromEntries(
    Object.entries(plugin.schema.properties).flatMap(([name, schema]) => ('default' in schema ? [[name, schema.default]] : [])),
  );
  return { ...defaults, url: URL, ...overrides } as Parameters<typeof plugin.create>[0];
}

describe('postgres plugin definition', () => {
  it('is a source for this API version whose every option is described', () => {
    expect(plugin).toMatchObject({ name: 'postgres', kind: 'source', apiVersion: API_VERSION });
    for (const [name, schema] of Object.entries(plugin.schema.properties)) {
      expect(schema.description, name).toBeTruthy();
    }
    expect(options()).toEqual({
      url: URL,
      format: 'plain',
      retryAttempts: 5,
      retryDelaySeconds: 2,
      pgDumpPath: '',
      args: [],
      globals: false,
      globalsWithPasswords: false,
      lock: true,
      manifest: true,
    });
  });

  it('gives every option but the url a default and refuses options it does not know', () => {
    const withoutDefault = Object.entries(plugin.schema.properties).filter(([, schema]) => !('default' in schema));
    // databases: unset means the URL's database; dump: set by the runner on a whole-server job's parts; lockUrl: unset means url's server.
    expect(withoutDefault.map(([name]) => name)).toEqual(['url', 'databases', 'dump', 'lockUrl']);
    expect(plugin.schema.additionalProperties).toBe(false);
  });

  it('names a plain artifact .sql and a custom one .dump', async () => {
    const plain = fakeContext();
    await plugin.create(options(), plain.context);
    expect(plain.context.artifact).toEqual({ extension: '.sql', contentType: 'application/sql' });
    const custom = fakeContext();
    await plugin.create(options({ format: 'custom' }), custom.context);
    expect(custom.context.artifact).toEqual({ extension: '.dump', contentType: 'application/octet-stream' });
  });

  it('registers the URL and the password (decoded and as written) as secrets', async () => {
    const { context, secrets } = fakeContext();
    await plugin.create(options(), context);
    expect(secrets).toEqual(expect.arrayContaining([URL, 'p@ss', 'p%40ss']));
  });

  it('throws CONFIG_INVALID from create for a bad URL, with the URL already registered as a secret', async () => {
    const { context, secrets } = fakeContext();
    expect(() => plugin.create(options({ url: 'mysql://root:hunter2@db/app' }), context)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.not.stringContaining('hunter2') }),
    );
    expect(secrets).toContain('mysql://root:hunter2@db/app');
  });

  it('throws CONFIG_INVALID from create for args that change the output or the connection', () => {
    const { context } = fakeContext();
    expect(() => plugin.create(options({ args: ['--no-owner', '--host=evil'] }), context)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('args[1]: --host') }),
    );
  });

  it('exports describeTarget; the URL gives libpq the decoded password and the database', () => {
    expect(describeTarget(URL)).toBe('db.internal:5432/clara_main');
    expect(toLibpqEnv(parseConnectionUrl(URL))).toMatchObject({ PGPASSWORD: 'p@ss', PGDATABASE: 'clara_main' });
  });
});
