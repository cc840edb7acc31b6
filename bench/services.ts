import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PostgresCluster } from '../test/harness/postgres.js';
import type { S3ConnectionInfo } from '../test/harness/s3-client.js';
import { s3Helpers } from '../test/harness/s3-client.js';
import { runProcess } from '../test/harness/process.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(BENCH_DIR, '..');

/** The S3 server the bench started, in its own process. */
export interface BenchS3 extends S3ConnectionInfo {
  pid: number;
  createBucket(name: string): Promise<void>;
  getObject(bucket: string, key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

/** Starts bench/s3-server.ts in a child process (so its CPU can be read apart) and waits for its address. */
export async function startBenchS3(): Promise<BenchS3> {
  const directory = await mkdtemp(join(tmpdir(), 'backupctl-bench-s3-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 's3-server.ts'), directory], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const info = await firstLine(child).catch(async (error: unknown) => {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  });
  const connection = JSON.parse(info) as S3ConnectionInfo;
  const helpers = s3Helpers(connection);
  return {
    ...connection,
    pid: child.pid ?? 0,
    createBucket: helpers.createBucket,
    getObject: helpers.getObject,
    stop: async () => {
      helpers.destroy();
      child.stdin?.end();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolveLine, reject) => {
    if (!child.stdout) throw new Error('no stdout');
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      lines.close();
      resolveLine(line);
    });
    child.once('exit', (code) => reject(new Error(`the S3 server exited (${code}) before it listened`)));
  });
}

/** CPU seconds (user + system) a process used so far; `children` adds what its reaped children used. */
export async function cpuSeconds(pid: number, children = false): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // utime, stime, cutime, cstime are fields 14-17 of the whole line (11-14 here, 0-based).
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = fields.slice(11, 15);
  const ticks = children ? utime + stime + cutime + cstime : utime + stime;
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** The PostgreSQL cluster with a pgbench database, and what the bench needs to reach it. */
export interface BenchDatabase {
  cluster: PostgresCluster;
  database: string;
  /** The postmaster; its reaped children's CPU is the backends' CPU. */
  postmasterPid: number;
  /** libpq environment for pg_dump, psql and pgbench (password included: never print it). */
  libpqEnv: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway cluster and fills `database` with `pgbench -i -s scale`
 * plus a table of text and jsonb (10,000 rows per scale unit), whose
 * compression ratio is closer to real application data than pgbench's
 * blank-padded rows.
 */
export async function startBenchDatabase(scale: number, log: (line: string) => void): Promise<BenchDatabase> {
  const cluster = await startPostgres();
  const database = 'bench';
  try {
    await cluster.createDatabase(database);
    const libpqEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: cluster.user,
      PGPASSWORD: cluster.password,
      PGDATABASE: database,
    };
    let started = performance.now();
    const pgbench = await runProcess(join(cluster.binDir, 'pgbench'), ['-i', '-q', '-s', String(scale), database], { env: libpqEnv });
    if (pgbench.code !== 0) throw new Error(`pgbench -i failed: ${pgbench.stderr.trim()}`);
    log(`pgbench -i -s ${scale}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    started = performance.now();
    await cluster.psql(database, documentsSql(scale * 10_000));
    log(`documents table (${scale * 10_000} rows of text and jsonb): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const [dataDirectory] = (await cluster.query<{ dir: string }>(database, "SELECT current_setting('data_directory') AS dir")).map((row) => row.dir);
    const postmasterPid = Number((await readFile(join(dataDirectory ?? '', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return { cluster, database, postmasterPid, libpqEnv, stop: () => cluster.stop() };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * Rows like an application's: titles and bodies of words drawn from a
 * vocabulary (gzip -6 takes them to about a third), authors, and a jsonb
 * document per row. Deterministic (setseed), so every run dumps the same bytes.
 */
function documentsSql(rows: number): string {
  return `
SELECT setseed(0.42);
CREATE TABLE documents (
  id bigint PRIMARY KEY,
  author text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  meta jsonb NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TEMP TABLE vocabulary AS
SELECT array_agg(word) AS words FROM regexp_split_to_table(
  'backup restore database table index query stream buffer memory worker thread chunk block member header ' ||
  'trailer object bucket upload part region endpoint signature request response server client session token ' ||
  'account invoice payment customer order product price discount shipping address city country street phone ' ||
  'email message conversation reply thread channel user group role permission policy audit event record ' ||
  'schedule retention window daily weekly monthly yearly snapshot replica primary standby failover latency ' ||
  'throughput bandwidth compression ratio level speed size limit quota budget cost estimate report summary ' ||
  'the a an of to in for on with by at from as is was are were be been has have had will would can could ' ||
  'should may might must this that these those it its they them their we our you your he she his her not ' ||
  'and or but if then else when while because although after before during until since about above below ' ||
  'quick brown fox jumps over lazy dog alpha beta gamma delta epsilon zeta theta lambda sigma omega river ' ||
  'mountain forest ocean desert valley island bridge tower castle garden market harbor village station ' ||
  'morning evening night today tomorrow yesterday spring summer autumn winter january february march april',
  ' ') AS word;
-- 20,000 sentences of 5-15 words, then rows made of sentences drawn at
-- random: far more distinct text than gzip's 32 KiB window can exploit.
CREATE TEMP TABLE sentences AS
SELECT n, (SELECT string_agg(v.words[1 + floor(random() * array_length(v.words, 1))::int], ' ' ORDER BY g)
           FROM generate_series(1, 5 + n % 11) AS g) AS sentence
FROM generate_series(0, 19999) AS n, vocabulary AS v;
ALTER TABLE sentences ADD PRIMARY KEY (n);
ANALYZE sentences;
INSERT INTO documents
SELECT i,
       (ARRAY['Zoë Faÿ','Ana Lima','Søren Ærø','Émile Brontë','山田 太郎','Nguyễn Văn Ánh','Dmitri Ivanov','Mary Smith'])[1 + i % 8],
       s0.sentence,
       concat_ws('. ', s1.sentence, s2.sentence, s3.sentence, s4.sentence,
                 CASE WHEN i % 2 = 0 THEN s5.sentence END) || '.',
       jsonb_build_object(
         'tags', jsonb_build_array(v.words[1 + i % 97], v.words[1 + i % 89], v.words[1 + i % 83]),
         'score', round((abs(hashint4(i)) % 10000)::numeric / 100, 2),
         'views', abs(hashint4(i + 1)) % 100000,
         'lang', (ARRAY['en','fr','de','ja','pt'])[1 + i % 5],
         'draft', i % 11 = 0),
       timestamptz '2024-01-01 00:00:00+00' + i * interval '17 seconds'
FROM generate_series(1, ${rows}) AS i
CROSS JOIN vocabulary AS v
-- Sentences picked by a hash of the row number: random-looking, the same every run.
JOIN sentences AS s0 ON s0.n = abs(hashint4(i * 6)) % 20000
JOIN sentences AS s1 ON s1.n = abs(hashint4(i * 6 + 1)) % 20000
JOIN sentences AS s2 ON s2.n = abs(hashint4(i * 6 + 2)) % 20000
JOIN sentences AS s3 ON s3.n = abs(hashint4(i * 6 + 3)) % 20000
JOIN sentences AS s4 ON s4.n = abs(hashint4(i * 6 + 4)) % 20000
JOIN sentences AS s5 ON s5.n = abs(hashint4(i * 6 + 5)) % 20000;
ANALYZE documents;
`;
}
