/**
 * `npm run demo`: back up two PostgreSQL databases to S3 with the built CLI,
 * list the backups, and prove they restore.
 *
 * Without DATABASE_URL it starts a throwaway PostgreSQL cluster and seeds
 * clara_main and clara_vectors; without S3_BUCKET it starts a local S3 server
 * (s3rver) that keeps its objects in .demo/s3 between runs. Then it runs
 * `backupctl run` and `backupctl ls` as a user would. When it started both
 * services itself, it restores each job's newest backup into a new database
 * and compares every table, sequence and view with the source.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { CLI_ENTRY } from '../test/harness/cli.js';
import { startPostgres, type PostgresCluster } from '../test/harness/postgres.js';
import { startS3Server, type S3Server } from '../test/harness/s3.js';
import { seedClaraDatabase, seedMem0Database, tableFingerprints, type DatabaseFingerprint } from '../test/harness/seed.js';

// This process talks to the local S3 server with the AWS SDK, whose Node 20
// notice would bury the demo's output (the CLI silences it the same way).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const S3_DIRECTORY = join(REPO_ROOT, '.demo', 's3');
const BUCKET = 'clara-backups';

/** The default pipeline's jobs: where each keeps its backups and which database it dumps. */
const JOBS = [
  { job: 'clara', prefix: 'backups/clara/', database: 'clara_main', seed: seedClaraDatabase },
  { job: 'mem0', prefix: 'backups/mem0/', database: 'clara_vectors', seed: seedMem0Database },
] as const;

interface Services {
  postgres?: PostgresCluster;
  s3?: S3Server;
}

async function main(): Promise<boolean> {
  if (!existsSync(CLI_ENTRY)) {
    console.error(`${relative(REPO_ROOT, CLI_ENTRY)} not found: build first (npm run build)`);
    return false;
  }
  const services: Services = {};
  const stopServices = async (): Promise<void> => {
    await Promise.allSettled([services.s3?.stop(), services.postgres?.stop()]);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping what the demo started`);
    interrupted = true;
    runningCli?.kill(signal);
    void stopServices().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    if (!process.env.DATABASE_URL) services.postgres = await startDatabases();
    if (!process.env.S3_BUCKET) services.s3 = await startStorage();

    const before = services.s3 && (await newestKeys(services.s3));
    const startedAt = performance.now();
    const runOk = await cli(['run']);
    const runSeconds = (performance.now() - startedAt) / 1000;
    const lsOk = await cli(['ls']);

    let restoreOk = true;
    if (services.postgres && services.s3 && before && runOk) {
      restoreOk = await proveRestores(services.postgres, services.s3, before, runSeconds);
    }
    return runOk && lsOk && restoreOk;
  } finally {
    await stopServices();
  }
}

async function startDatabases(): Promise<PostgresCluster> {
  const postgres = await startPostgres();
  try {
    for (const { database, seed } of JOBS) {
      await postgres.createDatabase(database);
      await seed(postgres, database);
    }
  } catch (error) {
    await postgres.stop();
    throw error;
  }
  process.env.DATABASE_URL = postgres.url('clara_main');
  process.env.MEM0_DATABASE_URL = postgres.url('clara_vectors');
  const [version] = (await postgres.psql('postgres', 'SHOW server_version')).split(' ');
  console.log(
    `Started a throwaway PostgreSQL ${version} cluster on ${postgres.host}:${postgres.port} ` +
      `with clara_main and clara_vectors seeded (DATABASE_URL, MEM0_DATABASE_URL).`,
  );
  return postgres;
}

async function startStorage(): Promise<S3Server> {
  const s3 = await startS3Server({ directory: S3_DIRECTORY });
  try {
    await s3.createBucket(BUCKET);
  } catch (error) {
    // The bucket survives from an earlier demo run: .demo/s3 is kept on purpose.
    if ((error as Error).name !== 'BucketAlreadyExists') {
      await s3.stop();
      throw error;
    }
  }
  Object.assign(process.env, {
    S3_BUCKET: BUCKET,
    S3_ENDPOINT_URL: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKeyId,
    S3_SECRET_KEY: s3.secretAccessKey,
    S3_REGION: s3.region,
  });
  console.log(
    `Started a local S3 server (s3rver) on ${s3.endpoint} with bucket ${BUCKET}, ` +
      `kept in ${relative(REPO_ROOT, S3_DIRECTORY)} between runs (S3_*).`,
  );
  return s3;
}

/** The CLI while it runs, so a signal to the demo reaches it too (a terminal's Ctrl-C already does). */
let runningCli: ChildProcess | undefined;
/** Set by SIGINT/SIGTERM: start nothing more while the services stop. */
let interrupted = false;

/** Runs the built CLI as a user would: same terminal, this process's environment. */
function cli(args: string[]): Promise<boolean> {
  if (interrupted) return Promise.resolve(false);
  console.log(`\n$ backupctl ${args.join(' ')}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { stdio: 'inherit', env: process.env, cwd: REPO_ROOT });
    runningCli = child;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      runningCli = undefined;
      if (code !== 0) console.error(`backupctl ${args.join(' ')} failed (${signal ?? `exit ${code}`})`);
      resolvePromise(code === 0);
    });
  });
}

/** Each job's newest key (names carry a UTC timestamp, so the last in order is the newest). */
async function newestKeys(s3: S3Server): Promise<Map<string, string | undefined>> {
  const newest = new Map<string, string | undefined>();
  for (const { job, prefix } of JOBS) newest.set(job, (await s3.listKeys(BUCKET, prefix)).at(-1));
  return newest;
}

/**
 * Restores each job's newest backup into `<database>_restored` and compares it
 * with the source; prints one line per job and the run's throughput.
 */
async function proveRestores(
  postgres: PostgresCluster,
  s3: S3Server,
  before: Map<string, string | undefined>,
  runSeconds: number,
): Promise<boolean> {
  console.log('');
  const after = await newestKeys(s3);
  let ok = true;
  let plainBytes = 0;
  let allNew = true;
  for (const { job, prefix, database } of JOBS) {
    const key = after.get(job);
    if (key === undefined) {
      console.error(`FAILED ${job}: no backup in s3://${BUCKET}/${prefix}`);
      ok = false;
      continue;
    }
    const isNew = key !== before.get(job);
    if (!isNew) {
      allNew = false;
      console.log(`${job}: the run wrote no new backup (see its output above); checking the newest one instead`);
    }
    const restored = `${database}_restored`;
    await postgres.dropDatabase(restored);
    await postgres.createDatabase(restored);
    const bytes = await restoreObject(postgres, s3, key, restored);
    if (isNew) plainBytes += bytes;

    const [source, copy] = await Promise.all([tableFingerprints(postgres, database), tableFingerprints(postgres, restored)]);
    const tables = Object.keys(source.tables).length;
    const rows = Object.values(source.tables).reduce((sum, table) => sum + table.rows, 0);
    if (isDeepStrictEqual(source, copy)) {
      console.log(`restored ${key} into ${restored}: ${tables} tables, ${rows} rows match`);
    } else {
      console.error(`FAILED restored ${key} into ${restored}, but it differs from ${database}: ${differences(source, copy)}`);
      ok = false;
    }
  }
  if (ok && allNew && runSeconds > 0) {
    const megabytes = plainBytes / 1e6;
    console.log(
      `run: ${megabytes.toFixed(1)} MB of plain SQL dumped, compressed and uploaded in ${runSeconds.toFixed(1)} s ` +
        `= ${(megabytes / runSeconds).toFixed(1)} MB/s (wall time of \`backupctl run\`, start-up included)`,
    );
  }
  return ok;
}

/** Streams the object through gunzip into psql; resolves with the plain SQL's size in bytes. */
async function restoreObject(postgres: PostgresCluster, s3: S3Server, key: string, database: string): Promise<number> {
  const client = s3.client();
  try {
    const { Body } = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    if (!Body) throw new Error(`s3://${BUCKET}/${key} has no body`);
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    // An error anywhere (download, gunzip) destroys `counter`, which fails the psql call.
    const sql = pipeline(Body as Readable, createGunzip(), counter, () => undefined);
    await postgres.psql(database, sql);
    return bytes;
  } finally {
    client.destroy();
  }
}

/** Names what differs between two fingerprints, for the failure line. */
function differences(source: DatabaseFingerprint, copy: DatabaseFingerprint): string {
  const found: string[] = [];
  for (const part of ['tables', 'sequences', 'views'] as const) {
    const names = new Set([...Object.keys(source[part]), ...Object.keys(copy[part])]);
    for (const name of names) {
      if (!isDeepStrictEqual(source[part][name], copy[part][name])) found.push(`${part.slice(0, -1)} ${name}`);
    }
  }
  return found.join(', ') || 'unknown';
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
