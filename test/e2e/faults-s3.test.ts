import { createHash } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { s3Operation } from '../harness/fault-proxy.js';
import { freePort } from '../harness/postgres.js';
import { useFaultFixture } from './fault-fixtures.js';
import { guardSecret } from '../harness/secret-guard.js';
import { TEST_PG_PASSWORD, runCli, uniqueName, usePostgres, useS3, type CliResult } from '../harness/index.js';

// S3 going wrong during a backup, through a TCP proxy between the CLI and the
// test S3 server. "Nothing lost": no object, no metadata written, and every
// multipart upload that was started was aborted, never completed (s3rver
// cannot list multipart uploads, so the requests made are the evidence).

const pg = usePostgres();
const s3 = useS3();
// ~11 MiB of dump makes three 5 MiB parts, a real multipart upload.
const fixture = useFaultFixture(pg, 'faults_s3', 12000);
const { env, operations } = fixture;
const S3_SECRET = inject('s3').secretAccessKey;

/** The run failed with exit 1 and one clear error line for the job, without secrets or stack traces. */
function expectCleanFailure(result: CliResult, message: RegExp): void {
  expect(result.code).toBe(1);
  const errors = result.stderr.split('\n').filter((line) => line.includes('ERROR'));
  expect(errors).toEqual([expect.stringMatching(message), expect.stringMatching(/ERROR: Backup failed: 1 of 1 jobs failed \(big\)$/)]);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout + result.stderr).not.toContain(TEST_PG_PASSWORD);
  expect(result.stdout + result.stderr).not.toContain(`:${S3_SECRET}`);
}

// An earlier backup and its metadata, as a bucket in use holds them: a failed run must leave them as they are.
const PREVIOUS_KEY = 'backups/big/big_20260101_030000.sql';
const PREVIOUS_BODY = '-- an earlier backup\n';
const PREVIOUS_METADATA = JSON.stringify({ updatedAt: '2026-01-01T03:00:05Z', jobs: { big: { key: PREVIOUS_KEY } } });

async function bucketWithPreviousBackup(): Promise<string> {
  const bucket = uniqueName('faults-s3');
  await s3.createBucket(bucket);
  await s3.putObject(bucket, PREVIOUS_KEY, PREVIOUS_BODY);
  await s3.putObject(bucket, 'metadata/last_backup.json', PREVIOUS_METADATA);
  return bucket;
}

/** Nothing new in the bucket, and the earlier backup and metadata unchanged. */
async function expectNothingStored(bucket: string): Promise<void> {
  expect(await s3.listKeys(bucket)).toEqual([PREVIOUS_KEY, 'metadata/last_backup.json']);
  expect((await s3.getObject(bucket, PREVIOUS_KEY)).toString('utf8')).toBe(PREVIOUS_BODY);
  expect((await s3.getObject(bucket, 'metadata/last_backup.json')).toString('utf8')).toBe(PREVIOUS_METADATA);
}

/** No warning at all, and none naming an object to delete by hand: the run left none. */
function expectNoObjectNamed(result: CliResult): void {
  const output = result.stdout + result.stderr;
  expect(output.split('\n').filter((line) => line.includes('WARN'))).toEqual([]);
  expect(output).not.toMatch(/could not remove|by hand|may exist/);
}

/** A multipart upload was started and then aborted, and never completed. */
function expectUploadAborted(): void {
  const ops = operations();
  expect(ops).toContain('CreateMultipartUpload');
  expect(ops).not.toContain('CompleteMultipartUpload');
  expect(ops.indexOf('AbortMultipartUpload')).toBeGreaterThan(ops.indexOf('CreateMultipartUpload'));
}

describe('S3 faults during a backup', () => {
  it('backs up through the proxy when nothing goes wrong (multipart: create, parts, complete)', async () => {
    const bucket = uniqueName('faults-s3');
    await s3.createBucket(bucket);
    const result = await runCli(['run', fixture.pipelineFile(), '--debug'], { env: env(bucket) });
    expect(result.code, result.stderr).toBe(0);
    // --debug shows how the sink addresses the service, and never a key.
    expect(result.stderr).toMatch(
      new RegExp(`DEBUG: s3: endpoint ${fixture.proxy().url.replace(/\./g, '\\.')} \\(path-style\\), region us-east-1, bucket ${bucket}, checksums when_required, part size 5 MiB × 1`),
    );
    expect(result.stderr).not.toContain(`${S3_SECRET}@`);
    expect(result.stderr).not.toMatch(/secretAccessKey|Credential=/);
    const ops = operations();
    expect(ops.filter((op) => op === 'UploadPart').length).toBeGreaterThanOrEqual(3);
    expect(ops).toContain('CompleteMultipartUpload');
    expect(await s3.listKeys(bucket, 'backups/')).toEqual([expect.stringMatching(/^backups\/big\/big_\d{8}_\d{6}\.sql$/)]);
  });

  it('endpoint down: a clear error naming the endpoint, exit 1, nothing stored', async () => {
    const bucket = await bucketWithPreviousBackup();
    const downEndpoint = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket, { S3_ENDPOINT_URL: downEndpoint }) });
    expectCleanFailure(result, new RegExp(`ERROR: big backup failed: cannot reach S3 endpoint ${downEndpoint.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)$`));
    // What to do about it follows on a line of its own.
    const lines = result.stderr.split('\n');
    const failedAt = lines.findIndex((line) => line.includes('ERROR: big backup failed'));
    expect(lines[failedAt + 1]).toMatch(/ - Hint for big: Check endpoint \(S3_ENDPOINT_URL\) and that the service is up and reachable from here\.$/);
    await expectNothingStored(bucket);
  });

  it('connections refused (reset) at once: retried by the SDK, then a clear error, nothing stored', async () => {
    const bucket = await bucketWithPreviousBackup();
    fixture.proxy().setMode({ kind: 'refuse' });
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    expectCleanFailure(result, new RegExp(`cannot reach S3 endpoint ${fixture.proxy().url} \\(ECONNRESET\\)`));
    // The standard retry mode makes 3 attempts of a request before giving up.
    expect(fixture.proxy().connections).toBeGreaterThanOrEqual(3);
    fixture.proxy().setMode({ kind: 'pass' });
    await expectNothingStored(bucket);
  });

  it('wrong secret key: a clear error naming the bucket and endpoint, no secret shown, nothing stored', async () => {
    const bucket = await bucketWithPreviousBackup();
    const wrongSecret = 'wrong-Secret-9fQ2';
    guardSecret('the wrong S3 secret key', wrongSecret);
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket, { S3_SECRET_KEY: wrongSecret }) });
    expectCleanFailure(result, new RegExp(`${fixture.proxy().url.replace(/\./g, '\\.')} rejected the S3 credentials for bucket ${bucket} \\(SignatureDoesNotMatch\\)`));
    expect(result.stdout + result.stderr).not.toContain(wrongSecret);
    expect(operations()).not.toContain('UploadPart');
    await expectNothingStored(bucket);
  });

  it('missing bucket: a clear error naming the bucket, nothing created', async () => {
    const bucket = uniqueName('faults-missing');
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    expectCleanFailure(result, new RegExp(`bucket ${bucket} does not exist at ${fixture.proxy().url.replace(/\./g, '\\.')}`));
    expect(operations()).not.toContain('UploadPart');
  });

  // Gzipped, the backup is one PutObject: the request that commits it. S3
  // refusing that request stored nothing, so no line may send the operator
  // to delete an object by hand.
  it('wrong secret key, a backup of one PUT: S3 refused it, nothing stored, and no line says an object may exist', async () => {
    const bucket = await bucketWithPreviousBackup();
    const wrongSecret = 'wrong-Secret-7hK4';
    guardSecret('the wrong S3 secret key', wrongSecret);
    const result = await runCli(['run', fixture.gzipPipelineFile()], { env: env(bucket, { S3_SECRET_KEY: wrongSecret }) });
    expectCleanFailure(result, new RegExp(`${fixture.proxy().url.replace(/\./g, '\\.')} rejected the S3 credentials for bucket ${bucket} \\(SignatureDoesNotMatch\\)`));
    expect(result.stdout + result.stderr).not.toContain(wrongSecret);
    expect(operations()).toContain('PutObject');
    expectNoObjectNamed(result);
    await expectNothingStored(bucket);
  });

  it('missing bucket, a backup of one PUT: S3 refused it, no bucket created, and no line says an object may exist', async () => {
    const bucket = uniqueName('faults-missing');
    const result = await runCli(['run', fixture.gzipPipelineFile()], { env: env(bucket) });
    expectCleanFailure(result, new RegExp(`bucket ${bucket} does not exist at ${fixture.proxy().url.replace(/\./g, '\\.')}`));
    expect(operations()).toContain('PutObject');
    expectNoObjectNamed(result);
    await expect(s3.listKeys(bucket)).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });

  it('HTTP 500 on two requests: the SDK retries them and the backup succeeds intact', async () => {
    const bucket = uniqueName('faults-s3');
    await s3.createBucket(bucket);
    fixture.proxy().setMode({ kind: 'status', count: 2, match: (request) => s3Operation(request) === 'UploadPart' });
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    expect(result.code, result.stderr).toBe(0);
    expect(fixture.proxy().requests.filter((request) => request.outcome === 'faulted')).toHaveLength(2);
    await expectStoredIntact(bucket);
  });

  it('HTTP 500 on every part: retried, then one clear error; the upload is aborted, never completed', async () => {
    const bucket = await bucketWithPreviousBackup();
    fixture.proxy().setMode({ kind: 'status', count: 1000, match: (request) => s3Operation(request) === 'UploadPart' });
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    expectCleanFailure(result, /ERROR: big backup failed: s3 write of s3:\/\/faults-s3-\w+\/backups\/big\/big_\d{8}_\d{6}\.sql at http:\/\/127\.0\.0\.1:\d+ failed: InternalError: injected by the fault proxy \(HTTP 500\)$/);
    expect(fixture.proxy().requests.filter((request) => request.outcome === 'faulted').length).toBeGreaterThanOrEqual(3);
    expectUploadAborted();
    await expectNothingStored(bucket);
  });

  it('a connection cut mid-part: retried, and the backup succeeds intact', async () => {
    const bucket = uniqueName('faults-s3');
    await s3.createBucket(bucket);
    fixture.proxy().setMode({ kind: 'cut', afterBytes: 1024 * 1024, times: 1 });
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    expect(result.code, result.stderr).toBe(0);
    await expectStoredIntact(bucket);
  });

  it('every connection cut mid-part: one clear error; the upload is aborted, never completed, nothing stored', async () => {
    const bucket = await bucketWithPreviousBackup();
    fixture.proxy().setMode({ kind: 'cut', afterBytes: 1024 * 1024 });
    const result = await runCli(['run', fixture.pipelineFile()], { env: env(bucket) });
    expectCleanFailure(result, new RegExp(`cannot reach S3 endpoint ${fixture.proxy().url.replace(/\./g, '\\.')} \\((ECONNRESET|EPIPE)\\)`));
    expectUploadAborted();
    fixture.proxy().setMode({ kind: 'pass' });
    await expectNothingStored(bucket);
  });
});

/** One backup in the bucket, whose bytes match the checksum the run recorded and hold the whole table. */
async function expectStoredIntact(bucket: string): Promise<void> {
  const keys = await s3.listKeys(bucket, 'backups/');
  expect(keys).toHaveLength(1);
  const body = await s3.getObject(bucket, keys[0]!);
  const lastBackup = JSON.parse((await s3.getObject(bucket, 'metadata/last_backup.json')).toString('utf8')) as {
    jobs: Record<string, { key: string; size: number; sha256: string }>;
  };
  expect(lastBackup.jobs.big).toMatchObject({ key: keys[0], size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  const dump = body.toString('utf8');
  expect(dump).toContain('COPY public.big (id, payload) FROM stdin;');
  expect(dump).toContain(`12000\t${createHash('md5').update('12000').digest('hex').repeat(30)}`);
}
