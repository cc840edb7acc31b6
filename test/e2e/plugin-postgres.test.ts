import { readdir, readFile } from 'node:fs/promises';
import { buffer, text } from 'node:stream/consumers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceInstance } from '@backupctl/plugin-api';
import plugin from '../../packages/plugin-postgres/src/index.js';
import { fakeContext } from '../../packages/plugin-postgres/test/fake-context.js';
import { freePort } from '../harness/postgres.js';
import { TEST_PG_PASSWORD, quoteIdentifier, seedClaraDatabase, tableFingerprints, uniqueName, usePostgres } from '../harness/index.js';

// The postgres source against the harness's real cluster, created the way the
// runner creates it (options with defaults filled in, a plugin context).

type Options = Parameters<typeof plugin.create>[0];

const postgres = usePostgres();
let clara: string;
const databases: string[] = [];
const roles: string[] = [];

function options(url: string, overrides: Partial<Options> = {}): Options {
  return { url, format: 'plain', retryAttempts: 5, retryDelaySeconds: 2, pgDumpPath: '', args: [], ...overrides };
}

function create(url: string, overrides: Partial<Options> = {}, signal?: AbortSignal) {
  const fake = fakeContext(signal);
  const source = plugin.create(options(url, overrides), fake.context) as SourceInstance;
  return { ...fake, source };
}

async function freshDatabase(prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await postgres.createDatabase(name);
  databases.push(name);
  return name;
}

/** A login role with its own password, dropped after the file. */
async function createRole(password: string): Promise<string> {
  const role = uniqueName('reader');
  await postgres.query('postgres', `CREATE ROLE ${quoteIdentifier(role)} LOGIN PASSWORD '${password.replaceAll("'", "''")}'`);
  roles.push(role);
  return role;
}

function urlFor(user: string, password: string, database: string, port = postgres.port): string {
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${postgres.host}:${port}/${encodeURIComponent(database)}`;
}

/** The pg_dump processes this test process started. */
async function pgDumpChildren(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...
    const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (match?.[1] === 'pg_dump' && Number(match[2]) === process.pid) pids.push(Number(entry));
  }
  return pids;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Holds an ACCESS EXCLUSIVE lock on a table so pg_dump waits for it, until released. */
async function lockTable(database: string, table: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: postgres.url(database) });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  let released: Promise<void> | undefined;
  return {
    release: () =>
      (released ??= (async () => {
        await client.query('COMMIT').catch(() => {});
        await client.end();
      })()),
  };
}

beforeAll(async () => {
  clara = await freshDatabase('clara');
  await seedClaraDatabase(postgres, clara);
});

afterAll(async () => {
  for (const name of databases) await postgres.dropDatabase(name);
  for (const role of roles) await postgres.query('postgres', `DROP ROLE IF EXISTS ${quoteIdentifier(role)}`);
});

describe('postgres source: dumps', () => {
  it('streams a plain SQL dump that holds the rows and restores to the same database', async () => {
    const { source, logger, context } = create(postgres.url(clara));
    const { stream, done } = await source.open(new AbortController().signal);
    const sql = await text(stream);
    await done;
    await source.close?.();

    expect(context.artifact).toMatchObject({ extension: '.sql', contentType: 'application/sql' });
    // The database's size, so the S3 sink can plan its part size.
    expect(context.artifact.expectedSize).toBeGreaterThan(0);
    expect(sql).toContain('PostgreSQL database dump');
    expect(sql).toContain('CREATE TABLE public.users');
    expect(sql).toMatch(/^COPY public\.users \(id, email, display_name, .*\) FROM stdin;$/m);
    expect(sql).toContain('user42@example.com');
    expect(sql).toContain('Ana 🦊 Lima #3');
    expect(sql).toContain("SELECT pg_catalog.setval('public.invoice_number_seq', 50000, true);");

    const info = logger.lines.filter((line) => line.level === 'info').map((line) => line.message);
    expect(info).toContainEqual(expect.stringMatching(new RegExp(`^Connected to PostgreSQL 1\\d\\.\\d+ at 127\\.0\\.0\\.1:${postgres.port}/${clara}$`)));

    // Valid SQL: psql loads it into an empty database, which then equals the original.
    const restored = await freshDatabase('restored');
    await postgres.psql(restored, sql);
    expect(await tableFingerprints(postgres, restored)).toEqual(await tableFingerprints(postgres, clara));
  });

  it('streams a custom-format dump starting with PGDMP', async () => {
    const { source, context } = create(postgres.url(clara), { format: 'custom' });
    const { stream, done } = await source.open(new AbortController().signal);
    const dump = await buffer(stream);
    await done;
    expect(dump.subarray(0, 5).toString('latin1')).toBe('PGDMP');
    expect(dump.length).toBeGreaterThan(10_000);
    expect(context.artifact).toMatchObject({ extension: '.dump', contentType: 'application/octet-stream' });
    // The database's size, so the S3 sink can plan its part size.
    expect(context.artifact.expectedSize).toBeGreaterThan(0);
  });

  it('passes extra pg_dump arguments', async () => {
    const { source } = create(postgres.url(clara), { args: ['--exclude-table=audit.events', '--no-owner'] });
    const { stream, done } = await source.open(new AbortController().signal);
    const sql = await text(stream);
    await done;
    expect(sql).toContain('CREATE TABLE public.users');
    expect(sql).not.toContain('CREATE TABLE audit.events');
    expect(sql).not.toContain('OWNER TO');
  });

  it('connects with a password full of URL-special characters, percent-encoded', async () => {
    const password = `p@ss:w/rd?#%+ 'é`;
    const role = await createRole(password);
    const database = await freshDatabase('owned');
    await postgres.query('postgres', `ALTER DATABASE ${quoteIdentifier(database)} OWNER TO ${quoteIdentifier(role)}`);
    await postgres.psql(database, `SET ROLE ${quoteIdentifier(role)}; CREATE TABLE notes (body text); INSERT INTO notes VALUES ('encoded ok');`);

    const { source, secrets } = create(urlFor(role, password, database));
    expect(secrets).toContain(password);
    await source.check?.();
    const { stream, done } = await source.open(new AbortController().signal);
    const sql = await text(stream);
    await done;
    expect(sql).toContain('encoded ok');
  });

  it('ignores PG* variables of the environment it runs in', async () => {
    const saved = { PGDATABASE: process.env.PGDATABASE, PGPORT: process.env.PGPORT, PGUSER: process.env.PGUSER };
    Object.assign(process.env, { PGDATABASE: 'no_such_database', PGPORT: '1', PGUSER: 'nobody' });
    try {
      const { source } = create(postgres.url(clara));
      const { stream, done } = await source.open(new AbortController().signal);
      const sql = await text(stream);
      await done;
      expect(sql).toContain('user42@example.com');
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('keeps the password and the URL out of pg_dump\'s command line', async () => {
    const lock = await lockTable(clara, 'public.users');
    try {
      const { source } = create(postgres.url(clara));
      const { stream, done } = await source.open(new AbortController().signal);
      const collected = text(stream);
      // pg_dump now waits for the lock: it is running, with its argv in /proc.
      const [pid] = await waitFor(async () => ((await pgDumpChildren()).length > 0 ? pgDumpChildren() : undefined), 'pg_dump to start');
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
      expect(cmdline).toContain('pg_dump');
      expect(cmdline).toContain('--no-password');
      expect(cmdline).not.toContain(TEST_PG_PASSWORD);
      expect(cmdline).not.toContain('postgresql://');
      expect(cmdline).not.toContain(clara);
      await lock.release();
      expect(await collected).toContain('user42@example.com');
      await done;
    } finally {
      await lock.release();
    }
  });

  it('stops pg_dump when the run is aborted, and done rejects with ABORTED', async () => {
    const lock = await lockTable(clara, 'public.users');
    try {
      const controller = new AbortController();
      const { source } = create(postgres.url(clara), {}, controller.signal);
      const { stream, done } = await source.open(controller.signal);
      stream.resume();
      const [pid] = await waitFor(async () => ((await pgDumpChildren()).length > 0 ? pgDumpChildren() : undefined), 'pg_dump to start');
      controller.abort();
      await expect(done).rejects.toMatchObject({ code: 'ABORTED' });
      expect(await pgDumpChildren()).not.toContain(pid);
    } finally {
      await lock.release();
    }
  });

  it('rejects done with pg_dump\'s error when it fails mid-dump (a table the role cannot read)', async () => {
    const password = 'Reader-pw-91k';
    const role = await createRole(password);
    const database = await freshDatabase('restricted');
    await postgres.psql(database, `CREATE TABLE visible (v text); INSERT INTO visible VALUES ('shown'); CREATE TABLE secret (s text);`);
    await postgres.psql(database, `GRANT SELECT ON visible TO ${quoteIdentifier(role)}`);

    const { source } = create(urlFor(role, password, database));
    const { stream, done } = await source.open(new AbortController().signal);
    const output = text(stream);
    const error = (await done.catch((caught: unknown) => caught)) as Error & { code?: string; hint?: string };
    await output;
    expect(error).toMatchObject({ name: 'BackupctlError', code: 'SOURCE_FAILED' });
    expect(error.message).toContain(`pg_dump failed for 127.0.0.1:${postgres.port}/${database} (exit code 1)`);
    expect(error.message).toContain('permission denied for table secret');
    expect(error.message).not.toContain(password);
    expect(error.hint).toMatch(/grant the backup user SELECT/);
  });
});

describe('postgres source: connection failures', () => {
  it('fails at once on a wrong password, naming host:port/db without the password', async () => {
    const wrong = 'Wr0ng-pass-x8';
    const { source, logger } = create(urlFor('postgres', wrong, clara), { retryDelaySeconds: 5 });
    const started = Date.now();
    const error = (await source.open(new AbortController().signal).catch((caught: unknown) => caught)) as Error & { code?: string };
    expect(Date.now() - started).toBeLessThan(4000);
    expect(error).toMatchObject({ code: 'SOURCE_FAILED' });
    expect(error.message).toContain(`127.0.0.1:${postgres.port}/${clara}`);
    expect(error.message).toContain('password authentication failed');
    expect(error.message).not.toContain(wrong);
    expect(logger.lines.map((line) => line.message).join('\n')).not.toContain(wrong);
    expect(logger.lines.filter((line) => line.message.includes('retrying'))).toEqual([]);
  });

  it('fails without retrying when the database does not exist', async () => {
    const missing = uniqueName('missing');
    const { source, logger } = create(postgres.url(missing), { retryDelaySeconds: 5 });
    await expect(source.open(new AbortController().signal)).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: `could not connect to 127.0.0.1:${postgres.port}/${missing}: database "${missing}" does not exist (3D000)`,
    });
    expect(logger.lines.filter((line) => line.message.includes('retrying'))).toEqual([]);
  });

  it('retries an unreachable port with growing waits, then fails with the attempt count', async () => {
    const port = await freePort();
    const { source, logger } = create(urlFor('postgres', TEST_PG_PASSWORD, clara, port), { retryAttempts: 3, retryDelaySeconds: 0.05 });
    const error = (await source.open(new AbortController().signal).catch((caught: unknown) => caught)) as Error & { code?: string };
    expect(error).toMatchObject({ code: 'SOURCE_FAILED' });
    expect(error.message).toMatch(new RegExp(`^could not connect to 127\\.0\\.0\\.1:${port}/${clara} after 3 attempts: .*ECONNREFUSED`));
    expect(error.message).not.toContain(TEST_PG_PASSWORD);
    expect(logger.lines.map((line) => line.message)).toEqual([
      `Database 127.0.0.1:${port}/${clara} not reachable (connect ECONNREFUSED), retrying in 0.05s (attempt 1 of 3)`,
      `Database 127.0.0.1:${port}/${clara} not reachable (connect ECONNREFUSED), retrying in 0.1s (attempt 2 of 3)`,
    ]);
  });

  it('check() connects once and runs SELECT 1, and fails on a wrong password', async () => {
    await expect(create(postgres.url(clara)).source.check?.()).resolves.toBeUndefined();
    await expect(create(urlFor('postgres', 'nope-nope', clara)).source.check?.()).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
  });
});
