import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_ENTRY, cliEnvironment } from '../test/harness/cli.js';
import { startPostgres, type PostgresCluster } from '../test/harness/postgres.js';
import { BUCKET } from './comparison.js';
import { measure, type Watched } from './measure.js';
import { median } from './report.js';
import type { BenchS3 } from './services.js';

/** The concurrencies compared, in one run, interleaved round by round. */
export const PART_CONCURRENCIES = [1, 2, 4] as const;

/** One `backupctl run --concurrency N` of the whole server. */
export interface PartsSample {
  concurrency: number;
  round: number;
  seconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  s3CpuSeconds: number;
  postgresCpuSeconds: number;
}

export interface PartsSummary {
  concurrency: number;
  secondsMin: number;
  secondsMedian: number;
  /** Seconds at concurrency 1 / these seconds (median). */
  speedup: number;
  peakRssBytes: number;
  cpuSecondsMedian: number;
}

/** `--parts N`: the server's databases, N of them of mixed sizes. */
export interface PartsServer {
  cluster: PostgresCluster;
  databases: string[];
  /** The dump's raw bytes over all databases (pg_database_size, roughly). */
  bytes: number;
  postmasterPid: number;
}

/**
 * Rows per database: one large (`scale` × 40,000 rows of ~100 bytes), two
 * medium (a quarter), the rest small (1/40th), so a run has a long part
 * and many short ones as a server of tenants does.
 */
function rowsOf(index: number, scale: number): number {
  const large = scale * 40_000;
  return index === 0 ? large : index < 3 ? large / 4 : large / 40;
}

export async function startPartsServer(count: number, scale: number, log: (line: string) => void): Promise<PartsServer> {
  const cluster = await startPostgres();
  try {
    const databases = Array.from({ length: count }, (_, index) => `tenant_${String(index).padStart(2, '0')}`);
    const started = performance.now();
    for (const [index, database] of databases.entries()) {
      await cluster.createDatabase(database);
      await cluster.psql(
        database,
        `CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
         INSERT INTO t SELECT i, md5(i::text) || ' ' || md5((i * 7)::text) || ' ' || repeat('tenant row ', 3) FROM generate_series(1, ${Math.round(rowsOf(index, scale))}) AS i;`,
      );
    }
    const [size] = await cluster.query<{ bytes: string }>('postgres', `SELECT sum(pg_database_size(datname))::text AS bytes FROM pg_database WHERE datname LIKE 'tenant\\_%'`);
    log(`${count} databases (largest ${rowsOf(0, scale)} rows): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const [dataDirectory] = (await cluster.query<{ dir: string }>('postgres', "SELECT current_setting('data_directory') AS dir")).map((row) => row.dir);
    const postmasterPid = Number((await readFile(join(dataDirectory ?? '', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return { cluster, databases, bytes: Number(size?.bytes ?? 0), postmasterPid };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * `backupctl run --concurrency N` of one whole-server job (the default
 * gzip, S3) for N in 1, 2, 4, `rounds` times, interleaved so a slow moment
 * of the machine falls on every N alike. Each run writes under a prefix of
 * its own, so respawn never skips a part.
 */
export async function runParts(server: PartsServer, s3: BenchS3, rounds: number, node: string, log: (line: string) => void): Promise<PartsSample[]> {
  const directory = await mkdtemp(join(tmpdir(), 'backupctl-bench-parts-'));
  const file = join(directory, 'parts.yml');
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  server:',
      '    source:',
      '      use: postgres',
      `      with: { url: "\${SERVER_URL}", databases: [${server.databases.join(', ')}] }`,
      '    transforms: [{ use: gzip, with: { level: 6 } }]',
      '    sink:',
      '      use: s3',
      '      with: { bucket: "${S3_BUCKET}", endpoint: "${S3_ENDPOINT_URL}", accessKeyId: "${S3_ACCESS_KEY}", secretAccessKey: "${S3_SECRET_KEY}", prefix: "${PREFIX}" }',
      '',
    ].join('\n'),
  );
  const { cluster } = server;
  const watched: Watched = { s3Pid: s3.pid, postmasterPid: server.postmasterPid };
  const samples: PartsSample[] = [];
  try {
    for (let round = 1; round <= rounds; round += 1) {
      for (const concurrency of PART_CONCURRENCIES) {
        const env = cliEnvironment({
          SERVER_URL: `postgresql://${encodeURIComponent(cluster.user)}:${encodeURIComponent(cluster.password)}@${cluster.host}:${cluster.port}/postgres`,
          S3_BUCKET: BUCKET,
          S3_ENDPOINT_URL: s3.endpoint,
          S3_ACCESS_KEY: s3.accessKeyId,
          S3_SECRET_KEY: s3.secretAccessKey,
          PREFIX: `bench/parts/r${round}-c${concurrency}/`,
        });
        const measured = await measure(node, [CLI_ENTRY, 'run', file, '--concurrency', String(concurrency), '--json', '--log-format', 'json'], env, watched);
        const summary = JSON.parse(measured.stdout) as { ok: boolean; jobs: { result: string }[] };
        const stored = summary.jobs.filter((job) => job.result === 'succeeded').length;
        if (stored !== server.databases.length) throw new Error(`concurrency ${concurrency}: ${stored} of ${server.databases.length} databases backed up`);
        const sample: PartsSample = {
          concurrency,
          round,
          seconds: measured.seconds,
          cpuSeconds: measured.cpuSeconds,
          peakRssBytes: measured.peakRssBytes,
          s3CpuSeconds: measured.s3CpuSeconds,
          postgresCpuSeconds: measured.postgresCpuSeconds,
        };
        samples.push(sample);
        log(`round ${round}, concurrency ${concurrency}: ${sample.seconds.toFixed(1)} s, peak RSS ${(sample.peakRssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${sample.cpuSeconds.toFixed(1)} s`);
      }
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  return samples;
}

export function summarizeParts(samples: readonly PartsSample[]): PartsSummary[] {
  const secondsOf = (concurrency: number) => samples.filter((sample) => sample.concurrency === concurrency).map((sample) => sample.seconds);
  const baseline = median(secondsOf(1));
  return PART_CONCURRENCIES.map((concurrency) => {
    const mine = samples.filter((sample) => sample.concurrency === concurrency);
    const seconds = secondsOf(concurrency);
    return {
      concurrency,
      secondsMin: Math.min(...seconds),
      secondsMedian: median(seconds),
      speedup: baseline / median(seconds),
      peakRssBytes: Math.max(...mine.map((sample) => sample.peakRssBytes)),
      cpuSecondsMedian: median(mine.map((sample) => sample.cpuSeconds)),
    };
  });
}

export function partsTable(summaries: readonly PartsSummary[]): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  return [
    '| concurrency | s min / median | speed-up (median, vs 1) | peak RSS | backupctl CPU s (median) |',
    '|---:|---:|---:|---:|---:|',
    ...summaries.map(
      (row) => `| ${row.concurrency} | ${row.secondsMin.toFixed(2)} / ${row.secondsMedian.toFixed(2)} | ${row.speedup.toFixed(2)} | ${mib(row.peakRssBytes)} | ${row.cpuSecondsMedian.toFixed(1)} |`,
    ),
  ].join('\n');
}
