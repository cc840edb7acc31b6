import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceEnv, runCli, testTempDir, uniqueName, useReferenceDatabases, usePostgres, useS3, type CliResult } from '../harness/index.js';

// A backup tool deletes, lists, restores and dates only what it wrote:
// objects named by the job's template with the extension its stages produce,
// or recorded by backupctl (a checksum document: a backup from before a
// change of stages). Copies made by hand beside them (.bak, .tmp, (1)...)
// are never the job's backups, whatever their names start with.

const pg = usePostgres();
const s3 = useS3();
const databases = useReferenceDatabases(pg);
const HOUR = 60 * 60 * 1000;
const restoredDatabases: string[] = [];

afterAll(async () => {
  for (const database of restoredDatabases) await pg.dropDatabase(database);
});

/** The default pipeline's environment, the Clara job only. */
function claraEnv(bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return referenceEnv(pg, { clara: databases.clara }, bucket, { force: false, overrides });
}

function logLines(result: CliResult): string[] {
  return result.stderr
    .split('\n')
    .filter((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - /.test(line))
    .map((line) => line.slice(22));
}

/** `20260201_030000` for a time (UTC), as object names carry it. */
function stamp(time: number): string {
  const iso = new Date(time).toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('own-backups');
  await s3.createBucket(bucket);
  return bucket;
}

const EXPIRED = 'backups/clara/clara_20200101_000000.sql.gz';
// An older stage set (custom format, no gzip) recorded by backupctl: its backup, so retention may expire it.
const RECORDED_OLD_FORMAT = 'backups/clara/clara_20200102_000000.dump';
// Names a hand gives a copy beside a backup: none is the job's.
const HAND_MADE = [
  `${EXPIRED}.bak`,
  `${EXPIRED}.tmp`,
  `${EXPIRED}.part`,
  `${EXPIRED}.old`,
  `${EXPIRED} (1)`,
  'backups/clara/clara_20200101_000000.sql (1).gz',
  'backups/clara/clara_20200101_000000.sql.bak.gz',
  // The right shape for an older stage set, but nothing records that backupctl wrote it.
  'backups/clara/clara_20200103_000000.dump',
];

/** An expired backup, one recorded under an older extension, and copies made by hand beside them. */
async function bucketWithHandMadeCopies(): Promise<string> {
  const bucket = await freshBucket();
  await s3.putObject(bucket, EXPIRED, 'made by the reference service');
  await s3.putObject(bucket, RECORDED_OLD_FORMAT, 'made by backupctl with format: custom');
  await s3.putObject(bucket, `metadata/checksums/${RECORDED_OLD_FORMAT}.json`, JSON.stringify({ key: RECORDED_OLD_FORMAT, sha256: '00', size: 38 }));
  for (const key of HAND_MADE) await s3.putObject(bucket, key, 'a copy made by hand');
  return bucket;
}

describe("only the job's own backups", () => {
  it('retention removes expired backups and never a copy made by hand beside them', async () => {
    const bucket = await bucketWithHandMadeCopies();
    const result = await runCli(['run', '--job', 'clara'], { env: claraEnv(bucket, { BACKUP_RETENTION_DAYS: '7' }) });
    expect(result.code, result.stderr).toBe(0);

    const removed = logLines(result).filter((line) => line.startsWith('Removed expired backup'));
    expect(removed.sort()).toEqual([`Removed expired backup ${EXPIRED}`, `Removed expired backup ${RECORDED_OLD_FORMAT}`].sort());
    expect(logLines(result)).toContain('Cleanup: removed 2 expired backups');
    const keys = await s3.listKeys(bucket, 'backups/clara/');
    for (const key of HAND_MADE) expect(keys).toContain(key);
    expect(keys).not.toContain(EXPIRED);
    expect(keys).not.toContain(RECORDED_OLD_FORMAT);
    expect(keys.filter((key) => /^backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz$/.test(key))).toHaveLength(1);
  });

  it('ls lists the backups and none of the copies', async () => {
    const bucket = await bucketWithHandMadeCopies();
    const result = await runCli(['ls', '--job', 'clara', '--json'], { env: claraEnv(bucket) });
    expect(result.code, result.stderr).toBe(0);
    const listed = (JSON.parse(result.stdout) as { key: string }[]).map((entry) => entry.key);
    expect(listed).toEqual([RECORDED_OLD_FORMAT, EXPIRED]);
  });

  it('respawn protection is not fooled by a recent copy made by hand', async () => {
    const bucket = await freshBucket();
    await s3.putObject(bucket, `backups/clara/clara_${stamp(Date.now() - HOUR)}.sql.gz.bak`, 'a copy made by hand');
    const result = await runCli(['run', '--job', 'clara'], { env: claraEnv(bucket) });
    expect(result.code, result.stderr).toBe(0);
    expect(logLines(result)).toContainEqual(expect.stringMatching(/^Clara DB backup complete: clara_\d{8}_\d{6}\.sql\.gz /));
    expect(result.stderr).not.toMatch(/skipped/);
  });

  it('restore --at takes the newest backup, not a newer copy made by hand', async () => {
    const bucket = await freshBucket();
    const run = await runCli(['run', '--job', 'clara', '--json'], { env: claraEnv(bucket) });
    expect(run.code, run.stderr).toBe(0);
    const { key } = (JSON.parse(run.stdout) as { jobs: { key: string }[] }).jobs[0]!;
    // A copy with a later time in its name, as a hand might make before an upgrade.
    await sleep(1100);
    const copy = `backups/clara/clara_${stamp(Date.now())}.sql.gz.bak`;
    await s3.putObject(bucket, copy, await s3.getObject(bucket, key));

    const target = uniqueName('own_backups_restored');
    restoredDatabases.push(target);
    const restored = await runCli(['restore', 'clara', '--at', 'latest', '--create', '--target-url', pg.url(target)], { env: claraEnv(bucket) });
    expect(restored.code, restored.stderr).toBe(0);
    const name = key.split('/').pop()!;
    expect(logLines(restored)).toContainEqual(expect.stringMatching(new RegExp(`^Clara DB: restoring ${name.replaceAll('.', '\\.')} `)));
    expect(restored.stderr).not.toContain('.bak');
  });

  it('respawn runs when the recorded last backup was deleted by hand (to get a fresh one)', async () => {
    const bucket = await freshBucket();
    const first = await runCli(['run', '--job', 'clara', '--json'], { env: claraEnv(bucket) });
    expect(first.code, first.stderr).toBe(0);
    const { key } = (JSON.parse(first.stdout) as { jobs: { key: string }[] }).jobs[0]!;
    await s3.client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

    await sleep(1100); // a new second, so the next backup gets a name of its own
    const second = await runCli(['run', '--job', 'clara'], { env: claraEnv(bucket) });
    expect(second.code, second.stderr).toBe(0);
    expect(logLines(second)).toContainEqual(expect.stringMatching(/^Clara DB backup complete: clara_\d{8}_\d{6}\.sql\.gz /));
    expect(await s3.listKeys(bucket, 'backups/clara/')).toHaveLength(1);
  });

  it('a name template without {ext}: ls lists every object of its exact shape, recorded or not', async () => {
    const bucket = await freshBucket();
    const file = path.join(await testTempDir('backupctl-own-'), 'backupctl.yml');
    await writeFile(
      file,
      [
        'version: 1',
        'jobs:',
        '  plain:',
        '    name: "{job}-{timestamp}"',
        '    source: { use: postgres, with: { url: "${DATABASE_URL}", retryAttempts: 1 } }',
        '    sink:',
        '      use: s3',
        '      with: { bucket: "${S3_BUCKET}", endpoint: "${S3_ENDPOINT_URL}", accessKeyId: S3RVER, secretAccessKey: "${S3_SECRET_KEY}", prefix: nightly/ }',
        '',
      ].join('\n'),
    );
    // As an older tool left them: no record of any kind.
    await s3.putObject(bucket, 'nightly/plain-20200101_000000', 'made before backupctl');
    await s3.putObject(bucket, 'nightly/plain-20200101_000000.bak', 'a copy made by hand');
    const result = await runCli(['ls', file, '--json'], { env: claraEnv(bucket) });
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { key: string }[]).map((entry) => entry.key)).toEqual(['nightly/plain-20200101_000000']);
  });
});
