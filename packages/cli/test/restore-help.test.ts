import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type, definePlugin, shellWord } from '@backupctl/plugin-api';
import { loadPipeline, type LoadedJob, type PipelineHost } from '../../core/src/index.js';
import { cliHost, defaultPipelinePath } from '../src/host.js';
import { findPipeline } from '../../core/src/config/find-pipeline.js';
import type { JobBackups } from '../../core/src/catalog/list-backups.js';
import { formatRestoreHelp, formatWholeServerRestoreHelp } from '../src/render/restore-help.js';

const MB = 1024 * 1024;
const PASSWORD = 'pw-Secret-9x';
const SECRET_KEY = 'wJalrXUtnFEMI-secret';
const ACCESS_KEY = 'AKIAEXAMPLEKEY';

/** The pipeline loaded as the CLI loads it, and the file as written (before ${VAR} were filled in). */
async function load(file: string, env: Record<string, string>, host: PipelineHost = cliHost()): Promise<{ jobs: LoadedJob[]; raw: unknown }> {
  const pipeline = await loadPipeline({ host, file, env });
  const { source } = await findPipeline(file, process.cwd());
  return { jobs: pipeline.jobs, raw: source.value };
}

function newest(location: string, job: string, title: string, key: string, size: number): JobBackups {
  return { location, job, title, copies: ['s3'], backups: [{ key, size, time: new Date('2026-02-01T03:00:00Z'), copies: ['s3'] }] };
}

const referenceEnv = {
  DATABASE_URL: `postgresql://clara:${PASSWORD}@db.internal:5432/clara_main`,
  S3_BUCKET: 'clara-backups',
  S3_ENDPOINT_URL: 'https://s3.wasabisys.com',
  S3_ACCESS_KEY: ACCESS_KEY,
  S3_SECRET_KEY: SECRET_KEY,
};

function expectNoSecrets(text: string): void {
  for (const secret of [PASSWORD, SECRET_KEY, ACCESS_KEY, 'db.internal']) expect(text).not.toContain(secret);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'backupctl-restore-help-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('formatRestoreHelp', () => {
  it("fills the reference's procedure with the bucket, endpoint and newest key, naming variables instead of secrets", async () => {
    // MEM0_DATABASE_URL unset: mem0 is skipped by run, but its backups can still be restored.
    const { jobs, raw } = await load(defaultPipelinePath(), referenceEnv);
    const text = formatRestoreHelp(
      jobs,
      [
        newest('clara-backups', 'clara', 'Clara DB', 'backups/clara/clara_20260201_030000.sql.gz', 2.5 * MB),
        newest('clara-backups', 'mem0', 'Mem0 DB', 'backups/mem0/mem0_20260201_030000.sql.gz', Math.round(1.2 * MB)),
      ],
      { raw },
    );
    const [clara, mem0] = text.split('\n\nMem0 DB (job mem0)');
    expect(clara!.split('\n')).toEqual([
      'Clara DB (job clara): newest backup backups/clara/clara_20260201_030000.sql.gz in clara-backups (2.5 MB, 2026-02-01 03:00:00 UTC)',
      '',
      '1. Download backup',
      '  # Using the AWS CLI',
      '  AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \\',
      '  aws s3 cp s3://clara-backups/backups/clara/clara_20260201_030000.sql.gz . \\',
      '    --endpoint-url=https://s3.wasabisys.com',
      '',
      '2. Decompress',
      '  gunzip clara_20260201_030000.sql.gz',
      '',
      '3. Restore',
      '  # Full restore (the database must be empty: this dump does not drop existing objects)',
      '  psql -v ON_ERROR_STOP=1 --single-transaction "$DATABASE_URL" < clara_20260201_030000.sql',
      '',
      '  # Or restore to a new database first',
      '  createdb --maintenance-db="$DATABASE_URL" clara_restore',
      '  psql -v ON_ERROR_STOP=1 --single-transaction "${DATABASE_URL%/*}/clara_restore" < clara_20260201_030000.sql',
      '',
      'Or all of it with backupctl:',
      '  backupctl restore clara --key backups/clara/clara_20260201_030000.sql.gz',
      '  backupctl restore clara --key backups/clara/clara_20260201_030000.sql.gz --target-url "${DATABASE_URL%/*}/clara_restore" --create',
    ]);
    expect(mem0).toContain('aws s3 cp s3://clara-backups/backups/mem0/mem0_20260201_030000.sql.gz . \\');
    expect(mem0).toContain('psql -v ON_ERROR_STOP=1 --single-transaction "$MEM0_DATABASE_URL" < mem0_20260201_030000.sql');
    expect(mem0).toContain('backupctl restore mem0 --key backups/mem0/mem0_20260201_030000.sql.gz');
    expectNoSecrets(text);
  });

  it('uses the AWS region and the default credential chain when there is no endpoint and no key', async () => {
    const { jobs, raw } = await load(defaultPipelinePath(), {
      ...referenceEnv,
      S3_ENDPOINT_URL: '',
      S3_ACCESS_KEY: '',
      S3_SECRET_KEY: '',
      S3_REGION: 'eu-west-1',
    });
    const text = formatRestoreHelp(jobs, [newest('clara-backups', 'clara', 'Clara DB', 'backups/clara/clara_20260201_030000.sql.gz', 100)], { raw });
    expect(text).toContain('  aws s3 cp s3://clara-backups/backups/clara/clara_20260201_030000.sql.gz . \\\n    --region eu-west-1\n');
    expect(text).not.toContain('AWS_ACCESS_KEY_ID');
    expect(text).not.toContain('--endpoint-url');
  });

  it('copies from a directory, skips decompression without gzip, uses pg_restore for the custom format, and never prints a URL written in the file', async () => {
    const file = path.join(dir, 'custom.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  clara:',
        `    source: { use: postgres, with: { url: "postgresql://clara:${PASSWORD}@db.internal/clara_main", format: custom } }`,
        '    sink: { use: file, with: { directory: /srv/backups, prefix: clara/ } }',
        '',
      ].join('\n'),
    );
    const { jobs, raw } = await load(file, {});
    const text = formatRestoreHelp(jobs, [newest('/srv/backups', 'clara', 'clara', 'clara/clara_20260201_030000.dump', 5 * MB)], { raw });
    expect(text.split('\n')).toEqual([
      'clara (job clara): newest backup clara/clara_20260201_030000.dump in /srv/backups (5.0 MB, 2026-02-01 03:00:00 UTC)',
      '',
      '1. Download backup',
      '  cp /srv/backups/clara/clara_20260201_030000.dump .',
      '',
      '2. Restore',
      '  # Full restore (WARNING: drops and recreates the objects in the backup)',
      '  pg_restore --clean --if-exists --exit-on-error --single-transaction --dbname="<URL of the clara database>" clara_20260201_030000.dump',
      '',
      '  # Or restore to a new database first',
      '  createdb --maintenance-db="<URL of the clara database>" clara_restore',
      '  pg_restore --exit-on-error --single-transaction --dbname="<URL of the new clara_restore database>" clara_20260201_030000.dump',
      '',
      'Or all of it with backupctl:',
      '  backupctl restore clara --key clara/clara_20260201_030000.dump',
      '  backupctl restore clara --key clara/clara_20260201_030000.dump --target-url "<URL of the new clara_restore database>" --create',
    ]);
    expectNoSecrets(text);
  });

  it('warns that ${VAR%/*} drops URL parameters, quotes odd paths, and says when a job has no backups', async () => {
    const file = path.join(dir, 'odd.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  clara:',
        '    source: { use: postgres, with: { url: "${DATABASE_URL}", args: [--clean, --if-exists] } }',
        '    transforms: [{ use: gzip }]',
        "    sink: { use: file, with: { directory: \"/srv/my backups\" } }",
        '  mem0:',
        '    source: { use: postgres, with: { url: "${DATABASE_URL}" } }',
        '    sink: { use: file, with: { directory: /srv/backups } }',
        '',
      ].join('\n'),
    );
    const { jobs, raw } = await load(file, { DATABASE_URL: `postgresql://clara:${PASSWORD}@db.internal/clara_main?sslmode=require` });
    const text = formatRestoreHelp(
      jobs,
      [newest('/srv/my backups', 'clara', 'clara', 'clara_20260201_030000.sql.gz', 10), { location: '/srv/backups', job: 'mem0', title: 'mem0', copies: ['file'], backups: [] }],
      { raw },
    );
    expect(text).toContain("  cp '/srv/my backups/clara_20260201_030000.sql.gz' .\n");
    expect(text).toContain('  # Full restore (WARNING: the dump drops and recreates its objects)\n');
    expect(text).toContain('  # ${DATABASE_URL%/*} drops the ?parameters of DATABASE_URL: add them back (e.g. sslmode) if needed.\n');
    expect(text.endsWith('\n\nmem0 (job mem0): no backups in /srv/backups yet.')).toBe(true);
    expectNoSecrets(text);
  });
});

describe('formatWholeServerRestoreHelp', () => {
  it('gives one command for the whole run, then each part by hand, globals first, each database on the same server', async () => {
    const file = path.join(dir, 'server.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  server:',
        '    title: Main server',
        '    source: { use: postgres, with: { url: "${SERVER_URL}", databases: all, globals: true } }',
        '    transforms: [{ use: gzip }]',
        '    sink: { use: s3, with: { bucket: "${S3_BUCKET}", endpoint: "${S3_ENDPOINT_URL}", accessKeyId: "${S3_ACCESS_KEY}", secretAccessKey: "${S3_SECRET_KEY}", prefix: servers/main/ } }',
        '',
      ].join('\n'),
    );
    const { jobs, raw } = await load(file, { ...referenceEnv, SERVER_URL: `postgresql://admin:${PASSWORD}@db.internal:5432/postgres` });
    const [job] = jobs as [LoadedJob];
    // The parts as expand-job.ts makes them: the source's options for one part, the sink's prefix under the job's.
    const part = (name: string, dump: 'globals' | 'database'): LoadedJob => ({
      ...job,
      name,
      title: `Main server / ${name}`,
      source: { ...job.source!, options: { ...job.source!.options, databases: undefined, globals: undefined, dump } },
      sink: { ...job.sink!, options: { ...job.sink!.options, prefix: `servers/main/${name}/` } },
    });
    const parts = [part('globals', 'globals'), part('crm', 'database')];
    const key = (name: string) => `servers/main/${name}/${name}_20260201_030000.sql.gz`;
    const text = formatWholeServerRestoreHelp(
      job,
      parts,
      [newest('clara-backups', 'globals', 'Main server / globals', key('globals'), 4096), newest('clara-backups', 'crm', 'Main server / crm', key('crm'), 3 * MB)],
      { raw },
    );
    const lines = text.split('\n');
    expect(lines.slice(0, 6)).toEqual([
      'Main server (job server): a whole server, 2 parts (globals, crm); newest run 2026-02-01 03:00:00 UTC',
      '',
      'All of it with backupctl (globals first, then each database into the database of its name):',
      '  backupctl restore server --at 20260201_030000 --yes',
      '  backupctl restore server --at 20260201_030000 --target-url "<URL of any database on the new server>" --create',
      '',
    ]);
    const globalsAt = lines.indexOf(`Main server / globals (job server, part globals): newest backup ${key('globals')} in clara-backups (4.0 KB, 2026-02-01 03:00:00 UTC)`);
    const crmAt = lines.indexOf(`Main server / crm (job server, part crm): newest backup ${key('crm')} in clara-backups (3.0 MB, 2026-02-01 03:00:00 UTC)`);
    expect(globalsAt).toBeGreaterThan(0);
    expect(crmAt).toBeGreaterThan(globalsAt);
    // The part's own object, through the job's bucket and credentials variables.
    expect(text).toContain(`s3://clara-backups/${key('crm')}`);
    expect(text).toContain('AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY"');
    expect(lines).toContain('  psql "${SERVER_URL%/*}/postgres" < globals_20260201_030000.sql');
    expect(lines).toContain('  psql -v ON_ERROR_STOP=1 --single-transaction "${SERVER_URL%/*}/crm" < crm_20260201_030000.sql');
    expect(lines).toContain('  createdb --maintenance-db="${SERVER_URL%/*}/crm" crm_restore');
    // A part is restored with its run: no per-part --key command.
    expect(text).not.toContain('--key');
    expectNoSecrets(text);
  });

  it('says so when the store holds no part yet', async () => {
    const { jobs } = await load(defaultPipelinePath(), referenceEnv);
    const [job] = jobs as [LoadedJob];
    expect(formatWholeServerRestoreHelp(job, [], [])).toBe('Clara DB (job clara): no backups in its store yet.');
  });
});

describe('restore-help from third-party plugins', () => {
  const notCreated = () => {
    throw new Error('restore-help creates no instance');
  };
  // A sink and a transform as a third party writes them: their steps come from their restoreHelp.
  const tape = definePlugin({
    name: 'tape',
    kind: 'sink',
    schema: Type.Object({ drive: Type.String(), token: Type.String({ default: '' }) }, { additionalProperties: false }),
    create: notCreated,
    restoreHelp: {
      download: ({ key, file }, context) => ({
        text: `Using tape-get, from drive ${context.options.drive}`,
        env: { TAPE_AUTH: context.variable('token') ?? 'TAPE_AUTH' },
        commands: [`tape-get --drive ${shellWord(context.options.drive)} \\\n  ${shellWord(key)} ./${shellWord(file)}`],
      }),
    },
  });
  const rot = definePlugin({
    name: 'rot',
    kind: 'transform',
    schema: Type.Object({ key: Type.String() }, { additionalProperties: false }),
    create: notCreated,
    restoreHelp: {
      title: 'Unscramble',
      undo: (file, context) => ({
        text: `The key is in $${context.variable('key') ?? '?'}`,
        commands: [`unrot -k "$${context.variable('key') ?? 'ROT_KEY'}" ${shellWord(file)}`],
        file: file.replace(/\.rot$/, ''),
      }),
    },
  });
  // Without restoreHelp, or with one that throws: the generic lines.
  const opaque = definePlugin({ name: 'opaque', kind: 'transform', schema: Type.Object({}), create: notCreated });
  const broken = definePlugin({
    name: 'broken',
    kind: 'sink',
    schema: Type.Object({ secret: Type.String() }),
    create: notCreated,
    restoreHelp: {
      download: (_, context) => {
        throw new Error(`cannot: ${context.options.secret}`);
      },
    },
  });
  const blob = definePlugin({ name: 'blob', kind: 'source', schema: Type.Object({}), create: notCreated });
  const host = (): PipelineHost => {
    const cli = cliHost();
    const extra = { tape, rot, opaque, broken, blob };
    return { ...cli, builtins: { ...cli.builtins, ...Object.fromEntries(Object.entries(extra).map(([name, plugin]) => [name, async () => plugin])) } };
  };

  it("prints a third-party sink's download and transform's undo, numbered with the official plugins' steps, naming variables only", async () => {
    const file = path.join(dir, 'third-party.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  clara:',
        '    source: { use: postgres, with: { url: "${DATABASE_URL}" } }',
        '    transforms: [{ use: gzip }, { use: rot, with: { key: "${ROT_KEY}" } }]',
        '    sink: { use: tape, with: { drive: /dev/st0, token: "${TAPE_TOKEN}" } }',
        '',
      ].join('\n'),
    );
    const { jobs, raw } = await load(file, { DATABASE_URL: referenceEnv.DATABASE_URL, ROT_KEY: 'rot-Secret-13', TAPE_TOKEN: 'tape-Secret-7' }, host());
    const key = 'clara/clara_20260201_030000.sql.gz.rot';
    const text = formatRestoreHelp(jobs, [newest('tape:/dev/st0', 'clara', 'clara', key, 1024)], { raw });
    expect(text.split('\n').slice(0, 16)).toEqual([
      `clara (job clara): newest backup ${key} in tape:/dev/st0 (1.0 KB, 2026-02-01 03:00:00 UTC)`,
      '',
      '1. Download backup',
      '  # Using tape-get, from drive /dev/st0',
      '  TAPE_AUTH="$TAPE_TOKEN" \\',
      '  tape-get --drive /dev/st0 \\',
      `    ${key} ./clara_20260201_030000.sql.gz.rot`,
      '',
      '2. Unscramble, then decompress',
      '  # The key is in $ROT_KEY',
      '  unrot -k "$ROT_KEY" clara_20260201_030000.sql.gz.rot',
      '  gunzip clara_20260201_030000.sql.gz',
      '',
      '3. Restore',
      '  # Full restore (the database must be empty: this dump does not drop existing objects)',
      '  psql -v ON_ERROR_STOP=1 --single-transaction "$DATABASE_URL" < clara_20260201_030000.sql',
    ]);
    expect(text).toContain(`  backupctl restore clara --key ${key} --target-url "\${DATABASE_URL%/*}/clara_restore" --create`);
    for (const secret of ['rot-Secret-13', 'tape-Secret-7', PASSWORD]) expect(text).not.toContain(secret);
  });

  it('gives the generic lines for stages without restoreHelp, and for one whose restoreHelp throws (without its message)', async () => {
    const file = path.join(dir, 'generic.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  app:',
        '    source: { use: blob }',
        '    transforms: [{ use: opaque }]',
        '    sink: { use: broken, with: { secret: "${BROKEN_SECRET}" } }',
        '',
      ].join('\n'),
    );
    const { jobs, raw } = await load(file, { BROKEN_SECRET: 'broken-Secret-1' }, host());
    const text = formatRestoreHelp(jobs, [newest('somewhere', 'app', 'app', 'app/app_20260201_030000.bin', 10)], { raw });
    expect(text.split('\n')).toEqual([
      'app (job app): newest backup app/app_20260201_030000.bin in somewhere (10 B, 2026-02-01 03:00:00 UTC)',
      '',
      '1. Download backup',
      '  # (The "broken" plugin failed to describe this step.)',
      '  # Copy app/app_20260201_030000.bin from somewhere to ./app_20260201_030000.bin with the tools of the "broken" sink,',
      '  # or use backupctl restore (below).',
      '',
      '2. Undo opaque',
      '  # Undo the "opaque" transform (jobs.app.transforms[0]) with its own tools, or use backupctl restore (below).',
      '',
      '3. Restore',
      '  # Restore app_20260201_030000.bin with the tools of the "blob" source, or use backupctl restore (below).',
      '',
      'Or all of it with backupctl:',
      '  backupctl restore app --key app/app_20260201_030000.bin',
    ]);
    expect(text).not.toContain('broken-Secret-1');
  });
});
