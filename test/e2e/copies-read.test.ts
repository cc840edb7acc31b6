import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, seedClaraDatabase, tableFingerprints, uniqueName, usePostgres, useS3 } from '../harness/index.js';
import { flipByte, logLines, referenceEnv } from './restore-fixtures.js';

// Issue 16, the read side: a job with `sinks:` (an S3 bucket and a directory) restores from the
// first copy holding the backup, and from the next when that copy is damaged.

const pg = usePostgres();
const s3 = useS3();
const claraDb = uniqueName('clara_copies');
const bucket = uniqueName('copies-read');
const env = () => referenceEnv(pg, { clara: claraDb }, bucket);

const source = `
    source: { use: postgres, with: { url: "\${DATABASE_URL}", retryAttempts: 1 } }
    transforms: [ { use: gzip } ]`;
const s3Sink = `
        use: s3
        with: { bucket: "\${S3_BUCKET}", endpoint: "\${S3_ENDPOINT_URL}", region: "\${S3_REGION}", accessKeyId: "\${S3_ACCESS_KEY}", secretAccessKey: "\${S3_SECRET_KEY}", prefix: backups/clara/ }`;

let directory: string;
let copiesFile: string;
let key = '';
let name: string;

beforeAll(async () => {
  await pg.createDatabase(claraDb);
  await seedClaraDatabase(pg, claraDb);
  await s3.createBucket(bucket);
  directory = await makeTempDir('backupctl-copies-read-');
  const single = path.join(directory, 'single.yml');
  await writeFile(single, `version: 1\njobs:\n  clara:${source}\n    sink:${s3Sink}\n`);
  copiesFile = path.join(directory, 'copies.yml');
  await writeFile(copiesFile, `version: 1\njobs:\n  clara:${source}\n    sinks:\n      -${s3Sink.replace('\n        use', ' use')}\n      - use: file\n        with: { directory: ${JSON.stringify(path.join(directory, 'nas'))}, prefix: clara/ }\n`);

  // One backup, then the same bytes and checksum record put into the directory copy, as a run writing both would.
  const ran = await runCli(['run', single, '--json'], { env: env() });
  if (ran.code !== 0) throw new Error(`backupctl run failed (${ran.code}):\n${ran.stderr}`);
  key = (await s3.listKeys(bucket, 'backups/clara/'))[0] ?? '';
  name = path.posix.basename(key);
  const record = JSON.parse((await s3.getObject(bucket, `metadata/checksums/${key}.json`)).toString('utf8')) as Record<string, unknown>;
  await mkdir(path.join(directory, 'nas', 'clara'), { recursive: true });
  await mkdir(path.join(directory, 'nas', 'metadata', 'checksums', 'clara'), { recursive: true });
  await writeFile(path.join(directory, 'nas', 'clara', name), await s3.getObject(bucket, key));
  await writeFile(path.join(directory, 'nas', 'metadata', 'checksums', 'clara', `${name}.json`), JSON.stringify({ ...record, key: `clara/${name}` }));
  const manifest = JSON.parse((await s3.getObject(bucket, `metadata/manifests/${key}.json`)).toString('utf8')) as Record<string, unknown>;
  await mkdir(path.join(directory, 'nas', 'metadata', 'manifests', 'clara'), { recursive: true });
  await writeFile(path.join(directory, 'nas', 'metadata', 'manifests', 'clara', `${name}.json`), JSON.stringify({ ...manifest, key: `clara/${name}` }));
});

afterAll(() => removeTempDir(directory));

describe('a job with several copies', () => {
  it('ls shows the backup once with both copies', async () => {
    const text = await runCli(['ls', copiesFile], { env: env() });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`  - ${key.replaceAll('.', '\\.')} \\([\\d.]+ KB\\) \\[copies: s3, file\\]`));
    const json = await runCli(['ls', copiesFile, '--json'], { env: env() });
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ job: 'clara', key, copies: ['s3', 'file'] })]);
  });

  it('restore --create falls back to the directory copy when the bucket copy is damaged, and the database equals the source', async () => {
    const stored = await s3.getObject(bucket, key);
    await flipByte(s3, bucket, key, Math.floor(stored.length / 2));
    const target = uniqueName('clara_from_copy');
    const result = await runCli(['restore', 'clara', copiesFile, '--create', '--json'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
    expect(result.code).toBe(0);
    const lines = logLines(result);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^WARN: copy s3: ${key.replaceAll('.', '\\.')} failed its checksum \\(.*\\); trying copy file$`)));
    // The first attempt's database was dropped again, so the second could create it.
    expect(lines).toContainEqual(expect.stringMatching(/^Dropped .* again: the restore failed$/));
    expect(JSON.parse(result.stdout)).toMatchObject({ key: `clara/${name}`, copy: 'file', checksum: 'verified' });
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));

    const unknown = await runCli(['restore', 'clara', copiesFile, '--from', 'tape', '--create'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(uniqueName('never')) } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('job clara has no copy named "tape"; its copies: s3, file');
  });

  it('--from reads one copy only: verify and restore from the directory copy; verify from the damaged bucket copy fails', async () => {
    const verified = await runCli(['verify', 'clara', copiesFile, '--from', 'file', '--json'], { env: env() });
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, key: `clara/${name}`, against: 'manifest' });
    // The bucket copy was damaged above: read alone, it fails, with no fallback.
    const damaged = await runCli(['verify', 'clara', copiesFile, '--from', 's3'], { env: env() });
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/does not match its checksum/);
    expect(logLines(damaged).some((line) => line.includes('trying copy'))).toBe(false);

    const target = uniqueName('clara_from_file');
    const restored = await runCli(['restore', 'clara', copiesFile, '--from', 'file', '--create', '--json'], { env: { ...env(), RESTORE_TARGET_URL: pg.url(target) } });
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ key: `clara/${name}`, checksum: 'verified' });
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, claraDb));
  });
});
