import { describe, expect, it } from 'vitest';
import { referenceEnv, runCli, startCli, uniqueName, useReferenceDatabases, usePostgres, useS3, type CliResult } from '../harness/index.js';

// Each job keeps its own record of its last backup (metadata/jobs/<prefix><job>.json),
// written whole by that job only; nothing is read-modified-written across
// jobs or processes. metadata/last_backup.json is still written for the
// reference service's readers, and a damaged one never fails a backup.

const pg = usePostgres();
const s3 = useS3();
const databases = useReferenceDatabases(pg);

function env(bucket: string, overrides: Record<string, string> = {}, force = true): Record<string, string> {
  return referenceEnv(pg, databases, bucket, { force, overrides });
}

function logLines(result: CliResult): string[] {
  return result.stderr
    .split('\n')
    .filter((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - /.test(line))
    .map((line) => line.slice(22));
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('metadata-records');
  await s3.createBucket(bucket);
  return bucket;
}

async function readJson(bucket: string, key: string): Promise<Record<string, unknown>> {
  return JSON.parse((await s3.getObject(bucket, key)).toString('utf8')) as Record<string, unknown>;
}

/** The job's one backup in the bucket, which its record must name. */
async function onlyBackup(bucket: string, job: string): Promise<string> {
  const keys = await s3.listKeys(bucket, `backups/${job}/`);
  expect(keys).toHaveLength(1);
  return keys[0]!;
}

const TORN = '{"updatedAt": "2026-02-01T03:00:05.000Z", "jobs": {"clara": {"key": "backups/cla';

describe('per-job records', () => {
  it('two jobs run as two processes at once both end with correct records', async () => {
    for (let round = 0; round < 3; round += 1) {
      const bucket = await freshBucket();
      const [clara, mem0] = await Promise.all([
        startCli(['run', '--job', 'clara'], { env: env(bucket) }).result,
        startCli(['run', '--job', 'mem0'], { env: env(bucket) }).result,
      ]);
      expect(clara.code, clara.stderr).toBe(0);
      expect(mem0.code, mem0.stderr).toBe(0);
      for (const job of ['clara', 'mem0']) {
        const record = await readJson(bucket, `metadata/jobs/backups/${job}/${job}.json`);
        expect(record.key).toBe(await onlyBackup(bucket, job));
        expect(record.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      // The compatibility document is whole JSON, whichever process wrote last.
      const lastBackup = await readJson(bucket, 'metadata/last_backup.json');
      expect(Object.keys(lastBackup.jobs as object).length).toBeGreaterThan(0);
    }
  });

  it('a torn last_backup.json does not fail the backup: one warning, and the next write repairs it', async () => {
    const bucket = await freshBucket();
    await s3.putObject(bucket, 'metadata/last_backup.json', TORN);
    // Respawn on (no FORCE_BACKUP): it reads the job's record, not the shared document.
    const result = await runCli(['run', '--job', 'clara'], { env: env(bucket, {}, false) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/ERROR/);
    const key = await onlyBackup(bucket, 'clara');
    expect(logLines(result)).toContainEqual(expect.stringMatching(/^WARN: metadata\/last_backup\.json .*not valid JSON.*: rewriting it/));
    const repaired = await readJson(bucket, 'metadata/last_backup.json');
    expect((repaired.jobs as Record<string, { key: string }>).clara!.key).toBe(key);
    expect((await readJson(bucket, 'metadata/jobs/backups/clara/clara.json')).key).toBe(key);
  });

  it("a damaged job record is a warning: respawn falls back to the objects' names and the run repairs it", async () => {
    const bucket = await freshBucket();
    const first = await runCli(['run', '--job', 'clara'], { env: env(bucket) });
    expect(first.code, first.stderr).toBe(0);
    await s3.putObject(bucket, 'metadata/jobs/backups/clara/clara.json', '{"key": ');

    // The backup just made is recent: respawn still skips, dating it by its name.
    const skipped = await runCli(['run', '--job', 'clara'], { env: env(bucket, {}, false) });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(logLines(skipped)).toContainEqual(expect.stringMatching(/^WARN: .*metadata\/jobs\/backups\/clara\/clara\.json.*not valid JSON.*object names/));
    expect(logLines(skipped)).toContainEqual(expect.stringMatching(/^Clara DB backup skipped: last backup /));

    const forced = await runCli(['run', '--job', 'clara'], { env: env(bucket, { FORCE_BACKUP: 'true' }) });
    expect(forced.code, forced.stderr).toBe(0);
    const keys = await s3.listKeys(bucket, 'backups/clara/');
    expect((await readJson(bucket, 'metadata/jobs/backups/clara/clara.json')).key).toBe(keys.sort().at(-1));
  });
});
