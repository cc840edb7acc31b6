import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupctlError } from '@backupctl/plugin-api';
import { findPgTool, requirePgTool, toolPathVariable } from '../src/find-pg-tool.js';

let base: string;
let root: string;
let pathDir: string;

/** Writes an executable script that prints `--version` output like the real program. */
async function fakeTool(path: string, version: string, mode = 0o755): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const name = path.split('/').pop()!;
  await writeFile(path, `#!/bin/sh\necho "${name} (PostgreSQL) ${version}"\n`);
  await chmod(path, mode);
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'find-pg-tool-'));
  root = join(base, 'usr-lib-postgresql');
  pathDir = join(base, 'bin');
  await fakeTool(join(root, '13', 'bin', 'pg_dump'), '13.20');
  await fakeTool(join(root, '15', 'bin', 'pg_dump'), '15.18');
  await fakeTool(join(root, '16', 'bin', 'pg_dump'), '16.9');
  await fakeTool(join(root, '16', 'bin', 'psql'), '16.9');
  await fakeTool(join(root, '9.6', 'bin', 'pg_dump'), '9.6.24');
  await fakeTool(join(root, 'common', 'bin', 'pg_dump'), '99.0');
  await fakeTool(join(root, '17', 'bin', 'pg_dump'), '17.5', 0o644); // not executable: skipped
  await mkdir(join(root, '18', 'bin'), { recursive: true }); // no pg_dump in it
  await fakeTool(join(pathDir, 'pg_dump'), '18.1 (Debian 18.1-1.pgdg12+1)');
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const env = () => ({ PATH: `/nonexistent:${pathDir}` });

describe('findPgTool', () => {
  it('picks the lowest versioned pg_dump at least as new as the server', async () => {
    expect((await findPgTool('pg_dump', { minMajor: 14, searchRoots: [root], env: env() })).found).toMatchObject({
      path: join(root, '15', 'bin', 'pg_dump'),
      origin: 'versioned',
    });
    expect((await findPgTool('pg_dump', { minMajor: 16, searchRoots: [root], env: env() })).found?.path).toBe(
      join(root, '16', 'bin', 'pg_dump'),
    );
    expect((await findPgTool('pg_dump', { minMajor: 9.6, searchRoots: [root], env: env() })).found?.path).toBe(
      join(root, '9.6', 'bin', 'pg_dump'),
    );
  });

  it('falls back to pg_dump on PATH when its --version is new enough', async () => {
    const search = await findPgTool('pg_dump', { minMajor: 18, searchRoots: [root], env: env() });
    expect(search.found).toMatchObject({ path: join(pathDir, 'pg_dump'), origin: 'path', version: { major: 18 } });
  });

  it('finds nothing when every candidate is too old, listing what it saw', async () => {
    const search = await findPgTool('pg_dump', { minMajor: 19, searchRoots: [root], env: env() });
    expect(search.found).toBeUndefined();
    expect(search.considered.map((candidate) => candidate.version?.major)).toEqual([9.6, 13, 15, 16, 18]);
  });

  it('uses an explicit path first, then <TOOL>_PATH, whatever their version', async () => {
    const explicit = join(root, '13', 'bin', 'pg_dump');
    expect((await findPgTool('pg_dump', { minMajor: 16, explicitPath: explicit, searchRoots: [root], env: env() })).found).toMatchObject({
      path: explicit,
      origin: 'explicit',
      version: { major: 13 },
    });
    const fromEnv = await findPgTool('pg_dump', { minMajor: 16, searchRoots: [root], env: { ...env(), PG_DUMP_PATH: explicit } });
    expect(fromEnv.found?.path).toBe(explicit);
  });

  it('works for the other client programs by name', async () => {
    expect(toolPathVariable('psql')).toBe('PSQL_PATH');
    expect(toolPathVariable('pg_restore')).toBe('PG_RESTORE_PATH');
    expect((await findPgTool('psql', { minMajor: 15, searchRoots: [root], env: env() })).found?.path).toBe(join(root, '16', 'bin', 'psql'));
    expect((await findPgTool('pg_restore', { minMajor: 15, searchRoots: [root], env: env() })).found).toBeUndefined();
  });

  it("runs a program's --version once, however many sources look it up", async () => {
    const dir = join(base, 'counted');
    const runs = join(base, 'counted.log');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'pg_dumpall'), `#!/bin/sh\necho run >> "${runs}"\necho "pg_dumpall (PostgreSQL) 18.1"\n`);
    await chmod(join(dir, 'pg_dumpall'), 0o755);
    const search = () => findPgTool('pg_dumpall', { minMajor: 18, searchRoots: [], env: { PATH: dir } });
    const searches = [...(await Promise.all([search(), search()])), await search()];
    expect(searches.map((found) => found.found?.version?.text)).toEqual(['18.1', '18.1', '18.1']);
    expect((await readFile(runs, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('runs --version again after it failed', async () => {
    const dir = join(base, 'flaky');
    const runs = join(base, 'flaky.log');
    await mkdir(dir, { recursive: true });
    // Fails the first time it runs, answers the second.
    await writeFile(join(dir, 'psql'), `#!/bin/sh\necho run >> "${runs}"\n[ "$(wc -l < "${runs}")" -ge 2 ] || exit 1\necho "psql (PostgreSQL) 18.1"\n`);
    await chmod(join(dir, 'psql'), 0o755);
    const search = () => findPgTool('psql', { minMajor: 18, searchRoots: [], env: { PATH: dir } });
    expect((await search()).found).toBeUndefined();
    expect((await search()).found?.version?.text).toBe('18.1');
  });

  it('survives a search root that does not exist', async () => {
    const search = await findPgTool('pg_dump', { minMajor: 15, searchRoots: [join(base, 'missing')], env: env() });
    expect(search.found?.origin).toBe('path');
  });
});

describe('requirePgTool', () => {
  it('fails before dumping, naming the server, what it found and how to fix it', async () => {
    const error = (await requirePgTool('pg_dump', { major: 19, text: '19.0' }, 'db:5432/clara', { searchRoots: [root], env: env() }).catch(
      (caught: unknown) => caught,
    )) as BackupctlError;
    expect(error).toBeInstanceOf(BackupctlError);
    expect(error.code).toBe('SOURCE_FAILED');
    expect(error.message).toBe(
      `pg_dump 19 or newer is needed for PostgreSQL 19 at db:5432/clara; found: ${join(root, '9.6', 'bin', 'pg_dump')} (9.6), ` +
        `${join(root, '13', 'bin', 'pg_dump')} (13), ${join(root, '15', 'bin', 'pg_dump')} (15), ${join(root, '16', 'bin', 'pg_dump')} (16), ` +
        `${join(pathDir, 'pg_dump')} (18.1); install postgresql-client-19 or set PG_DUMP_PATH`,
    );
    expect(error.hint).toMatch(/^apt-get install postgresql-client-19 from the PGDG apt repository/);
  });

  it('says "found: none" on a machine without any', async () => {
    await expect(
      requirePgTool('pg_dump', { major: 15, text: '15.1' }, 'db:5432/x', { searchRoots: [], env: { PATH: '/nonexistent' } }),
    ).rejects.toThrow(/; found: none; install postgresql-client-15 or set PG_DUMP_PATH$/);
  });

  it('refuses an explicit path that is not an executable file', async () => {
    await expect(
      requirePgTool('pg_dump', { major: 15, text: '15.1' }, 'db:5432/x', { explicitPath: join(base, 'nope'), env: env() }),
    ).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: `pg_dump at ${join(base, 'nope')} is not an executable file` });
  });

  it('refuses an explicit program that reports a version older than the server, saying what to install', async () => {
    const old = join(root, '13', 'bin', 'pg_dump');
    await expect(
      requirePgTool('pg_dump', { major: 15, text: '15.1' }, 'db:5432/x', { explicitPath: old, env: env() }),
    ).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message:
        `pg_dump at ${old} is 13.20, older than PostgreSQL 15.1 at db:5432/x; ` +
        'pg_dump 15 or newer is needed: install postgresql-client-15 and set PG_DUMP_PATH to its pg_dump, or unset PG_DUMP_PATH',
      hint: expect.stringContaining('apt-get install postgresql-client-15'),
    });
    const newer = join(root, '16', 'bin', 'pg_dump');
    expect((await requirePgTool('pg_dump', { major: 15, text: '15.1' }, 'db:5432/x', { explicitPath: newer, env: env() })).path).toBe(newer);
  });

  it('returns the qualifying program', async () => {
    const tool = await requirePgTool('pg_dump', { major: 15, text: '15.18' }, 'db:5432/x', { searchRoots: [root], env: env() });
    expect(tool.path).toBe(join(root, '15', 'bin', 'pg_dump'));
  });
});
