import { describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../src/connection-url.js';
import { buildGlobalsArgs, urlWithDatabase, wholeServerParts } from '../src/whole-server.js';

const URL = 'postgresql://clara:p%40ss%2Fw@db.internal:5432/clara_main?sslmode=require&dbname=clara_main&application_name=x';
const base = { url: URL, format: 'plain', retryAttempts: 5, retryDelaySeconds: 2, pgDumpPath: '', args: [] };

describe('urlWithDatabase', () => {
  it('replaces the database and drops a dbname parameter, keeping credentials and other parameters', () => {
    const url = urlWithDatabase(URL, 'shop floor');
    expect(url).toBe('postgresql://clara:p%40ss%2Fw@db.internal:5432/shop%20floor?sslmode=require&application_name=x');
    expect(parseConnectionUrl(url)).toMatchObject({ database: 'shop floor', user: 'clara', password: 'p@ss/w', parameters: { sslmode: 'require' } });
  });

  it('adds a database to a URL without one', () => {
    expect(urlWithDatabase('postgres://u@h', 'db')).toBe('postgres://u@h/db');
    expect(urlWithDatabase('postgres://u@h?sslmode=disable', 'db')).toBe('postgres://u@h/db?sslmode=disable');
  });
});

describe('wholeServerParts', () => {
  const server = async () => ['clara_main', 'crm', 'postgres'];

  it('does not expand the URL\'s one database', async () => {
    expect(await wholeServerParts(base, 'clara_main', server)).toBeUndefined();
    expect(await wholeServerParts({ ...base, dump: 'database', globals: true }, 'clara_main', server)).toBeUndefined();
  });

  it('expands all into every listed database, globals first, without the whole-server options', async () => {
    const parts = await wholeServerParts({ ...base, databases: 'all', globals: true, globalsWithPasswords: true }, 'clara_main', server);
    expect(parts?.map((part) => part.name)).toEqual(['globals', 'clara_main', 'crm', 'postgres']);
    expect(parts?.[0]?.options).toEqual({ ...base, dump: 'globals', globalsWithPasswords: true });
    expect(parts?.[2]?.options).toEqual({ ...base, url: urlWithDatabase(URL, 'crm'), dump: 'database' });
  });

  it('moves lockUrl to each part\'s database, as it does url: workers dumping from replicas lock on one server', async () => {
    const lockUrl = 'postgresql://backup:pw@pg-main-rw:5432/app';
    const parts = await wholeServerParts({ ...base, databases: ['crm'], globals: true, lockUrl }, 'clara_main', server);
    expect(parts?.[0]?.options).toMatchObject({ dump: 'globals', lockUrl });
    expect(parts?.[1]?.options).toMatchObject({ dump: 'database', url: urlWithDatabase(URL, 'crm'), lockUrl: urlWithDatabase(lockUrl, 'crm') });
  });

  it('with globals alone, backs up the URL\'s database and the globals without asking the server', async () => {
    const parts = await wholeServerParts({ ...base, globals: true }, 'clara_main', () => Promise.reject(new Error('not asked')));
    expect(parts?.map((part) => part.name)).toEqual(['globals', 'clara_main']);
  });

  it('refuses a listed database the server does not have, naming it', async () => {
    await expect(wholeServerParts({ ...base, databases: ['crm', 'gone'] }, 'clara_main', server)).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: 'database gone named in databases does not exist on the server (or cannot be connected to)',
    });
  });

  it('refuses a database named globals next to the globals part', async () => {
    await expect(wholeServerParts({ ...base, databases: 'all', globals: true }, 'x', async () => ['globals'])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('for restore, takes the names found in the store', async () => {
    const parts = await wholeServerParts({ ...base, databases: ['crm'], globals: true }, 'x', () => Promise.reject(new Error('not asked')), ['crm', 'globals', 'old']);
    expect(parts?.map((part) => [part.name, part.options.dump])).toEqual([['globals', 'globals'], ['crm', 'database'], ['old', 'database']]);
  });
});

describe('buildGlobalsArgs', () => {
  it('leaves out role passwords unless asked', () => {
    expect(buildGlobalsArgs('postgres', false)).toEqual(['--no-password', '--globals-only', '--database=postgres', '--no-role-passwords']);
    expect(buildGlobalsArgs('postgres', true)).toEqual(['--no-password', '--globals-only', '--database=postgres']);
  });
});
