import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2';
import { CLI_ENTRY, cliEnvironment } from '../test/harness/cli.js';
import { startMariadb, writeRootOptionFile, type MariadbServer } from '../test/harness/mariadb.js';
import { seedShopDatabase, type ShopSize } from '../test/harness/mariadb-seed.js';
import { BUCKET } from './comparison.js';
import { measure, type Measurement, type Watched } from './measure.js';
import type { CaseResult, Sample } from './report.js';
import { REPO_ROOT, type BenchS3 } from './services.js';

// `npm run bench -- --engine mariadb`: the mysql source against the shell
// pipeline a MariaDB user runs otherwise, on one seeded database in one run,
// interleaved and repeated as the PostgreSQL comparison is.

const PIPELINE = join(REPO_ROOT, 'bench', 'mariadb.yml');
const DATABASE = 'bench_shop';
/** What the mysql source passes mariadb-dump (dump-args.ts), so the shell pipeline dumps the same. */
const DUMP_ARGS = '--single-transaction --quick --routines --triggers --events --hex-blob --default-character-set=utf8mb4 --no-tablespaces';

/** The shop database at `scale`: 1 is 20,000 customers, 100,000 orders, 200 BLOBs of 50 kB (about 45 MB of SQL). */
export function shopSize(scale: number): ShopSize {
  return {
    customers: Math.max(1, Math.round(20_000 * scale)),
    ordersPerCustomer: 5,
    attachments: Math.max(1, Math.round(200 * scale)),
    attachmentBytes: 50_000,
  };
}

export interface MariadbRun {
  server: MariadbServer;
  results: CaseResult[];
  rawBytes: number;
  version: string;
}

interface Case {
  id: string;
  label: string;
  command: string;
  group: CaseResult['group'];
  run(): Promise<Measurement & { storedBytes?: number; rawBytes?: number; key?: string }>;
}

/**
 * Starts the harness's MariaDB, seeds the shop database (test/harness/
 * mariadb-seed.ts) and runs the cases once per round, the order rotated
 * each round; then the restore pair on the round's object. The caller
 * stops `server` (also on failure: `started` hands it over first).
 */
export async function runMariadbComparison(
  s3: BenchS3,
  options: { scale: number; rounds: number; node: string; log: (line: string) => void; started: (server: MariadbServer) => void },
): Promise<MariadbRun> {
  const { log } = options;
  const server = await startMariadb();
  options.started(server);
  const size = shopSize(options.scale);
  log(`Seeding MariaDB: ${size.customers} customers, ${size.customers * size.ordersPerCustomer} orders, ${size.attachments} BLOBs of ${size.attachmentBytes / 1000} kB ...`);
  await seedShopDatabase(server, DATABASE, size);
  const [row] = await server.query<RowDataPacket[]>('SELECT VERSION() AS version');
  const version = String(row?.version ?? 'unknown');
  const directory = await mkdtemp(join(tmpdir(), 'backupctl-bench-mariadb-'));
  try {
    const optionFile = await writeRootOptionFile(server, join(directory, 'root.cnf'));
    const watched = (): Watched => ({ s3Pid: s3.pid, postmasterPid: server.pid() });
    const shell = (script: string) => measure('bash', ['-o', 'pipefail', '-c', script], { PATH: process.env.PATH }, watched());
    const dump = `mariadb-dump --defaults-file=${optionFile} ${DUMP_ARGS} ${DATABASE}`;
    const client = `mariadb --defaults-file=${optionFile}`;
    const cliEnv = cliEnvironment({
      MYSQL_URL: server.url(DATABASE),
      S3_BUCKET: BUCKET,
      S3_ENDPOINT_URL: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKeyId,
      S3_SECRET_KEY: s3.secretAccessKey,
    });
    const backupctl = async (job: string) => {
      const measured = await measure(options.node, [CLI_ENTRY, 'run', PIPELINE, '--job', job, '--json'], cliEnv, watched());
      const [result] = (JSON.parse(measured.stdout) as { jobs: { key?: string; bytes?: number; sourceBytes?: number; error?: { message: string } }[] }).jobs;
      if (!result?.key) throw new Error(`backupctl run --job ${job} stored nothing: ${result?.error?.message ?? measured.stdout}`);
      return { ...measured, storedBytes: result.bytes, rawBytes: result.sourceBytes, key: result.key };
    };
    const storedBytes = (measured: Measurement) => ({ ...measured, storedBytes: Number(measured.stdout.trim()) });
    const dumps: Case[] = [
      { id: 'ma', label: "mariadb-dump alone, the source's limit", command: 'mariadb-dump > /dev/null', group: 'dump', run: () => shell(`${dump} > /dev/null`) },
      { id: 'mb', label: 'what most scripts run', command: 'mariadb-dump | gzip -6 | wc -c', group: 'dump', run: async () => storedBytes(await shell(`${dump} | gzip -6 | wc -c`)) },
      { id: 'mc', label: 'backupctl, mysql source, parallel gzip', command: 'backupctl run (mysql, gzip) -> S3', group: 'dump', run: () => backupctl('mysql') },
      { id: 'md', label: 'backupctl, no manifest counts', command: 'backupctl run (mysql manifest: false, gzip) -> S3', group: 'dump', run: () => backupctl('mysql-no-manifest') },
    ];
    log('warm-up: mariadb-dump > /dev/null (not counted)');
    await shell(`${dump} > /dev/null`);

    const results = new Map<string, CaseResult>();
    const record = (item: Case, round: number, measured: Measurement & { storedBytes?: number }) => {
      const { stdout: _stdout, rssTimeline: _timeline, ...kept } = measured;
      const sample: Sample = { ...kept, round };
      const result = results.get(item.id) ?? { id: item.id, label: item.label, command: item.command, group: item.group, samples: [] };
      result.samples.push(sample);
      results.set(item.id, result);
      log(`round ${round} (${item.id}) ${item.command}: ${measured.seconds.toFixed(2)} s, CPU ${measured.cpuSeconds.toFixed(1)} s, peak RSS ${(measured.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    };
    let rawBytes = 0;
    for (let round = 1; round <= options.rounds; round++) {
      const shift = (round - 1) % dumps.length;
      let key: string | undefined;
      for (const item of [...dumps.slice(shift), ...dumps.slice(0, shift)]) {
        const measured = await item.run();
        if (measured.rawBytes !== undefined) rawBytes = measured.rawBytes;
        if (item.id === 'mc') key = measured.key;
        record(item, round, measured);
      }
      if (!key) continue;
      // (me) and (me0): the round's object restored by backupctl and by hand, each into a new database; the order alternates.
      const file = join(directory, 'backup.sql.gz');
      await writeFile(file, await s3.getObject(BUCKET, key));
      const viaCli = `bench_restore_cli_${round}`;
      const viaShell = `bench_restore_shell_${round}`;
      const restores: Case[] = [
        {
          id: 'me',
          label: 'backupctl restore of (mc)',
          command: 'backupctl restore mysql --key KEY --create',
          group: 'restore',
          run: () =>
            measure(options.node, [CLI_ENTRY, 'restore', 'mysql', PIPELINE, '--key', key!, '--create', '--json'], { ...cliEnv, RESTORE_TARGET_URL: server.url(viaCli) }, watched()),
        },
        {
          id: 'me0',
          label: 'the same object, by hand',
          command: 'CREATE DATABASE; gunzip -c FILE | mariadb',
          group: 'restore',
          run: () => shell(`${client} -e 'CREATE DATABASE ${viaShell}' && gunzip -c "${file}" | ${client} ${viaShell}`),
        },
      ];
      const count = async (database: string) => (await server.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${database}\`.orders`))[0]?.n;
      const expected = await count(DATABASE);
      // An untimed restore first, as in the PostgreSQL pair: whichever restore runs first after the dumps pays a penalty.
      const warmUp = `bench_restore_warm_up_${round}`;
      await shell(`${client} -e 'CREATE DATABASE ${warmUp}' && gunzip -c "${file}" | ${client} ${warmUp}`);
      await server.query(`DROP DATABASE \`${warmUp}\``);
      for (const item of round % 2 ? restores : [...restores].reverse()) {
        record(item, round, await item.run());
        const target = item.id === 'me' ? viaCli : viaShell;
        const restored = await count(target);
        if (String(restored) !== String(expected)) throw new Error(`restored row counts differ: source ${expected}, ${item.command} ${restored}`);
        await server.query(`DROP DATABASE \`${target}\``);
      }
    }
    return { server, results: [...results.values()], rawBytes, version };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
