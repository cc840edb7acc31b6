import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, seedClaraDatabase, tableFingerprints, uniqueName, usePostgres, useS3, type CliResult } from '../harness/index.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { logLines, printedSecrets } from './restore-fixtures.js';

// Several copies from one dump (issue 16), the write side: every sink gets
// the same bytes, a failing copy does not stop the others, the job's result
// says which copies were stored, respawn and retention work per copy.

const pg = usePostgres();
const s3 = useS3();
let dir: string;
let database: string;
let proxy: FaultProxy;

beforeAll(async () => {
  dir = await makeTempDir('backupctl-copies-');
  database = uniqueName('copies');
  await pg.createDatabase(database);
  await seedClaraDatabase(pg, database);
  proxy = await startFaultProxy(inject('s3').endpoint);
});

afterAll(async () => {
  await proxy.close();
  await removeTempDir(dir);
});

interface Copy {
  kind: 's3' | 'file';
  /** Bucket or directory. */
  place: string;
  name?: string;
  required?: boolean;
  /** Reach S3 through the fault proxy. */
  proxied?: boolean;
  hooks?: string;
}

function sinkYaml(copy: Copy): string {
  const info = inject('s3');
  const lines = [`      - use: ${copy.kind}`];
  if (copy.name) lines.push(`        name: ${copy.name}`);
  if (copy.required === false) lines.push('        required: false');
  if (copy.kind === 's3') {
    const endpoint = copy.proxied ? `http://127.0.0.1:${proxy.port}` : info.endpoint;
    lines.push(
      `        with: { bucket: ${copy.place}, endpoint: "${endpoint}", region: ${info.region}, accessKeyId: "\${S3_ACCESS_KEY}", secretAccessKey: "\${S3_SECRET_KEY}", prefix: backups/clara/ }`,
    );
  } else {
    lines.push(`        with: { directory: "${copy.place}", prefix: backups/clara/ }`);
  }
  if (copy.hooks) lines.push(`        hooks:\n${copy.hooks}`);
  return lines.join('\n');
}

async function pipelineWith(copies: Copy[]): Promise<string> {
  const file = path.join(dir, `${uniqueName('pipeline')}.yml`);
  await writeFile(
    file,
    `version: 1
jobs:
  clara:
    title: Clara DB
    source: { use: postgres, with: { url: "\${DATABASE_URL}", retryAttempts: 1 } }
    transforms: [{ use: gzip }]
    sinks:
${copies.map(sinkYaml).join('\n')}
`,
  );
  return file;
}

const env = () => ({ DATABASE_URL: pg.url(database), S3_ACCESS_KEY: inject('s3').accessKeyId, S3_SECRET_KEY: inject('s3').secretAccessKey });

async function run(file: string, args: string[] = []): Promise<CliResult> {
  const result = await runCli(['run', file, ...args], { env: env() });
  expect(printedSecrets(result)).toBe(false);
  return result;
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('copies');
  await s3.createBucket(bucket);
  return bucket;
}

async function freshDirectory(): Promise<string> {
  return mkdtemp(path.join(dir, 'nas-'));
}

const sha = (body: Buffer) => createHash('sha256').update(body).digest('hex');

async function backupsIn(bucket: string): Promise<string[]> {
  return s3.listKeys(bucket, 'backups/clara/');
}

async function filesIn(directory: string): Promise<string[]> {
  return (await readdir(path.join(directory, 'backups', 'clara')).catch(() => [] as string[])).sort();
}

describe('several sinks', () => {
  it('S3 + a directory: one dump, identical objects in both, each recorded; restore gives the source back', async () => {
    const bucket = await freshBucket();
    const nas = await freshDirectory();
    const file = await pipelineWith([{ kind: 's3', place: bucket }, { kind: 'file', place: nas, name: 'nas' }]);
    const result = await run(file);
    expect(result.code, result.stderr).toBe(0);
    const [key] = await backupsIn(bucket);
    const [name] = await filesIn(nas);
    expect(key).toBe(`backups/clara/${name}`);
    const inS3 = await s3.getObject(bucket, key!);
    const onDisk = await readFile(path.join(nas, 'backups', 'clara', name!));
    expect(sha(onDisk)).toBe(sha(inS3));
    expect(logLines(result)).toEqual(expect.arrayContaining([`Clara DB copy s3: stored ${key}`, `Clara DB copy nas: stored ${key}`]));
    // Each store holds its own checksum record.
    const record = JSON.parse((await s3.getObject(bucket, `metadata/checksums/${key}.json`)).toString('utf8')) as { sha256: string };
    expect(record.sha256).toBe(sha(inS3));
    expect(JSON.parse(await readFile(path.join(nas, 'metadata', 'checksums', `${key}.json`), 'utf8'))).toMatchObject({ sha256: sha(inS3) });
    const target = uniqueName('copies_restored');
    const restored = await runCli(['restore', 'clara', file, '--target-url', pg.url(target), '--create'], { env: env() });
    expect(restored.code, restored.stderr).toBe(0);
    expect(await tableFingerprints(pg, target)).toEqual(await tableFingerprints(pg, database));
    await pg.dropDatabase(target);
    // restore-help: how to fetch it from each copy, the primary first.
    const help = await runCli(['restore-help', file], { env: env() });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain(`# From copy s3 (${bucket}):`);
    expect(help.stdout).toContain(`# Or from copy nas (${nas}):`);
    expect(help.stdout).toMatch(new RegExp(`cp .*${name!.replaceAll('.', '\\.')}`));
  });

  it('two S3 buckets: identical objects', async () => {
    const [first, second] = [await freshBucket(), await freshBucket()];
    const result = await run(await pipelineWith([{ kind: 's3', place: first }, { kind: 's3', place: second }]));
    expect(result.code, result.stderr).toBe(0);
    const [key] = await backupsIn(first);
    expect(await backupsIn(second)).toEqual([key]);
    expect(sha(await s3.getObject(second, key!))).toBe(sha(await s3.getObject(first, key!)));
  });

  it('a required copy whose S3 endpoint refuses connections: the other copy committed, exit 1, one line per copy, nothing partial', async () => {
    const [good, down] = [await freshBucket(), await freshBucket()];
    const nas = await freshDirectory();
    proxy.setMode({ kind: 'refuse' });
    try {
      const result = await run(await pipelineWith([{ kind: 's3', place: good }, { kind: 's3', place: down, name: 'offsite', proxied: true }, { kind: 'file', place: nas, name: 'nas' }]), ['--json']);
      expect(result.code).toBe(1);
      const lines = logLines(result);
      expect(lines.some((line) => /^ERROR: Clara DB copy offsite failed: /.test(line)), lines.join('\n')).toBe(true);
      expect(lines).toContain('ERROR: Clara DB backup failed: a required copy failed (s3 stored, offsite failed, nas stored)');
      expect(await backupsIn(good)).toHaveLength(1);
      expect(await filesIn(nas)).toHaveLength(1);
      const [job] = (JSON.parse(result.stdout) as { jobs: { result: string; copies: { name: string; required: boolean; result: string; error?: { code: string } }[] }[] }).jobs;
      expect(job!.result).toBe('failed');
      expect(job!.copies.map((copy) => [copy.name, copy.result, copy.error?.code])).toEqual([
        ['s3', 'stored', undefined],
        ['offsite', 'failed', 'SINK_FAILED'],
        ['nas', 'stored', undefined],
      ]);
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
    expect(await backupsIn(down)).toEqual([]);
    // No temporary file left beside the directory copy either.
    expect((await filesIn(nas)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('a non-required copy failing: exit 0, the failure reported', async () => {
    const [good, down] = [await freshBucket(), await freshBucket()];
    proxy.setMode({ kind: 'cut', afterBytes: 20_000 });
    try {
      const result = await run(await pipelineWith([{ kind: 's3', place: good }, { kind: 's3', place: down, name: 'offsite', proxied: true, required: false }]));
      expect(result.code, result.stderr).toBe(0);
      expect(logLines(result).some((line) => /^WARN: Clara DB copy offsite failed: .*\(not required: the job goes on\)$/.test(line))).toBe(true);
      expect(await backupsIn(good)).toHaveLength(1);
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
    expect(await backupsIn(down)).toEqual([]);
  });

  it('respawn skips only when every required copy has a recent backup; a copy missing its backup makes the job run; retention per copy', async () => {
    const [first, second] = [await freshBucket(), await freshBucket()];
    const hooks = (keep: number) => `          - { use: respawn, with: { hours: 23, force: "\${FORCE:-false}" } }\n          - { use: retention, with: { days: 0, keepLast: ${keep} } }`;
    const file = await pipelineWith([{ kind: 's3', place: first, hooks: hooks(1) }, { kind: 's3', place: second, hooks: hooks(2) }]);
    expect((await run(file)).code).toBe(0);
    const again = await run(file);
    expect(again.code).toBe(0);
    expect(logLines(again).some((line) => /^Clara DB backup skipped: /.test(line))).toBe(true);
    // The second copy's backup went missing: the job runs again, writing both.
    const client = s3.client();
    for (const key of await backupsIn(second)) await client.send(new DeleteObjectCommand({ Bucket: second, Key: key }));
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const third = await run(file);
    expect(third.code, third.stderr).toBe(0);
    expect(
      logLines(third).some((line) => line.startsWith('Clara DB: copy s3 would skip (') && line.endsWith('), but copy s3-2 needs a backup: writing every copy')),
      logLines(third).join('\n'),
    ).toBe(true);
    // Retention per copy: keepLast 1 in the first bucket, 2 in the second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const forced = await runCli(['run', file], { env: { ...env(), FORCE: 'true' } });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await backupsIn(first)).toHaveLength(1);
    expect(await backupsIn(second)).toHaveLength(2);
  });

  it('accept clears the anomaly flag in every copy that raised it; inspect reads the next copy when the primary lost the backup', async () => {
    const own = uniqueName('copies_shrunk');
    await pg.createDatabase(own);
    await seedClaraDatabase(pg, own);
    const ownEnv = { ...env(), DATABASE_URL: pg.url(own) };
    const [first, second] = [await freshBucket(), await freshBucket()];
    const keepOne = '          - { use: retention, with: { days: 0, keepLast: 1 } }';
    const file = await pipelineWith([{ kind: 's3', place: first, hooks: keepOne }, { kind: 's3', place: second, hooks: keepOne }]);
    expect((await runCli(['run', file], { env: ownEnv })).code).toBe(0);
    await pg.psql(own, 'TRUNCATE messages');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const shrunk = await runCli(['run', file], { env: ownEnv });
    expect(shrunk.code, shrunk.stderr).toBe(0);
    // Flagged in each copy: both hold the older backup too.
    expect(await backupsIn(first)).toHaveLength(2);
    expect(await backupsIn(second)).toHaveLength(2);
    const flagged = (await backupsIn(first)).sort().at(-1)!;

    const accepted = await runCli(['accept', 'clara', flagged, file], { env: ownEnv });
    expect(accepted.code, accepted.stderr).toBe(0);
    for (const bucket of [first, second]) {
      const flag = JSON.parse((await s3.getObject(bucket, `metadata/anomalies/${flagged}.json`)).toString('utf8')) as { acceptedAt?: string };
      expect(flag.acceptedAt, bucket).toEqual(expect.any(String));
    }
    const pruned = await runCli(['prune', file], { env: ownEnv });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(await backupsIn(first)).toEqual([flagged]);
    expect(await backupsIn(second)).toEqual([flagged]);

    // The primary copy loses its backup: inspect shows it, and its records, from the second copy.
    const client = s3.client();
    await client.send(new DeleteObjectCommand({ Bucket: first, Key: flagged }));
    client.destroy();
    const inspected = await runCli(['inspect', 'clara', file, '--json'], { env: ownEnv });
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ key: flagged, location: second, manifest: { tables: { 'public.messages': 0 } }, anomaly: { acceptedAt: expect.any(String) } });
    await pg.dropDatabase(own);
  });
});
