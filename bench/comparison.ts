import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_ENTRY, cliEnvironment } from '../test/harness/cli.js';
import { runProcess } from '../test/harness/process.js';
import { measure, type Measurement, type Watched } from './measure.js';
import type { CaseResult, Sample } from './report.js';
import { REPO_ROOT, type BenchDatabase, type BenchS3 } from './services.js';

export const BUCKET = 'bench-backups';
/** The container of case (i). */
export const AZURE_CONTAINER = 'bench-backups';
/** The second copy's bucket of case (g). */
export const SECOND_BUCKET = 'bench-backups-offsite';
const PIPELINE = join(REPO_ROOT, 'bench', 'pipeline.yml');

/** The stores beside S3 the bench also writes to, when they run here: their server's process and the variables the pipeline reads. */
export interface OtherStores {
  sftp?: { pid: number };
  azure?: { pid: number };
  env: Record<string, string>;
}

/** One case of the comparison: how to run it once. */
interface Case {
  id: string;
  label: string;
  command: string;
  group: CaseResult['group'];
  run(round: number): Promise<Measurement & { storedBytes?: number; rawBytes?: number; key?: string }>;
}

export interface ComparisonRun {
  results: CaseResult[];
  /** Bytes of the plain dump. */
  rawBytes: number;
  /** Why the restore rows are missing, when they are. */
  restoreSkipped?: string;
}

interface RunJson {
  jobs: { key?: string; bytes?: number; sourceBytes?: number; error?: { message: string } }[];
}

/**
 * The comparison of the issue, in one run over one database: every case
 * once per round, the order rotated each round so no case always runs on a
 * warmer or cooler machine, then the restore pair on the round's object.
 */
export async function runComparison(
  database: BenchDatabase,
  s3: BenchS3,
  options: { rounds: number; restore: boolean; node: string; log: (line: string) => void; stores?: OtherStores },
): Promise<ComparisonRun> {
  const { log } = options;
  const watched: Watched = { s3Pid: s3.pid, postmasterPid: database.postmasterPid };
  const shellEnv = { ...database.libpqEnv };
  const pgDump = join(database.cluster.binDir, 'pg_dump');
  const shell = (script: string) => measure('bash', ['-o', 'pipefail', '-c', script], shellEnv, watched);
  const cliEnv = cliEnvironment({
    DATABASE_URL: database.cluster.url(database.database),
    S3_BUCKET: BUCKET,
    S3_SECOND_BUCKET: SECOND_BUCKET,
    S3_ENDPOINT_URL: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKeyId,
    S3_SECRET_KEY: s3.secretAccessKey,
    ...options.stores?.env,
  });
  const backupctl = async (job: string, store: Watched = watched) => {
    const measured = await measure(options.node, [CLI_ENTRY, 'run', PIPELINE, '--job', job, '--json'], cliEnv, store);
    const [result] = (JSON.parse(measured.stdout) as RunJson).jobs;
    if (!result?.key) throw new Error(`backupctl run --job ${job} stored nothing: ${result?.error?.message ?? measured.stdout}`);
    return { ...measured, storedBytes: result.bytes, rawBytes: result.sourceBytes, key: result.key };
  };

  const dumps: Case[] = [
    { id: 'a', label: "pg_dump alone, the source's limit", command: 'pg_dump > /dev/null', group: 'dump', run: () => shell(`"${pgDump}" > /dev/null`) },
    {
      id: 'b',
      label: 'what most scripts run',
      command: 'pg_dump | gzip -6 | wc -c',
      group: 'dump',
      run: async () => withStoredBytes(await shell(`"${pgDump}" | gzip -6 | wc -c`)),
    },
    {
      id: 'b2',
      label: 'pg_dump compressing itself (system zlib)',
      command: 'pg_dump -Fc | wc -c',
      group: 'dump',
      run: async () => withStoredBytes(await shell(`"${pgDump}" -Fc | wc -c`)),
    },
    { id: 'c', label: 'backupctl, one zlib stream', command: 'backupctl run (gzip threads: 1) -> S3', group: 'dump', run: () => backupctl('single') },
    { id: 'd', label: 'backupctl, parallel gzip (default)', command: 'backupctl run (gzip, default threads) -> S3', group: 'dump', run: () => backupctl('parallel') },
    // (g): (d) to two S3 buckets at once (fan-out), against (d) to one.
    {
      id: 'g',
      label: 'backupctl, parallel gzip, two S3 sinks',
      command: 'backupctl run (gzip, sinks: two S3 buckets) -> S3 ×2',
      group: 'dump',
      run: () => backupctl('two-copies'),
    },
    // (d0): (d) without the manifest's row counting, so its cost shows as (d0) / (d).
    {
      id: 'd0',
      label: 'backupctl, parallel gzip, no manifest counts',
      command: 'backupctl run (gzip, source manifest: false) -> S3',
      group: 'dump',
      run: () => backupctl('parallel-no-manifest'),
    },
    // (h), (i): (d) to an SFTP server (OpenSSH's sshd) and to Azure Blob Storage (Azurite) instead of S3.
    ...(options.stores?.sftp
      ? [{ id: 'h', label: 'backupctl, parallel gzip, SFTP sink', command: 'backupctl run (gzip, default threads) -> SFTP', group: 'dump' as const, run: () => backupctl('sftp', { ...watched, s3Pid: options.stores!.sftp!.pid, s3Children: true }) }]
      : []),
    ...(options.stores?.azure
      ? [{ id: 'i', label: 'backupctl, parallel gzip, Azure sink', command: 'backupctl run (gzip, default threads) -> Azure', group: 'dump' as const, run: () => backupctl('azure', { ...watched, s3Pid: options.stores!.azure!.pid }) }]
      : []),
    // (f) needs the zstd program (examples/plugin-zstd spawns it): left out, with a line, where it is missing.
    ...(zstdInstalled()
      ? [
          {
            id: 'f',
            label: 'backupctl, zstd (examples/plugin-zstd)',
            command: 'backupctl run (zstd -3, a third-party plugin) -> S3',
            group: 'dump' as const,
            run: () => backupctl('zstd'),
          },
        ]
      : []),
  ];
  if (!dumps.some((item) => item.id === 'f')) log('zstd row (f): skipped, the zstd program is not installed (apt-get install zstd)');

  log('warm-up: pg_dump > /dev/null (not counted)');
  await shell(`"${pgDump}" > /dev/null`);

  const results = new Map<string, CaseResult>();
  const record = (item: Case, round: number, measured: Measurement & { storedBytes?: number }) => {
    const { stdout: _stdout, rssTimeline: _timeline, ...kept } = measured;
    const sample: Sample = { ...kept, round };
    const result = results.get(item.id) ?? { id: item.id, label: item.label, command: item.command, group: item.group, samples: [] };
    result.samples.push(sample);
    results.set(item.id, result);
    log(
      `round ${round} (${item.id}) ${item.command}: ${measured.seconds.toFixed(2)} s, CPU ${measured.cpuSeconds.toFixed(1)} s, ` +
        `peak RSS ${(measured.peakRssBytes / 2 ** 20).toFixed(0)} MiB, store server CPU ${measured.s3CpuSeconds.toFixed(1)} s`,
    );
  };

  let rawBytes = 0;
  const restoreSkipped = options.restore ? await restoreUnavailable(options.node, cliEnv) : 'skipped with --no-restore';
  if (restoreSkipped) log(`restore rows (e): ${restoreSkipped}`);
  for (let round = 1; round <= options.rounds; round++) {
    const order = rotate(dumps, round - 1);
    let newestKey: string | undefined;
    for (const item of order) {
      const measured = await item.run(round);
      if (measured.rawBytes !== undefined) rawBytes = measured.rawBytes;
      if (item.id === 'd') newestKey = measured.key;
      record(item, round, measured);
    }
    if (restoreSkipped === undefined && newestKey !== undefined) {
      for (const [item, measured] of await restorePair(database, s3, newestKey, { node: options.node, env: cliEnv }, shell, watched, round)) record(item, round, measured);
    }
  }
  return { results: [...results.values()], rawBytes, ...(restoreSkipped === undefined ? {} : { restoreSkipped }) };
}

/** (e): the same object restored by backupctl and by `gunzip | psql`, each into a new database; the order alternates by round. */
async function restorePair(
  database: BenchDatabase,
  s3: BenchS3,
  key: string,
  cli: { node: string; env: Record<string, string> },
  shell: (script: string) => Promise<Measurement>,
  watched: Watched,
  round: number,
): Promise<[Case, Measurement][]> {
  const { cluster } = database;
  const directory = await mkdtemp(join(tmpdir(), 'backupctl-bench-restore-'));
  const file = join(directory, 'backup.sql.gz');
  const viaCli = `bench_restore_cli_${round}`;
  const viaShell = `bench_restore_shell_${round}`;
  try {
    await writeFile(file, await s3.getObject(BUCKET, key));
    const createdb = join(cluster.binDir, 'createdb');
    // Both restores run psql through a wrapper that logs when it started and
    // ended, so the report can say how much of the difference is start-up.
    const psqlTimes = join(directory, 'psql-times.log');
    const psql = join(directory, 'psql');
    await writeFile(psql, timedPsqlScript(join(cluster.binDir, 'psql'), psqlTimes), { mode: 0o755 });
    const byHand = (target: string) =>
      shell(`"${createdb}" ${target} && gunzip -c "${file}" | "${psql}" --no-psqlrc --quiet --single-transaction --set=ON_ERROR_STOP=1 -d ${target} > /dev/null`);
    const cases: Case[] = [
      {
        id: 'e',
        label: 'backupctl restore of (d)',
        command: 'backupctl restore parallel --key KEY --create --yes',
        group: 'restore',
        run: () =>
          measure(
            cli.node,
            [CLI_ENTRY, 'restore', 'parallel', join(REPO_ROOT, 'bench', 'pipeline.yml'), '--key', key, '--create', '--yes', '--json'],
            // The target's URL holds the password: in the environment, never in argv.
            { ...cli.env, RESTORE_TARGET_URL: cluster.url(viaCli), PSQL_PATH: psql },
            watched,
          ),
      },
      {
        id: 'e0',
        label: 'the same object, by hand',
        command: 'createdb && gunzip -c FILE | psql -1 -v ON_ERROR_STOP=1',
        group: 'restore',
        run: () => byHand(viaShell),
      },
    ];
    const pair: [Case, Measurement & RestorePhases][] = [];
    const count = async (name: string) => (await cluster.query<{ n: string }>(name, 'SELECT count(*)::text AS n FROM pgbench_accounts'))[0]?.n;
    const expected = await count(database.database);
    // An untimed restore first: whichever restore ran first after the round's
    // dumps was 1-2 s slower than the second, whichever tool it was (5 rounds,
    // 2026-11-26), and with the order alternating over an odd number of
    // rounds that fell on one tool more often than on the other.
    const warmUp = `bench_restore_warm_up_${round}`;
    await cluster.query(database.database, 'CHECKPOINT');
    await byHand(warmUp);
    await cluster.dropDatabase(warmUp);
    for (const item of round % 2 ? cases : [...cases].reverse()) {
      // Each restore starts on a quiet server: the previous one's dirty pages
      // flushed (untimed), and its database gone, so autovacuum is not busy
      // with 5 million fresh rows while this one runs (it was: the second
      // restore of a round ran 1.3-1.8 s slower, whichever tool it was).
      await cluster.query(database.database, 'CHECKPOINT');
      await rm(psqlTimes, { force: true });
      const startedAt = Date.now() / 1000;
      const measured = await item.run(round);
      pair.push([item, { ...measured, ...(await restorePhases(psqlTimes, startedAt)) }]);
      const target = item.id === 'e' ? viaCli : viaShell;
      // Both restores must have brought the same rows back.
      const restored = await count(target);
      if (restored !== expected) throw new Error(`restored row counts differ: source ${expected}, ${item.command} ${restored}`);
      await cluster.dropDatabase(target);
    }
    return pair.sort(([first], [second]) => first.id.localeCompare(second.id));
  } finally {
    await Promise.allSettled([cluster.dropDatabase(viaCli), cluster.dropDatabase(viaShell)]);
    await rm(directory, { recursive: true, force: true });
  }
}

interface RestorePhases {
  toPsqlSeconds?: number;
  psqlSeconds?: number;
}

/** psql that appends `start <epoch s>` and `end <epoch s>` to `log` around a restore (not around `--version`). */
function timedPsqlScript(psql: string, log: string): string {
  return [
    '#!/bin/bash',
    `case " $* " in *" --version "*) exec "${psql}" "$@";; esac`,
    `echo "start $(date +%s.%N)" >> "${log}"`,
    `"${psql}" "$@"; status=$?`,
    `echo "end $(date +%s.%N)" >> "${log}"`,
    'exit $status',
    '',
  ].join('\n');
}

async function restorePhases(log: string, startedAt: number): Promise<RestorePhases> {
  const text = await readFile(log, 'utf8').catch(() => '');
  const start = Number(/^start (\S+)$/m.exec(text)?.[1]);
  const end = Number(/^end (\S+)$/m.exec(text)?.[1]);
  if (!(start > 0 && end >= start)) return {};
  return { toPsqlSeconds: start - startedAt, psqlSeconds: end - start };
}

/** Why `backupctl restore` cannot be measured in this checkout, or undefined when it can. */
async function restoreUnavailable(node: string, cliEnv: Record<string, string>): Promise<string | undefined> {
  const help = await runProcess(node, [CLI_ENTRY, 'restore', '--help'], { env: cliEnv });
  return help.code === 0 && /--target-url/.test(help.stdout) ? undefined : 'skipped: this backupctl has no `restore` command with --target-url yet';
}

function withStoredBytes(measured: Measurement): Measurement & { storedBytes: number } {
  return { ...measured, storedBytes: Number(measured.stdout.trim()) };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function zstdInstalled(): boolean {
  return spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
}
