import { describe, expect, it } from 'vitest';
import { BackupctlError } from '@backupctl/plugin-api';
import { describeTarget, parseConnectionUrl } from '../src/connection-url.js';
import { childEnv, toLibpqEnv } from '../src/libpq-env.js';

/** The libpq environment a child gets for `url`, as the source and restore build it. */
function libpqEnvFromUrl(url: string): Record<string, string> {
  return toLibpqEnv(parseConnectionUrl(url));
}

function configError(run: () => unknown): BackupctlError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BackupctlError);
    expect((error as BackupctlError).code).toBe('CONFIG_INVALID');
    return error as BackupctlError;
  }
  throw new Error('expected a CONFIG_INVALID error');
}

describe('URL to libpq environment', () => {
  it('maps every part of a plain URL', () => {
    expect(libpqEnvFromUrl('postgresql://clara:s3cret@db.example.com:6543/clara_main')).toEqual({
      PGHOST: 'db.example.com',
      PGPORT: '6543',
      PGUSER: 'clara',
      PGPASSWORD: 's3cret',
      PGDATABASE: 'clara_main',
    });
  });

  it('accepts the postgres:// spelling and defaults the port to 5432', () => {
    expect(libpqEnvFromUrl('postgres://u:p@localhost/db')).toMatchObject({ PGHOST: 'localhost', PGPORT: '5432' });
  });

  it('percent-decodes the user, password, database and host', () => {
    const password = 'p@ss:w/rd?#%+ é';
    const url = `postgresql://${encodeURIComponent('me@corp')}:${encodeURIComponent(password)}@%2Fvar%2Frun%2Fpostgresql/${encodeURIComponent('my db/1')}`;
    const env = libpqEnvFromUrl(url);
    expect(env.PGUSER).toBe('me@corp');
    expect(env.PGPASSWORD).toBe(password);
    expect(env.PGDATABASE).toBe('my db/1');
    expect(env.PGHOST).toBe('/var/run/postgresql');
  });

  it('keeps "+" as a plus sign, as libpq does', () => {
    expect(libpqEnvFromUrl('postgresql://u:a+b@h/db').PGPASSWORD).toBe('a+b');
  });

  it('splits user info at the last "@" so an unescaped "@" in the password still works', () => {
    const settings = parseConnectionUrl('postgresql://u:p@ss@h:5432/db');
    expect(settings).toMatchObject({ user: 'u', password: 'p@ss', host: 'h', database: 'db' });
  });

  it('reads an IPv6 host in brackets', () => {
    const settings = parseConnectionUrl('postgresql://u:p@[::1]:5433/db');
    expect(settings.host).toBe('::1');
    expect(settings.port).toBe(5433);
    expect(describeTarget('postgresql://u:p@[::1]:5433/db')).toBe('[::1]:5433/db');
  });

  it('maps query parameters to their libpq variables', () => {
    const env = libpqEnvFromUrl(
      'postgresql://u:p@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&sslcert=%2Fc.crt&sslkey=%2Fc.key' +
        '&application_name=nightly&connect_timeout=10&options=-c%20statement_timeout%3D0&target_session_attrs=read-write',
    );
    expect(env).toMatchObject({
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: '/etc/ca.pem',
      PGSSLCERT: '/c.crt',
      PGSSLKEY: '/c.key',
      PGAPPNAME: 'nightly',
      PGCONNECT_TIMEOUT: '10',
      PGOPTIONS: '-c statement_timeout=0',
      PGTARGETSESSIONATTRS: 'read-write',
    });
  });

  it('reads ssl=true as sslmode=require (libpq JDBC compatibility)', () => {
    expect(libpqEnvFromUrl('postgresql://u:p@h/db?ssl=true').PGSSLMODE).toBe('require');
  });

  it('lets query parameters override the URL parts', () => {
    const env = libpqEnvFromUrl('postgresql://u:p@h:1/db?host=other&port=7000&dbname=x&user=v&password=w');
    expect(env).toMatchObject({ PGHOST: 'other', PGPORT: '7000', PGDATABASE: 'x', PGUSER: 'v', PGPASSWORD: 'w' });
  });

  it('defaults the database to the user, and the user to the OS user, as libpq does', () => {
    expect(parseConnectionUrl('postgresql://clara:p@h').database).toBe('clara');
    expect(parseConnectionUrl('postgresql://clara:p@h/').database).toBe('clara');
    const anonymous = parseConnectionUrl('postgresql://h:5432', { osUser: 'backup' });
    expect(anonymous).toMatchObject({ user: 'backup', database: 'backup', password: undefined });
    expect(toLibpqEnv(anonymous)).not.toHaveProperty('PGPASSWORD');
  });

  it('uses localhost when the URL names no host', () => {
    expect(parseConnectionUrl('postgresql:///db', { osUser: 'x' }).host).toBe('localhost');
  });

  it('treats an empty password as none', () => {
    expect(parseConnectionUrl('postgresql://u:@h/db').password).toBeUndefined();
  });

  it('lists the password as written and decoded among the secrets', () => {
    expect(parseConnectionUrl('postgresql://u:a%2Fb@h/db').secrets).toEqual(expect.arrayContaining(['a%2Fb', 'a/b']));
  });
});

describe('invalid URLs', () => {
  it('refuses another scheme, naming it', () => {
    const error = configError(() => parseConnectionUrl('mysql://u:hunter2@h/db'));
    expect(error.message).toContain('"mysql:"');
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses text that is not a URL', () => {
    expect(configError(() => parseConnectionUrl('host=h password=hunter2')).message).not.toContain('hunter2');
  });

  it('names an unknown query parameter', () => {
    const error = configError(() => parseConnectionUrl('postgresql://u:p@h/db?sslmdoe=require'));
    expect(error.message).toContain('"sslmdoe"');
  });

  it('refuses libpq keywords that cannot travel in the environment', () => {
    expect(configError(() => parseConnectionUrl('postgresql://u:p@h/db?keepalives=1')).message).toContain('"keepalives"');
  });

  it('refuses an sslmode libpq does not know', () => {
    expect(configError(() => parseConnectionUrl('postgresql://u:p@h/db?sslmode=yes')).message).toContain('sslmode');
  });

  it('refuses several hosts', () => {
    configError(() => parseConnectionUrl('postgresql://u:p@h1:5432,h2:5432/db'));
  });

  it('does not leak a password whose unescaped "/" cuts the URL short', () => {
    const error = configError(() => parseConnectionUrl('postgresql://u:ab/cd@h/db'));
    expect(error.message).not.toMatch(/ab|cd/);
    expect(error.message).toContain('percent-encode');
  });

  it('does not echo a bad port (it may be a piece of the password)', () => {
    const error = configError(() => parseConnectionUrl('postgresql://u:p@h:hunter2/db'));
    expect(error.message).not.toContain('hunter2');
  });

  it('does not echo a password with a broken percent-encoding', () => {
    const error = configError(() => parseConnectionUrl('postgresql://u:hun%zzter@h/db'));
    expect(error.message).toContain('password');
    expect(error.message).not.toContain('hun');
  });

  it('refuses %00, which no environment variable can hold', () => {
    configError(() => parseConnectionUrl('postgresql://u:a%00b@h/db'));
  });
});

describe('childEnv', () => {
  it('drops inherited PG* variables, keeps the rest and adds the libpq ones', () => {
    const env = childEnv(
      { PGHOST: 'db', PGDATABASE: 'clara' },
      { PATH: '/bin', HOME: '/root', PGHOST: 'evil', PGSERVICE: 'evil', PGPASSFILE: '/tmp/x', PGSSLMODE: 'disable' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', PGHOST: 'db', PGDATABASE: 'clara' });
  });
});
