import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeTempDir,
  referenceEnv,
  removeTempDir,
  seedClaraDatabase,
  TEST_PG_PASSWORD,
  tableFingerprints,
  uniqueName,
  usePostgres,
  useS3,
  type CliResult,
} from '../harness/index.js';
import { cliEnvironment } from '../harness/cli.js';
import { runProcess, type ProcessResult } from '../harness/process.js';
import { recordCliOutput } from '../harness/secret-guard.js';

// What a user gets from the registry: every published workspace packed with
// `npm pack` (so only what its `files` lists, with its declared dependencies),
// the tarballs installed together into an empty project outside this
// repository, and that project's `backupctl` backing up and restoring the
// default pipeline's clara job. The packages must be built (npm test builds
// first); npm install reaches the registry for the third-party dependencies.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SETUP_TIMEOUT_MS = 240_000;

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  files?: string[];
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

interface Workspace {
  dir: string;
  manifest: Manifest;
}

interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

const pg = usePostgres();
const s3 = useS3();
const claraDb = uniqueName('clara_main');
const bucket = uniqueName('packed-backups');
// Only the clara job: MEM0_DATABASE_URL stays unset.
const env = (): Record<string, string> => referenceEnv(pg, { clara: claraDb }, bucket);

let workspaces: Workspace[] = [];
let tempDir: string | undefined;
/** The project the tarballs are installed into (realpath: the OS temp dir may be a symlink). */
let project: string;
let packed: PackResult[] = [];

async function readManifest(file: string): Promise<Manifest> {
  return JSON.parse(await readFile(file, 'utf8')) as Manifest;
}

/** The published workspaces: every one of the root's that is not private (the example plugins are). */
async function publishedWorkspaces(): Promise<Workspace[]> {
  const root = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const all = await Promise.all(
    root.workspaces.map(async (dir) => ({ dir: path.join(ROOT, dir), manifest: await readManifest(path.join(ROOT, dir, 'package.json')) })),
  );
  return all.filter((workspace) => !workspace.manifest.private);
}

/**
 * Our environment for npm, without what `npm test` sets about the
 * repository's own package and script, so the inner npm knows only the
 * directory it runs in.
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_|npm_command$|npm_config_local_prefix$|init_cwd$)/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

async function npm(args: string[], cwd: string, timeoutMs: number): Promise<ProcessResult> {
  const result = await runProcess('npm', args, { cwd, env: npmEnvironment(), timeoutMs });
  if (result.code !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.code}) in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Runs the installed project's `backupctl` (its bin link) from the project, with the CLI's clean environment. */
async function backupctl(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const result = await runProcess(path.join(project, 'node_modules', '.bin', 'backupctl'), args, {
    cwd: project,
    env: cliEnvironment(extraEnv),
    timeoutMs: 120_000,
  });
  // Into the end-of-run secret check, like every CLI run of the e2e tests (test/harness/secret-guard.ts).
  const test = expect.getState().currentTestName;
  recordCliOutput({ command: args[0] ?? '', ...(test === undefined ? {} : { test }), stdout: result.stdout, stderr: result.stderr });
  return result;
}

function printedSecrets(result: CliResult): boolean {
  const output = result.stdout + result.stderr;
  return output.includes(TEST_PG_PASSWORD) || output.includes(encodeURIComponent(TEST_PG_PASSWORD));
}

/** Every file under `dir`, relative to it, with `/` separators. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await filesUnder(path.join(dir, entry.name), relative)));
    else files.push(relative);
  }
  return files.sort();
}

beforeAll(async () => {
  workspaces = await publishedWorkspaces();
  for (const { dir, manifest } of workspaces) {
    if (!existsSync(path.join(dir, 'dist', 'index.js'))) throw new Error(`${manifest.name} is not built (no ${path.relative(ROOT, dir)}/dist/index.js): run npm run build first`);
  }
  const cli = workspaces.find((workspace) => workspace.manifest.bin?.backupctl);
  if (!cli) throw new Error('no published workspace has the backupctl bin');

  await Promise.all([
    (async () => {
      await pg.createDatabase(claraDb);
      await seedClaraDatabase(pg, claraDb);
    })(),
    s3.createBucket(bucket),
  ]);

  tempDir = await makeTempDir('backupctl-packed-');
  const tarballs = path.join(tempDir, 'tarballs');
  project = path.join(await realpath(tempDir), 'project');
  await Promise.all([mkdir(tarballs), mkdir(project)]);

  const pack = await npm(
    ['pack', '--json', '--pack-destination', tarballs, ...workspaces.flatMap(({ manifest }) => ['-w', manifest.name])],
    ROOT,
    60_000,
  );
  packed = JSON.parse(pack.stdout) as PackResult[];

  // An empty project, as `npm init -y` would make it, then every tarball in one
  // install, so that the packages' ^0.1.0 on each other resolve to them.
  await writeFile(path.join(project, 'package.json'), `${JSON.stringify({ name: 'packed-install', version: '1.0.0', private: true }, null, 2)}\n`);
  await npm(['install', '--no-audit', '--no-fund', ...packed.map((tarball) => path.join(tarballs, tarball.filename))], project, 180_000);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await removeTempDir(tempDir);
});

describe('backupctl installed from the packed packages', () => {
  it('packs every published workspace, and each installs from its tarball into the project, not from the repository or the registry', async () => {
    expect(packed.map((tarball) => tarball.name).sort()).toEqual(workspaces.map(({ manifest }) => manifest.name).sort());
    const lock = JSON.parse(await readFile(path.join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; resolved?: string; link?: boolean }>;
    };
    for (const { manifest } of workspaces) {
      const installed = path.join(project, 'node_modules', manifest.name);
      // A real directory in the project (npm links a `file:` directory; it must not have).
      expect((await lstat(installed)).isSymbolicLink(), manifest.name).toBe(false);
      expect(await realpath(installed), manifest.name).toBe(installed);
      expect((await readManifest(path.join(installed, 'package.json'))).version, manifest.name).toBe(manifest.version);
      const entry = lock.packages[`node_modules/${manifest.name}`];
      expect(entry?.resolved, manifest.name).toMatch(/^file:.*\.tgz$/);
      // One copy of each: nothing nested that a dependency range fetched from the registry.
      const nested = Object.keys(lock.packages).filter((key) => key !== `node_modules/${manifest.name}` && key.endsWith(`node_modules/${manifest.name}`));
      expect(nested, manifest.name).toEqual([]);
    }
  });

  it('installs only what each package\'s `files` lists: no sources, tests or build configuration', async () => {
    for (const { manifest } of workspaces) {
      const installed = await filesUnder(path.join(project, 'node_modules', manifest.name));
      const allowed = manifest.files ?? [];
      const outside = installed.filter(
        (file) =>
          file !== 'package.json' &&
          !/^(README|LICENSE|LICENCE|CHANGELOG)(\.[a-z]+)?$/i.test(file) &&
          !allowed.some((entry) => file === entry || file.startsWith(`${entry}/`)),
      );
      expect(outside, manifest.name).toEqual([]);
      expect(installed.filter((file) => /(^|\/)(src|test|tests|__tests__)\/|\.test\.|\.spec\.|tsconfig|tsup\.config/.test(file)), manifest.name).toEqual([]);
      expect(installed, manifest.name).toContain('dist/index.js');
    }
    const cli = workspaces.find((workspace) => workspace.manifest.bin?.backupctl)!;
    const cliFiles = await filesUnder(path.join(project, 'node_modules', cli.manifest.name));
    expect(cliFiles).toEqual(expect.arrayContaining(['bin/run.js', 'examples/clara-mem0.yml']));
  });

  it('prints its version, and loads every plugin of the default pipeline from the project', async () => {
    const cli = workspaces.find((workspace) => workspace.manifest.bin?.backupctl)!;
    const version = await backupctl(['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^backupctl/${cli.manifest.version.replaceAll('.', '\\.')} `));
    // The issue's own words: `npx backupctl` in the project runs the installed bin.
    const npx = await runProcess('npx', ['--no-install', 'backupctl', '--version'], { cwd: project, env: npmEnvironment(), timeoutMs: 60_000 });
    expect(npx.code, npx.stderr).toBe(0);
    expect(npx.stdout).toBe(version.stdout);

    const plugins = await backupctl(['plugins', '--json']);
    expect(plugins.code, plugins.stderr).toBe(0);
    const listed = JSON.parse(plugins.stdout) as { file: string; plugins: { use: string; plugin: { entry?: string } }[] };
    expect(listed.file).toBe('clara-mem0.yml (default)');
    const entries = listed.plugins.map(({ plugin }) => plugin.entry).filter((entry): entry is string => entry !== undefined);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry.startsWith(`${project}${path.sep}node_modules${path.sep}`), entry).toBe(true);
      expect(await realpath(entry), entry).toBe(entry);
    }
  });

  it('backs up the clara job to the bucket and restores it into a new database, table for table identical', async () => {
    const run = await backupctl(['run', '--job', 'clara'], env());
    expect(run.stderr).not.toMatch(/ERROR|Error/);
    expect(run.code).toBe(0);
    expect(printedSecrets(run)).toBe(false);
    const keys = await s3.listKeys(bucket, 'backups/');
    expect(keys).toEqual([expect.stringMatching(/^backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz$/)]);
    expect(run.stderr).toContain(`Clara DB backup complete: ${path.posix.basename(keys[0]!)} (`);

    const target = uniqueName('clara_restored');
    const restore = await backupctl(['restore', 'clara', '--create', '--target-url', pg.url(target), '--json'], env());
    expect(restore.stderr).not.toMatch(/ERROR|WARN/);
    expect(restore.code).toBe(0);
    expect(printedSecrets(restore)).toBe(false);
    expect(JSON.parse(restore.stdout)).toMatchObject({ job: 'clara', key: keys[0], checksum: 'verified' });
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));
  });
});
