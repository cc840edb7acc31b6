// Shared by restore.test.ts and verify.test.ts: the reference environment,
// a backup to work on, and ways to damage a stored object.
import { runCli, TEST_PG_PASSWORD, type CliResult, type PostgresClient, type S3Helpers } from '../harness/index.js';

/** The default pipeline's environment, every backup forced (see test/harness/reference-env.ts). */
export { referenceEnv } from '../harness/index.js';


/** Runs `backupctl run` and returns the key of each job's new backup. */
export async function backUp(env: Record<string, string>, bucket: string, s3: S3Helpers, args: string[] = []): Promise<Record<string, string>> {
  const before = new Set(await s3.listKeys(bucket, 'backups/'));
  const result = await runCli(['run', ...args], { env });
  if (result.code !== 0) throw new Error(`backupctl run failed (${result.code}):\n${result.stderr}`);
  const keys: Record<string, string> = {};
  for (const key of await s3.listKeys(bucket, 'backups/')) {
    if (!before.has(key)) keys[key.split('/')[1]!] = key;
  }
  return keys;
}

/** The object with one byte XOR-ed at `offset` (negative: from the end), stored back under the same key. */
export async function flipByte(s3: S3Helpers, bucket: string, key: string, offset: number): Promise<void> {
  const body = await s3.getObject(bucket, key);
  const index = offset < 0 ? body.length + offset : offset;
  body[index] = body[index]! ^ 0x01;
  await s3.putObject(bucket, key, body);
}

/** The object cut to `fraction` of its length, stored under `to` (the same key by default). */
export async function truncate(s3: S3Helpers, bucket: string, key: string, fraction: number, to = key): Promise<void> {
  const body = await s3.getObject(bucket, key);
  await s3.putObject(bucket, to, body.subarray(0, Math.floor(body.length * fraction)));
}

/** The user tables of a database, `schema.table`. */
export async function userTables(pg: PostgresClient, database: string): Promise<string[]> {
  const rows = await pg.query<{ name: string }>(
    database,
    `SELECT schemaname || '.' || tablename AS name FROM pg_tables
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

/** Databases whose name contains `part` (to find scratch databases left behind). */
export async function databasesLike(pg: PostgresClient, part: string): Promise<string[]> {
  const rows = await pg.query<{ datname: string }>('postgres', 'SELECT datname FROM pg_database WHERE strpos(datname, $1) > 0', [part]);
  return rows.map((row) => row.datname);
}

/** The log lines without their `YYYY-MM-DD HH:MM:SS - ` prefix. */
export function logLines(result: CliResult): string[] {
  return result.stderr
    .split('\n')
    .filter((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - /.test(line))
    .map((line) => line.slice(22));
}

/** Everything the command printed must be free of the database password. */
export function printedSecrets(result: CliResult): boolean {
  const output = result.stdout + result.stderr;
  return output.includes(TEST_PG_PASSWORD) || output.includes(encodeURIComponent(TEST_PG_PASSWORD));
}
