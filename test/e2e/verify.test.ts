import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, seedClaraDatabase, startCli, uniqueName, useReferenceDatabases, usePostgres, useS3 } from '../harness/index.js';
import { startFaultProxy } from '../harness/fault-proxy.js';
import { backUp, databasesLike, flipByte, printedSecrets, referenceEnv, truncate } from './restore-fixtures.js';

const pg = usePostgres();
const s3 = useS3();
const { clara: claraDb, mem0: mem0Db } = useReferenceDatabases(pg);
const bucket = uniqueName('verify-backups');
const env = () => referenceEnv(pg, { clara: claraDb, mem0: mem0Db }, bucket);
let keys: Record<string, string>;

beforeAll(async () => {
  await s3.createBucket(bucket);
  keys = await backUp(env(), bucket, s3);
});

interface VerifyJson {
  ok: boolean;
  key: string;
  checksum: string;
  scratch: string;
  against: string;
  tables: { table: string; expectedRows?: number; restoredRows?: number; status: string }[];
  differences: number;
  error?: { code: string; message: string };
}

describe('backupctl verify', () => {
  it('passes on a good backup: checksum verified, every table matches its manifest, the scratch database is gone', async () => {
    const result = await runCli(['verify', 'clara'], { env: env() });
    expect(result.stderr).not.toMatch(/ERROR|WARN/);
    expect(result.code).toBe(0);
    expect(printedSecrets(result)).toBe(false);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Backup: {3}${keys.clara!.replaceAll('.', '\\.')} \\(taken \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC, [\\d.]+ KB, SHA-256 verified\\)$`));
    expect(lines[1]).toMatch(new RegExp(`^Restored: [\\d.]+ KB of plain SQL \\(psql\\) into scratch database 127\\.0\\.0\\.1:${pg.port}/${claraDb}_verify_\\d{8}_\\d{6}_[0-9a-f]{4} in \\d+\\.\\d s \\(dropped\\)$`));
    expect(lines.slice(3, 10)).toEqual([
      'table                 manifest rows  restored rows  status',
      'audit.events                    500            500  ok',
      'public.conversations            400            400  ok',
      'public.invoices                 150            150  ok',
      'public.messages                1176           1176  ok',
      'public.users                    300            300  ok',
      '',
    ]);
    expect(lines.at(-1)).toBe(`OK: ${keys.clara!.split('/').pop()} restores, and all 5 tables (2526 rows) match its manifest`);
    expect(await databasesLike(pg, '_verify_')).toEqual([]);
  });

  it('--json: the same, for machines, for the mem0 job', async () => {
    const result = await runCli(['verify', 'mem0', '--json'], { env: env() });
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout) as VerifyJson;
    expect(outcome).toMatchObject({ ok: true, key: keys.mem0, checksum: 'verified', against: 'manifest', differences: 0 });
    expect(outcome.tables).toEqual([
      { table: 'public.memories', expectedRows: 400, restoredRows: 400, status: 'ok' },
      { table: 'public.memory_history', expectedRows: 600, restoredRows: 600, status: 'ok' },
    ]);
    expect(outcome.scratch).toMatch(new RegExp(`/${mem0Db}_verify_`));
  });

  it('passes a backup whose source changed since (its manifest is what counts); --against-source reports the changes table by table and exits 1', async () => {
    const changed = uniqueName('clara_changed');
    await pg.createDatabase(changed);
    await seedClaraDatabase(pg, changed);
    const changedEnv = { ...env(), DATABASE_URL: pg.url(changed) };
    const run = await runCli(['run', '--job', 'clara'], { env: changedEnv });
    expect(run.code, run.stderr).toBe(0);
    await pg.psql(changed, `INSERT INTO invoices (amount, issued_at) VALUES (1, now()), (2, now()); DELETE FROM audit.events WHERE id <= 10; CREATE TABLE notes (n text);`);

    const byManifest = await runCli(['verify', 'clara'], { env: changedEnv });
    expect(byManifest.code, byManifest.stderr).toBe(0);
    expect(byManifest.stdout.trim().split('\n').at(-1)).toMatch(/^OK: .* restores, and all 5 tables \(2526 rows\) match its manifest$/);

    const result = await runCli(['verify', 'clara', '--against-source'], { env: changedEnv });
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines.slice(3, 11)).toEqual([
      'table                 source rows  restored rows  status',
      'audit.events                  490            500  differs (+10 in backup)',
      'public.conversations          400            400  ok',
      'public.invoices               152            150  differs (-2 in backup)',
      'public.messages              1176           1176  ok',
      'public.notes                    0              -  missing in backup',
      'public.users                  300            300  ok',
      '',
    ]);
    expect(lines.at(-1)).toBe('FAILED: 3 of 6 tables differ from the source database (changed since the backup, or the backup is incomplete)');

    const json = await runCli(['verify', 'clara', '--json', '--against-source'], { env: changedEnv });
    expect(json.code).toBe(1);
    const outcome = JSON.parse(json.stdout) as VerifyJson;
    expect(outcome).toMatchObject({ ok: false, differences: 3 });
    expect(outcome.tables.filter((table) => table.status !== 'ok').map((table) => table.table)).toEqual(['audit.events', 'public.invoices', 'public.notes']);
    expect(await databasesLike(pg, '_verify_')).toEqual([]);
  });

  it('refuses a byte-flipped and a truncated backup, exit 1, and leaves no scratch database', async () => {
    for (const damage of ['flip', 'truncate'] as const) {
      const run = await runCli(['run', '--job', 'clara'], { env: env() });
      expect(run.code, run.stderr).toBe(0);
      const key = (await s3.listKeys(bucket, 'backups/clara/')).sort().at(-1)!;
      if (damage === 'flip') await flipByte(s3, bucket, key, 5);
      else await truncate(s3, bucket, key, 0.5);

      const result = await runCli(['verify', 'clara', '--key', key, '--json'], { env: env() });
      expect(result.code).toBe(1);
      const outcome = JSON.parse(result.stdout) as VerifyJson;
      expect(outcome).toMatchObject({ ok: false, error: { code: 'CHECKSUM_MISMATCH' } });
      expect(outcome.error!.message).toMatch(damage === 'flip' ? /does not match its checksum/ : /is truncated/);
      expect(result.stderr).toContain(`Error: ${outcome.error!.message}`);
      expect(await databasesLike(pg, '_verify_')).toEqual([]);
    }
  });

  it('drops the scratch database when cancelled (SIGINT) in the middle of the restore', async () => {
    const big = uniqueName('big');
    await pg.createDatabase(big);
    await pg.psql(big, 'CREATE TABLE blobs AS SELECT i, md5(i::text) || md5((i * 7)::text) AS t FROM generate_series(1, 300000) AS i');
    const bigEnv = { ...env(), DATABASE_URL: pg.url(big) };
    const run = await runCli(['run', '--job', 'clara'], { env: bigEnv });
    expect(run.code, run.stderr).toBe(0);

    const verify = startCli(['verify', 'clara'], { env: bigEnv });
    await verify.waitForOutput(/Restoring into PostgreSQL/, 'stderr');
    expect(await databasesLike(pg, `${big}_verify_`)).toHaveLength(1);
    verify.child.kill('SIGINT');
    const result = await verify.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Error: .*aborted/);
    expect(await databasesLike(pg, '_verify_')).toEqual([]);
  });

  it('creates the scratch database on the server of --scratch-url when given', async () => {
    // "Another server": the same cluster behind a TCP proxy on a port of its
    // own, so the scratch target can only carry that port if --scratch-url was used.
    const other = await startFaultProxy(`http://127.0.0.1:${pg.port}`, { http: false });
    try {
      const scratchUrl = pg.url('postgres').replace(`:${pg.port}/`, `:${other.port}/`);
      // The newest backups were damaged above: name the good one.
      const result = await runCli(['verify', 'clara', '--key', keys.clara!, '--json'], { env: { ...env(), VERIFY_SCRATCH_URL: scratchUrl } });
      expect(result.code, result.stderr).toBe(0);
      expect((JSON.parse(result.stdout) as VerifyJson).scratch).toMatch(new RegExp(`^127\\.0\\.0\\.1:${other.port}/${claraDb}_verify_`));
      expect(other.connections).toBeGreaterThan(0);
      expect(printedSecrets(result)).toBe(false);
      expect(await databasesLike(pg, '_verify_')).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
