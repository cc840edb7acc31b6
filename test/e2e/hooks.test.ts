import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { advisoryLockKey } from '../../packages/plugin-postgres/src/advisory-lock.js';
import { runCli, seedClaraDatabase, startCli, testTempDir, uniqueName, usePostgres, useS3, type CliResult } from '../harness/index.js';

// Respawn protection, the one-run-at-a-time lock and retention, through the
// CLI with the default pipeline (S3) and a pipeline file with a file sink.

const postgres = usePostgres();
const s3 = useS3();
const claraDb = uniqueName('clara_main');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

function referenceEnv(bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: postgres.url(claraDb),
    S3_BUCKET: bucket,
    S3_ENDPOINT_URL: inject('s3').endpoint,
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    DB_RETRY_ATTEMPTS: '1',
    ...overrides,
  };
}

/** The log lines without their `YYYY-MM-DD HH:MM:SS - ` prefix. */
function logLines(result: CliResult): string[] {
  return result.stderr
    .split('\n')
    .filter((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - /.test(line))
    .map((line) => line.slice(22));
}

/** `clara_20260201_030000.sql.gz` for a time, as the engine names backups (UTC). */
function backupName(time: Date | number, job = 'clara'): string {
  const iso = new Date(time).toISOString();
  return `${job}_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}.sql.gz`;
}

/** `2026-02-01 03:00:05`, the log's UTC time format. */
function logTime(time: Date | string): string {
  return new Date(time).toISOString().slice(0, 19).replace('T', ' ');
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('hooks-test');
  await s3.createBucket(bucket);
  return bucket;
}

/** Back-dated backups put straight into the bucket, each with a checksum document as backupctl writes one. */
async function putBackups(bucket: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    await s3.putObject(bucket, key, `-- old dump ${key}\n`);
    await s3.putObject(bucket, `metadata/checksums/${key}.json`, JSON.stringify({ key, sha256: '00' }));
  }
}

async function lastBackupJson(bucket: string): Promise<{ jobs: Record<string, { key: string; finishedAt: string }> }> {
  return JSON.parse((await s3.getObject(bucket, 'metadata/last_backup.json')).toString('utf8')) as never;
}

/** A session of the test's own on the Clara database (for locks), ended by the caller. */
async function session(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: postgres.url(claraDb) });
  await client.connect();
  return client;
}

beforeAll(async () => {
  await postgres.createDatabase(claraDb);
  await seedClaraDatabase(postgres, claraDb);
});

afterAll(async () => {
  await postgres.dropDatabase(claraDb);
});

describe('respawn protection (default pipeline)', () => {
  it('skips a second run within RESPAWN_PROTECTION_HOURS with one line and exit 0; FORCE_BACKUP=true backs up again', async () => {
    const bucket = await freshBucket();
    const first = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket) });
    expect(first.stderr).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    const keys = await s3.listKeys(bucket, 'backups/');
    expect(keys).toHaveLength(1);
    const recorded = await s3.getObject(bucket, 'metadata/last_backup.json');
    const { finishedAt } = (await lastBackupJson(bucket)).jobs.clara!;

    const second = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket) });
    expect(second.code).toBe(0);
    const nextAllowed = logTime(new Date(new Date(finishedAt).getTime() + 23 * HOUR));
    const skipLine = new RegExp(
      `^Clara DB backup skipped: last backup ${logTime(finishedAt)} UTC \\(\\d+ seconds? ago\\); ` +
        `next allowed after ${nextAllowed} UTC \\(respawn protection: 23 hours\\)$`,
    );
    expect(logLines(second)).toEqual(['Starting backup...', expect.stringMatching(skipLine), 'Backup complete']);
    expect(await s3.listKeys(bucket, 'backups/')).toEqual(keys);
    expect((await s3.getObject(bucket, 'metadata/last_backup.json')).equals(recorded)).toBe(true);

    await sleep(1100); // a new second, so the forced backup gets a name of its own
    const forced = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket, { FORCE_BACKUP: 'True' }) });
    expect(forced.code).toBe(0);
    expect(logLines(forced)).toContainEqual(expect.stringMatching(/^Respawn protection bypassed for clara \(force is set\)/));
    expect(logLines(forced)).toContainEqual(expect.stringMatching(/^Clara DB backup complete: clara_\d{8}_\d{6}\.sql\.gz/));
    const after = await s3.listKeys(bucket, 'backups/');
    expect(after).toHaveLength(2);
    expect((await lastBackupJson(bucket)).jobs.clara!.key).toBe(after.find((key) => !keys.includes(key)));
  });

  it('without last_backup.json, dates the last backup by the newest object name; a shorter window lets the run through', async () => {
    const bucket = await freshBucket();
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
    const recent = `backups/clara/${backupName(twoHoursAgo)}`;
    await s3.putObject(bucket, recent, 'made by the reference service');
    await s3.putObject(bucket, `backups/clara/${backupName(Date.now() - 30 * HOUR)}`, 'older');

    const skipped = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket) });
    expect(skipped.code).toBe(0);
    const lastBackup = logTime(new Date(Math.floor(twoHoursAgo.getTime() / 1000) * 1000));
    expect(logLines(skipped)).toContainEqual(expect.stringMatching(new RegExp(`^Clara DB backup skipped: last backup ${lastBackup} UTC \\(2\\.0 hours ago\\)`)));
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(2);

    const ran = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket, { RESPAWN_PROTECTION_HOURS: '1.5' }) });
    expect(ran.code).toBe(0);
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(3);
  });

  it('refuses a FORCE_BACKUP that is not true/false, 1/0 or yes/no, naming the option, before touching anything', async () => {
    const bucket = await freshBucket();
    const result = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket, { FORCE_BACKUP: 'maybe' }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/clara-mem0\.yml \(default\):\d+:\d+: jobs\.clara\.sink\.hooks\[0\]\.with\.force: must be true\/false, 1\/0 or yes\/no$/m);
    expect(await s3.listKeys(bucket)).toEqual([]);
  });
});

describe('one run of a job at a time (PostgreSQL advisory lock)', () => {
  it('skips with a log line and exits 0 while another session holds the job lock on the database', async () => {
    const bucket = await freshBucket();
    const holder = await session();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [advisoryLockKey('clara').toString()]);
      const result = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket) });
      expect(result.code).toBe(0);
      expect(logLines(result)).toContain(
        `Clara DB backup skipped: another backup of this database is in progress (127.0.0.1:${postgres.port}/${claraDb}, job clara)`,
      );
      expect(await s3.listKeys(bucket)).toEqual([]);
    } finally {
      await holder.end();
    }
    const released = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket) });
    expect(released.code).toBe(0);
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
  });

  it('two runs started at the same moment make one backup: the loser skips while the winner is still dumping', async () => {
    const bucket = await freshBucket();
    // Hold pg_dump up (it waits for this table), so the two runs surely overlap.
    const blocker = await session();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE public.users IN ACCESS EXCLUSIVE MODE');
    const runs = [0, 1].map(() => startCli(['run', '--job', 'clara'], { env: referenceEnv(bucket) }));
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await blocker.query('COMMIT');
      await blocker.end();
    };
    try {
      const firstDone = await Promise.race([
        ...runs.map((run, index) => run.result.then((result) => ({ index, result }))),
        sleep(60_000).then(() => {
          throw new Error('neither run finished while pg_dump was held up: both are backing up');
        }),
      ]);
      expect(firstDone.result.code).toBe(0);
      expect(logLines(firstDone.result)).toContain(
        `Clara DB backup skipped: another backup of this database is in progress (127.0.0.1:${postgres.port}/${claraDb}, job clara)`,
      );
      expect(await s3.listKeys(bucket)).toEqual([]);

      await release();
      const winner = await runs[1 - firstDone.index]!.result;
      expect(winner.code).toBe(0);
      expect(logLines(winner)).toContainEqual(expect.stringMatching(/^Clara DB backup complete: clara_\d{8}_\d{6}\.sql\.gz/));
      expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
    } finally {
      await release();
      await Promise.allSettled(runs.map((run) => run.result));
    }
  });
});

describe('retention', () => {
  it('on S3: after a successful run, deletes backups older than BACKUP_RETENTION_DAYS with their checksums; keeps the rest and names it cannot date', async () => {
    const bucket = await freshBucket();
    const now = Date.now();
    const [tenDays, eightDays, threeDays] = [10, 8, 3].map((days) => `backups/clara/${backupName(now - days * DAY)}`) as [string, string, string];
    const undated = 'backups/clara/clara_latest.sql.gz';
    await putBackups(bucket, [tenDays, eightDays, threeDays]);
    await s3.putObject(bucket, undated, 'copied by hand');

    const result = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket, { BACKUP_RETENTION_DAYS: '7' }) });
    expect(result.code).toBe(0);
    const written = (await lastBackupJson(bucket)).jobs.clara!.key;
    expect(await s3.listKeys(bucket, 'backups/')).toEqual([threeDays, undated, written].sort());
    expect(await s3.listKeys(bucket, 'metadata/checksums/')).toEqual([`metadata/checksums/${threeDays}.json`, `metadata/checksums/${written}.json`].sort());

    const lines = logLines(result);
    const complete = lines.findIndex((line) => line.startsWith('Clara DB backup complete:'));
    expect(lines.slice(complete + 1)).toEqual([
      `Cleanup: ignoring 1 object whose name carries no timestamp: ${undated}`,
      `Removed expired backup ${tenDays}`,
      `Removed expired backup ${eightDays}`,
      'Cleanup: removed 2 expired backups',
      'Backup complete',
    ]);
  });

  it('with a file sink: keep-daily/weekly/monthly rules keep the newest backup of each period (grandfather-father-son)', async () => {
    const dir = await testTempDir('backupctl-retention-');
    const folder = path.join(dir, 'store', 'backups', 'clara');
    await mkdir(folder, { recursive: true });
    const old = {
      mar10late: 'clara_20250310_150000.sql.gz', // Monday, ISO week 2025-W11
      mar10early: 'clara_20250310_030000.sql.gz', // same day, older
      mar9: 'clara_20250309_030000.sql.gz', // Sunday, 2025-W10
      mar5: 'clara_20250305_030000.sql.gz', // Wednesday, 2025-W10, older
      feb20: 'clara_20250220_030000.sql.gz',
      jan15: 'clara_20250115_030000.sql.gz',
      dec1: 'clara_20241201_030000.sql.gz',
    };
    for (const name of Object.values(old)) await writeFile(path.join(folder, name), `-- ${name}\n`);
    await writeFile(path.join(folder, 'clara_notes.txt'), 'not a backup');
    const checksums = path.join(dir, 'store', 'metadata', 'checksums', 'backups', 'clara');
    await mkdir(checksums, { recursive: true });
    await writeFile(path.join(checksums, `${old.dec1}.json`), '{}');
    await writeFile(path.join(checksums, `${old.feb20}.json`), '{}');

    const file = path.join(dir, 'backupctl.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  clara:',
        '    title: Clara DB',
        '    source: { use: postgres, with: { url: "${DATABASE_URL}", retryAttempts: 1 } }',
        '    transforms: [{ use: gzip }]',
        '    sink:',
        '      use: file',
        '      with: { directory: ./store, prefix: backups/clara/ }',
        '      hooks:',
        '        - use: respawn',
        '        - use: retention',
        '          with: { days: 0, keepDaily: 2, keepWeekly: 3, keepMonthly: 3 }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['run', file], { env: { DATABASE_URL: postgres.url(claraDb) }, cwd: dir });
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.code).toBe(0);

    // Newest first: today's backup, then the old ones. keepDaily 2: today + Mar 10 15:00.
    // keepWeekly 3: today + W11 (Mar 10 15:00) + W10 (Mar 9). keepMonthly 3: today + March (Mar 10 15:00) + February.
    const remaining = (await readdir(folder)).sort();
    const today = remaining.find((name) => !Object.values(old).includes(name) && name !== 'clara_notes.txt');
    expect(today).toMatch(/^clara_\d{8}_\d{6}\.sql\.gz$/);
    expect(remaining).toEqual([old.feb20, old.mar9, old.mar10late, today, 'clara_notes.txt'].sort());
    expect((await readdir(checksums)).sort()).toEqual([`${old.feb20}.json`, `${today}.json`].sort());
    expect(logLines(result)).toContain('Cleanup: removed 4 expired backups');
    const lastBackup = JSON.parse(await readFile(path.join(dir, 'store', 'metadata', 'last_backup.json'), 'utf8')) as { jobs: { clara: { key: string } } };
    expect(lastBackup.jobs.clara.key).toBe(`backups/clara/${today}`);
  });

  it('a failed backup leaves the old backups, their checksums and last_backup.json untouched', async () => {
    const bucket = await freshBucket();
    const old = [30, 20].map((days) => `backups/clara/${backupName(Date.now() - days * DAY)}`);
    await putBackups(bucket, old);
    const record = JSON.stringify({ updatedAt: '2020-01-01T00:00:00.000Z', jobs: { clara: { key: old[1], finishedAt: new Date(Date.now() - 20 * DAY).toISOString() } } });
    await s3.putObject(bucket, 'metadata/last_backup.json', record);
    const before = await s3.listKeys(bucket);

    // A role that may connect but not read the tables: the lock and respawn pass, then pg_dump fails halfway.
    const role = uniqueName('limited');
    const password = 'limited-Pw-61xq';
    await postgres.psql(claraDb, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'; GRANT CONNECT ON DATABASE ${claraDb} TO ${role};`);
    const limitedUrl = `postgresql://${role}:${password}@127.0.0.1:${postgres.port}/${claraDb}`;
    const result = await runCli(['run', '--job', 'clara'], { env: referenceEnv(bucket, { DATABASE_URL: limitedUrl, BACKUP_RETENTION_DAYS: '1' }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Clara DB backup failed: .*pg_dump.*permission denied/);
    expect(result.stderr).not.toContain('Cleanup');
    expect(await s3.listKeys(bucket)).toEqual(before);
    expect((await s3.getObject(bucket, 'metadata/last_backup.json')).toString('utf8')).toBe(record);
  });
});

describe('backupctl prune', () => {
  it('--dry-run shows what would be deleted and deletes nothing; prune deletes it and keeps the newest even when all are expired', async () => {
    const bucket = await freshBucket();
    const [twenty, fifteen, ten] = [20, 15, 10].map((days) => `backups/clara/${backupName(Date.now() - days * DAY)}`) as [string, string, string];
    await putBackups(bucket, [twenty, fifteen, ten]);
    const before = await s3.listKeys(bucket);

    const dry = await runCli(['prune', '--dry-run'], { env: referenceEnv(bucket) });
    expect(dry.code).toBe(0);
    expect(logLines(dry)).toEqual([
      `Clara DB prune (dry run): ${bucket}/backups/clara/`,
      `Would remove expired backup ${twenty}`,
      `Would remove expired backup ${fifteen}`,
      'Cleanup (dry run): would remove 2 expired backups, keep 1',
      'Mem0 DB prune skipped: MEM0_DATABASE_URL is not set',
    ]);
    expect(await s3.listKeys(bucket)).toEqual(before);

    const pruned = await runCli(['prune', '--job', 'clara'], { env: referenceEnv(bucket) });
    expect(pruned.code).toBe(0);
    expect(logLines(pruned)).toEqual([
      `Clara DB prune: ${bucket}/backups/clara/`,
      `Removed expired backup ${twenty}`,
      `Removed expired backup ${fifteen}`,
      'Cleanup: removed 2 expired backups',
    ]);
    expect(await s3.listKeys(bucket)).toEqual([ten, `metadata/checksums/${ten}.json`]);

    const again = await runCli(['prune', '--job', 'clara'], { env: referenceEnv(bucket) });
    expect(again.code).toBe(0);
    expect(logLines(again)).toContain('Cleanup: removed 0 expired backups');
    expect(await s3.listKeys(bucket)).toEqual([ten, `metadata/checksums/${ten}.json`]);
  });
});
