import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, uniqueName, usePostgres, useS3, type CliResult } from '../harness/index.js';
import { databasesLike, flipByte, logLines, printedSecrets } from './restore-fixtures.js';

// Proven backups (issue 17), through the built CLI against the harness's
// real PostgreSQL and S3: each backup's manifest says what it holds, verify
// compares a restore with it (not with a database that moved on), results
// are recorded and marked, retention keeps the last proven copy, and a
// backup that suddenly holds far less is flagged and holds retention.

const postgres = usePostgres();
const s3 = useS3();
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('backupctl-proven-');
});

afterAll(async () => {
  await removeTempDir(dir);
});

interface Shop {
  database: string;
  bucket: string;
  env: Record<string, string>;
  /** The pipeline file, with the hooks given. */
  file: string;
}

/** A database of two tables (orders: `orders` rows) and a pipeline backing it up to a bucket of its own with `hooks`. */
async function shop(hooks: string, orders = 3000): Promise<Shop> {
  const database = uniqueName('shop');
  const bucket = uniqueName('proven-backups');
  await postgres.createDatabase(database);
  await postgres.psql(
    database,
    `CREATE TABLE orders (id serial PRIMARY KEY, note text);
     INSERT INTO orders (note) SELECT 'order ' || i || E'\\nwith a newline and a \\\\ backslash' FROM generate_series(1, ${orders}) AS i;
     CREATE TABLE customers (id int PRIMARY KEY, name text);
     INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(1, 40) AS i;`,
  );
  await s3.createBucket(bucket);
  const file = path.join(dir, `${database}.yml`);
  await writeFile(
    file,
    `version: 1
jobs:
  shop:
    title: Shop DB
    source:
      use: postgres
      with: { url: "\${DATABASE_URL}", retryAttempts: 1 }
    transforms:
      - use: gzip
    sink:
      use: s3
      with:
        bucket: "\${S3_BUCKET}"
        endpoint: "\${S3_ENDPOINT_URL}"
        region: "\${S3_REGION}"
        accessKeyId: "\${S3_ACCESS_KEY}"
        secretAccessKey: "\${S3_SECRET_KEY}"
        prefix: backups/shop/
      hooks:
${hooks}
`,
  );
  const info = inject('s3');
  const env = {
    DATABASE_URL: postgres.url(database),
    S3_BUCKET: bucket,
    S3_ENDPOINT_URL: info.endpoint,
    S3_REGION: info.region,
    S3_ACCESS_KEY: info.accessKeyId,
    S3_SECRET_KEY: info.secretAccessKey,
  };
  return { database, bucket, env, file };
}

/** `backupctl <args> <pipeline file>`: the command's own arguments first, the file last. */
async function cli(target: Shop, args: string[]): Promise<CliResult> {
  const result = await runCli([...args, target.file], { env: target.env });
  expect(printedSecrets(result)).toBe(false);
  return result;
}

/** Object names carry the second: a backup within the same second as the last would be the same object. */
function nextSecond(): Promise<void> {
  return sleep(1000 - (Date.now() % 1000) + 20);
}

async function backUp(target: Shop): Promise<string> {
  await nextSecond();
  const before = new Set(await backups(target));
  const result = await cli(target, ['run']);
  expect(result.code, result.stderr).toBe(0);
  const added = (await backups(target)).filter((key) => !before.has(key));
  expect(added).toHaveLength(1);
  return added[0]!;
}

async function backups(target: Shop): Promise<string[]> {
  return (await s3.listKeys(target.bucket, 'backups/shop/')).sort();
}

async function metadata<T>(target: Shop, name: string): Promise<T | undefined> {
  const keys = await s3.listKeys(target.bucket, `metadata/${name}`);
  if (!keys.includes(`metadata/${name}`)) return undefined;
  return JSON.parse((await s3.getObject(target.bucket, `metadata/${name}`)).toString('utf8')) as T;
}

/** Inserts a row into orders every few milliseconds on its own connection until stopped. */
function keepInserting(database: string): { stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: postgres.url(database) });
  let running = true;
  let inserted = 0;
  const loop = (async () => {
    await client.connect();
    while (running) {
      await client.query(`INSERT INTO orders (note) VALUES ('written during the backup')`);
      inserted++;
      await sleep(5);
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return inserted;
    },
  };
}

async function count(database: string, table: string): Promise<number> {
  const [row] = await postgres.query<{ n: string }>(database, `SELECT count(*)::text AS n FROM ${table}`);
  return Number(row!.n);
}

describe('manifests and verify', () => {
  it('a backup taken while rows are inserted verifies exactly against its manifest; only --against-source shows the difference', async () => {
    const target = await shop('        - use: retention\n          with: { days: 30 }', 200_000);
    const inserter = keepInserting(target.database);
    await sleep(100);
    const key = await backUp(target);
    const inserted = await inserter.stop();
    expect(inserted).toBeGreaterThan(0);

    const manifest = await metadata<{ tables: Record<string, number>; rowCounts: string; engine: string; dumpTool: string; serverVersion: string }>(target, `manifests/${key}.json`);
    expect(manifest).toMatchObject({ engine: 'PostgreSQL', rowCounts: 'exact' });
    expect(manifest!.dumpTool).toMatch(/^pg_dump \d+/);
    expect(manifest!.tables['public.customers']).toBe(40);
    // The dump's snapshot: at least the rows before it started, fewer than there are now.
    expect(manifest!.tables['public.orders']).toBeGreaterThanOrEqual(200_000);
    expect(manifest!.tables['public.orders']).toBeLessThan(await count(target.database, 'orders'));

    const verify = await cli(target, ['verify', 'shop']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('table             manifest rows  restored rows  status');
    expect(verify.stdout.trim().split('\n').at(-1)).toMatch(/^OK: shop_\d{8}_\d{6}\.sql\.gz restores, and all 2 tables \(\d+ rows\) match its manifest$/);
    expect(await databasesLike(postgres, '_verify_')).toEqual([]);

    const live = await cli(target, ['verify', 'shop', '--against-source', '--json']);
    expect(live.code).toBe(1);
    const outcome = JSON.parse(live.stdout) as { against: string; tables: { table: string; expectedRows: number; restoredRows: number; status: string }[] };
    expect(outcome.against).toBe('source');
    expect(outcome.tables.find((table) => table.table === 'public.orders')).toMatchObject({
      status: 'differs',
      expectedRows: await count(target.database, 'orders'),
      restoredRows: manifest!.tables['public.orders'],
    });

    // Recorded: the verification against the manifest; a live database that moved on proves nothing against the backup.
    expect(logLines(live)).toContain(`Shop DB: not recorded: a difference from the live database does not prove ${key} bad (verify without --against-source compares it with its manifest)`);
    const recorded = await metadata<{ key: string; result: string; against: string; where: string; restoreMs: number }>(target, `verified/${key}.json`);
    expect(recorded).toMatchObject({ key, result: 'passed', against: 'manifest', where: expect.stringMatching(/_verify_/), restoreMs: expect.any(Number) });
    const inspect = await cli(target, ['inspect', 'shop', '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ key, manifest: { tables: manifest!.tables }, verification: { result: 'passed' }, anomaly: null });
    // The same, for a person: the facts, then every table with its rows.
    const text = (await cli(target, ['inspect', 'shop', '--key', key])).stdout.split('\n');
    expect(text[0]).toMatch(new RegExp(`^Backup: {4}${escape(key)} \\([\\d.]+ [KM]B, taken \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\)$`));
    expect(text).toContainEqual(expect.stringMatching(/^Source: {4}PostgreSQL \d+\.\d+, dumped by pg_dump \d+\.\d+, database [\d.]+ [KM]B, plain SQL$/));
    const total = manifest!.tables['public.orders']! + 40;
    expect(text).toContain(`Rows:      2 tables, ${total} rows (exact: counted in the dump's COPY blocks)`);
    expect(text).toContainEqual(expect.stringMatching(/^Verified: {2}passed .* against its manifest in 127\.0\.0\.1:\d+\/shop_\w+_verify_\w+ \(restore \d+\.\d s\)$/));
    expect(text).toContain('Anomaly:   none');
    expect(text).toContainEqual(expect.stringMatching(new RegExp(`^public\\.orders +${manifest!.tables['public.orders']}$`)));
  });

  it('fails, records and marks a backup whose object was altered, or whose manifest does not match what restores', async () => {
    const target = await shop('        - use: retention\n          with: { days: 30 }');
    const altered = await backUp(target);
    const mismatched = await backUp(target);
    const good = await backUp(target);
    await flipByte(s3, target.bucket, altered, 40);
    const manifestKey = `metadata/manifests/${mismatched}.json`;
    const manifest = JSON.parse((await s3.getObject(target.bucket, manifestKey)).toString('utf8')) as { tables: Record<string, number> };
    manifest.tables['public.orders']! += 1;
    await s3.putObject(target.bucket, manifestKey, JSON.stringify(manifest));

    const damaged = await cli(target, ['verify', 'shop', '--key', altered]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/Error: .*does not match its checksum/);
    const differs = await cli(target, ['verify', 'shop', '--key', mismatched]);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(/public\.orders +3001 +3000 +differs \(-1 in backup\)/);
    expect(differs.stdout).toContain('FAILED: 1 of 2 tables differ from its manifest (the backup does not hold what was dumped)');
    const passes = await cli(target, ['verify', 'shop', '--key', good]);
    expect(passes.code, passes.stderr).toBe(0);
    expect(await databasesLike(postgres, '_verify_')).toEqual([]);

    expect(await metadata(target, `verified/${altered}.json`)).toMatchObject({ result: 'failed', error: { code: 'CHECKSUM_MISMATCH' } });
    expect(await metadata(target, `verified/${mismatched}.json`)).toMatchObject({
      result: 'failed',
      against: 'manifest',
      differences: [{ table: 'public.orders', expected: 3001, restored: 3000 }],
    });
    const ls = await cli(target, ['ls']);
    expect(ls.stdout).toContain(`  - ${altered} (`);
    expect(ls.stdout).toMatch(new RegExp(`${escape(altered)} \\([^)]+\\) \\[verify FAILED\\]`));
    expect(ls.stdout).toMatch(new RegExp(`${escape(mismatched)} \\([^)]+\\) \\[verify FAILED\\]`));
    expect(ls.stdout).toMatch(new RegExp(`${escape(good)} \\([^)]+\\) \\[verified\\]`));
  });
});

describe('the verify hook and verification-aware retention', () => {
  it('verifies each backup after its commit and records it; retention keeps the last verified backup when newer ones failed verification', async () => {
    const target = await shop('        - use: verify\n        - use: retention\n          with: { days: 0, keepLast: 1 }');
    const first = await backUp(target);
    expect(await metadata(target, `verified/${first}.json`)).toMatchObject({ result: 'passed', against: 'manifest', differences: [] });
    expect((await cli(target, ['ls'])).stdout).toMatch(new RegExp(`${escape(first)} \\([^)]+\\) \\[verified\\]`));

    // From now on no verify hook: the next backups are verified by hand, and found bad.
    await writeFile(target.file, (await readFile(target.file, 'utf8')).replace('        - use: verify\n', ''));
    const second = await backUp(target);
    expect(await backups(target)).toEqual([first, second]);
    await flipByte(s3, target.bucket, second, 40);
    expect((await cli(target, ['verify', 'shop', '--key', second])).code).toBe(1);

    await nextSecond();
    const run = await cli(target, ['run']);
    expect(run.code, run.stderr).toBe(0);
    const third = (await backups(target)).find((key) => key !== first && key !== second)!;
    const { verifiedAt } = (await metadata<{ verifiedAt: string }>(target, `verified/${first}.json`))!;
    expect(logLines(run)).toContain(`WARN: Cleanup: keeping what the rules would delete: ${first} is the newest backup that passed verification (${verifiedAt})`);
    // keepLast 1 keeps the third; the first stays as the last proven copy; the second goes, with its records.
    expect(await backups(target)).toEqual([first, third]);
    expect(await metadata(target, `manifests/${first}.json`)).toBeDefined();
    for (const record of ['checksums', 'manifests', 'verified']) expect(await metadata(target, `${record}/${second}.json`)).toBeUndefined();
  });

  it('fails the run (exit 1) with the tables that differ when a backup does not verify', async () => {
    // againstSource on a database written to during the run: the hook's comparison cannot match.
    const target = await shop('        - use: verify\n          with: { againstSource: true }', 100_000);
    const inserter = keepInserting(target.database);
    await nextSecond();
    const run = await cli(target, ['run']);
    await inserter.stop();
    expect(run.code).toBe(1);
    const lines = logLines(run);
    expect(lines.some((line) => /^ERROR: Shop DB backup committed, but what follows it failed: verification of backups\/shop\/shop_\d{8}_\d{6}\.sql\.gz failed: 1 of 2 tables differ: public\.orders \(expected \d+, restored \d+\)$/.test(line)), lines.join('\n')).toBe(true);
    // The backup stays; the live comparison is not recorded against it.
    const [key] = await backups(target);
    expect(await metadata(target, `checksums/${key}.json`)).toBeDefined();
    expect(await metadata(target, `verified/${key}.json`)).toBeUndefined();
  });
});

describe('the anomaly guard', () => {
  it('flags a backup after a big table was emptied, holds retention until accepted', async () => {
    const target = await shop('        - use: retention\n          with: { days: 0, keepLast: 1 }', 20_000);
    const before = await backUp(target);
    await postgres.psql(target.database, 'TRUNCATE orders');
    await nextSecond();
    const run = await cli(target, ['run']);
    expect(run.code, run.stderr).toBe(0);
    const flagged = (await backups(target)).find((key) => key !== before)!;
    const warning = logLines(run).find((line) => line.startsWith('WARN: Shop DB: anomaly in'));
    expect(warning).toBe(
      `WARN: Shop DB: anomaly in ${flagged} against ${before}: ` +
        `dump size shrank by ${warning!.match(/shrank by (\d+)%/)![1]}% (${warning!.match(/\(([^)]+ -> [^)]+)\)/)![1]}); ` +
        `total rows shrank by 100% (20040 -> 40); public.orders: 20000 rows -> empty; ` +
        `retention keeps it and every older backup until it is accepted: backupctl accept shop ${flagged}`,
    );
    // Retention (keepLast 1) ran after that backup and kept the older one.
    expect(await backups(target)).toEqual([before, flagged].sort());
    expect(logLines(run).some((line) => line.startsWith(`WARN: Cleanup: keeping what the rules would delete: the anomaly of ${flagged}`))).toBe(true);
    expect((await cli(target, ['ls'])).stdout).toMatch(new RegExp(`${escape(flagged)} \\([^)]+\\) \\[anomaly: not accepted\\]`));

    const refused = await cli(target, ['accept', 'shop', before]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Error: job shop has no open anomaly flag on ${before}`);
    const accept = await cli(target, ['accept', 'shop', flagged.split('/').pop()!]);
    expect(accept.code, accept.stderr).toBe(0);
    const prune = await cli(target, ['prune']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(await backups(target)).toEqual([flagged]);
    expect(await metadata(target, `anomalies/${before}.json`)).toBeUndefined();
    expect(await metadata(target, `anomalies/${flagged}.json`)).toMatchObject({ key: flagged, previousKey: before, acceptedAt: expect.any(String) });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('notifications', () => {
  it('the webhook gets verified and verify-failed from verify outside a run, and anomaly from a run', async () => {
    const received: { event: string; result: string; key?: string; reasons?: string[]; differences?: unknown[] }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const target = await shop(`        - use: webhook\n          with: { url: "${url}", on: [error, success, anomaly], retries: 0 }`, 5000);
      const key = await backUp(target);
      received.length = 0;

      expect((await cli(target, ['verify', 'shop'])).code).toBe(0);
      expect(received).toEqual([expect.objectContaining({ event: 'verified', result: 'succeeded', key })]);
      const manifestKey = `metadata/manifests/${key}.json`;
      const manifest = JSON.parse((await s3.getObject(target.bucket, manifestKey)).toString('utf8')) as { tables: Record<string, number> };
      manifest.tables['public.orders']! += 1;
      await s3.putObject(target.bucket, manifestKey, JSON.stringify(manifest));
      expect((await cli(target, ['verify', 'shop'])).code).toBe(1);
      expect(received[1]).toMatchObject({ event: 'verify-failed', result: 'failed', key, differences: [{ table: 'public.orders', expected: 5001, restored: 5000 }] });

      received.length = 0;
      await postgres.psql(target.database, 'TRUNCATE orders');
      const emptied = await backUp(target);
      const anomaly = received.find((payload) => payload.event === 'anomaly');
      // Compared with the previous backup's manifest, as edited above.
      expect(anomaly).toMatchObject({ key: emptied, reasons: expect.arrayContaining(['public.orders: 5001 rows -> empty']) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

