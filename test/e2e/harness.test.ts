import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  ListBucketsCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { cliEnvironment } from '../harness/cli.js';
import { ProcessTimeoutError, startProcess } from '../harness/process.js';
import { createS3Client } from '../harness/s3-client.js';
import {
  TEST_PG_PASSWORD,
  seedClaraDatabase,
  seedMem0Database,
  tableFingerprints,
  uniqueName,
  usePostgres,
  useS3,
} from '../harness/index.js';

// The harness itself: if these fail, every other e2e failure is suspect.

describe('PostgreSQL cluster', () => {
  const postgres = usePostgres();
  const created: string[] = [];

  afterAll(async () => {
    for (const name of created) await postgres.dropDatabase(name);
  });

  async function freshDatabase(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    await postgres.createDatabase(name);
    created.push(name);
    return name;
  }

  it('accepts the password over TCP and runs queries with pg and psql', async () => {
    const client = new pg.Client({ connectionString: postgres.url() });
    await client.connect();
    const { rows } = await client.query<{ user: string; addr: string; encoding: string }>(
      `SELECT current_user AS user, host(inet_server_addr()) AS addr, pg_encoding_to_char(encoding) AS encoding
         FROM pg_database WHERE datname = current_database()`,
    );
    await client.end();
    expect(rows).toEqual([{ user: 'postgres', addr: '127.0.0.1', encoding: 'UTF8' }]);
    expect(postgres.password).toBe(TEST_PG_PASSWORD);
    expect(await postgres.psql('postgres', "SELECT 'snow ☃', 1 + 1")).toBe('snow ☃|2');
  });

  it('refuses a wrong password', async () => {
    const client = new pg.Client({ ...inject('postgres'), database: 'postgres', password: 'not-the-password' });
    await expect(client.connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('psql rejects with the server error', async () => {
    await expect(postgres.psql('postgres', 'SELECT * FROM no_such_table')).rejects.toThrow(
      /relation "no_such_table" does not exist/,
    );
  });

  it('builds connection URLs that pg accepts', async () => {
    expect(postgres.url('some_db')).toBe(`postgresql://postgres:${TEST_PG_PASSWORD}@127.0.0.1:${postgres.port}/some_db`);
    const [row] = await postgres.query<{ ok: number }>('postgres', 'SELECT $1::int AS ok', [42]);
    expect(row).toEqual({ ok: 42 });
  });

  it('psql streams its input and fails when the input fails', async () => {
    const name = await freshDatabase('stream');
    const statements = Readable.from(['CREATE TABLE t (n int);\n', 'INSERT INTO t SELECT generate_series(1, 1000);\n']);
    await postgres.psql(name, statements);
    expect(await postgres.psql(name, 'SELECT count(*) FROM t')).toBe('1000');

    const broken = new Readable({ read() {} });
    broken.push('INSERT INTO t VALUES (1);\n');
    setTimeout(() => broken.destroy(new Error('download cut off')), 50);
    await expect(postgres.psql(name, broken)).rejects.toThrow('download cut off');
  });

  it('creates and drops databases, even with open connections', async () => {
    const name = await freshDatabase('harness');
    expect(await postgres.psql(name, 'SELECT current_database()')).toBe(name);
    const holder = new pg.Client({ connectionString: postgres.url(name) });
    await holder.connect();
    holder.on('error', () => {
      // the forced drop ends this connection on purpose
    });
    await postgres.dropDatabase(name);
    const rows = await postgres.query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    expect(rows).toEqual([]);
    await holder.end().catch(() => undefined);
  });

  it('seeds realistic data whose fingerprint is stable and sensitive to one changed row', async () => {
    const clara = await freshDatabase('clara');
    const copy = await freshDatabase('clara');
    await seedClaraDatabase(postgres, clara);
    await seedClaraDatabase(postgres, copy);

    const original = await tableFingerprints(postgres, clara);
    expect(Object.keys(original.tables)).toEqual([
      'audit.events',
      'public.conversations',
      'public.invoices',
      'public.messages',
      'public.users',
    ]);
    expect(original.tables['public.users']?.rows).toBe(300);
    expect(original.tables['public.messages']?.rows).toBe(1200 - 24);
    expect(original.sequences['public.invoice_number_seq']).toBe('50000');
    expect(Object.keys(original.views)).toEqual(['audit.daily_activity', 'public.active_users']);
    expect(await tableFingerprints(postgres, copy)).toEqual(original);

    // The tricky values really are there: non-UTF-8 bytes, emoji, NULLs.
    const [user] = await postgres.query<{ avatar: Buffer; display_name: string; bio: string | null }>(
      clara,
      'SELECT avatar, display_name, bio FROM users WHERE id = 3',
    );
    expect(user?.avatar.subarray(0, 6)).toEqual(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28]));
    expect(user?.display_name).toBe('Ana 🦊 Lima #3');
    const [nulls] = await postgres.query<{ count: string }>(clara, 'SELECT count(*) FROM users WHERE bio IS NULL');
    expect(nulls?.count).toBe('60');

    await postgres.query(copy, "UPDATE messages SET content = content || '!' WHERE id = 7");
    const changed = await tableFingerprints(postgres, copy);
    expect(changed.tables['public.messages']?.rows).toBe(original.tables['public.messages']?.rows);
    expect(changed.tables['public.messages']?.md5).not.toBe(original.tables['public.messages']?.md5);
    expect(changed).not.toEqual(original);

    await postgres.query(copy, "SELECT nextval('invoice_number_seq')");
    expect((await tableFingerprints(postgres, copy)).sequences['public.invoice_number_seq']).toBe('50007');
  });

  it('seeds a mem0-like vector store', async () => {
    const mem0 = await freshDatabase('mem0');
    await seedMem0Database(postgres, mem0);
    const fingerprint = await tableFingerprints(postgres, mem0);
    expect(fingerprint.tables['public.memories']?.rows).toBe(400);
    expect(fingerprint.tables['public.memory_history']?.rows).toBe(600);
    expect(fingerprint.sequences['public.memory_version_seq']).toBe('4242');
    expect(Object.keys(fingerprint.views)).toEqual(['public.user_memory_counts']);
    const [memory] = await postgres.query<{ dims: number; bytes: number }>(
      mem0,
      'SELECT array_length(embedding, 1) AS dims, length(embedding_f32) AS bytes FROM memories LIMIT 1',
    );
    expect(memory).toEqual({ dims: 16, bytes: 64 });
  });
});

describe('S3 server', () => {
  const s3 = useS3();
  let bucket: string;

  beforeAll(async () => {
    bucket = uniqueName('harness-bucket');
    await s3.createBucket(bucket);
  });

  it('stores, lists and returns objects byte for byte', async () => {
    const binary = Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0xfe, 0x80]);
    await s3.putObject(bucket, 'backups/clara/clara_20260201_030000.sql.gz', binary);
    await s3.putObject(bucket, 'backups/clara/clara_20260131_030000.sql.gz', 'older');
    await s3.putObject(bucket, 'backups/mem0/mem0_20260201_030000.sql.gz', 'mem0 ✓');
    await s3.putObject(bucket, 'metadata/last_backup.json', '{}');

    expect(await s3.listKeys(bucket, 'backups/clara/')).toEqual([
      'backups/clara/clara_20260131_030000.sql.gz',
      'backups/clara/clara_20260201_030000.sql.gz',
    ]);
    expect(await s3.listKeys(bucket)).toHaveLength(4);
    expect(await s3.getObject(bucket, 'backups/clara/clara_20260201_030000.sql.gz')).toEqual(binary);
    expect((await s3.getObject(bucket, 'backups/mem0/mem0_20260201_030000.sql.gz')).toString('utf8')).toBe('mem0 ✓');
  });

  it('replaces an object whole, as S3 does, when several PUTs of one key race (s3rver alone interleaves them)', async () => {
    const key = 'metadata/last_backup.json';
    const bodies = Array.from({ length: 20 }, (_, index) => JSON.stringify({ writer: index, padding: 'x'.repeat((20 - index) * 500) }));
    for (let round = 0; round < 5; round += 1) {
      await Promise.all(bodies.map((body) => s3.putObject(bucket, key, body)));
      expect(bodies).toContain((await s3.getObject(bucket, key)).toString('utf8'));
    }
    expect((await s3.listKeys(bucket, 'metadata/')).filter((listed) => listed !== key)).toEqual([]);
  });

  it('enforces bucket-name rules', async () => {
    await expect(s3.createBucket('b')).rejects.toMatchObject({ name: 'InvalidBucketName' });
  });

  it('accepts what the SDK signs: odd keys, multipart uploads, batch deletes', async () => {
    const client = s3.client();
    try {
      const oddKey = "backups/odd keys/ünï cödé + (1) 'quote' *star*.sql.gz";
      await s3.putObject(bucket, oddKey, 'odd');
      expect(await s3.listKeys(bucket, 'backups/odd keys/')).toEqual([oddKey]);

      // Three parts of 5 MiB, 5 MiB and 1 MiB: the multipart requests, with uploadId/partNumber queries.
      const large = randomBytes(11 * 1024 * 1024);
      const key = 'multipart/big.bin';
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const parts = [];
      for (let start = 0, PartNumber = 1; start < large.length; start += 5 * 1024 * 1024, PartNumber++) {
        const Body = large.subarray(start, start + 5 * 1024 * 1024);
        const { ETag } = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body }));
        parts.push({ PartNumber, ETag });
      }
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
      expect((await s3.getObject(bucket, 'multipart/big.bin')).equals(large)).toBe(true);

      await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: oddKey }, { Key: 'multipart/big.bin' }] } }),
      );
      expect(await s3.listKeys(bucket, 'backups/odd keys/')).toEqual([]);
      expect(await s3.listKeys(bucket, 'multipart/')).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it.each([
    ['a wrong secret', { secretAccessKey: 'wrong-secret' }, 'SignatureDoesNotMatch'],
    ['an unknown access key', { accessKeyId: 'NOT-A-KEY' }, 'InvalidAccessKeyId'],
  ])('rejects a client with %s', async (_case, credentials, code) => {
    const client = createS3Client({ ...inject('s3'), ...credentials });
    try {
      const attempt = client.send(new ListBucketsCommand({}));
      await expect(attempt).rejects.toBeInstanceOf(S3ServiceException);
      await expect(attempt).rejects.toMatchObject({ name: code, $metadata: { httpStatusCode: 403 } });
      await expect(s3.listKeys(bucket)).resolves.toContain('metadata/last_backup.json');
    } finally {
      client.destroy();
    }
  });
});

describe('child processes', () => {
  it('gives the CLI a clean environment: no DATABASE_URL, S3_* or AWS_* of the developer', () => {
    vi.stubEnv('DATABASE_URL', 'postgresql://dev@prod/db');
    vi.stubEnv('S3_SECRET_KEY', 'dev-secret');
    vi.stubEnv('AWS_PROFILE', 'prod');
    try {
      const env = cliEnvironment({ S3_BUCKET: 'from-the-test' });
      expect(env).toMatchObject({ PATH: process.env.PATH, S3_BUCKET: 'from-the-test' });
      for (const name of Object.keys(env)) expect(['HOME', 'LANG', 'LC_ALL', 'PATH', 'S3_BUCKET', 'TMPDIR']).toContain(name);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('kills a process that outlives its timeout and reports what it printed', async () => {
    const running = startProcess(process.execPath, ['-e', "console.log('started'); setInterval(() => {}, 1000)"], {
      timeoutMs: 1000,
    });
    await running.waitForOutput('started', 'stdout');
    const failure = await running.result.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProcessTimeoutError);
    expect(failure).toMatchObject({ stdout: 'started\n', timeoutMs: 1000 });
    expect(running.child.signalCode).toBe('SIGKILL');
  });

  it('resolves with exit code and output, and lets a test signal the process', async () => {
    const script = "process.on('SIGTERM', () => { console.error('bye'); process.exit(3) }); console.log('ready'); setInterval(() => {}, 1000)";
    const running = startProcess(process.execPath, ['-e', script]);
    await running.waitForOutput(/ready/);
    running.child.kill('SIGTERM');
    await expect(running.result).resolves.toEqual({ code: 3, signal: null, stdout: 'ready\n', stderr: 'bye\n' });
    await expect(running.waitForOutput('never printed')).rejects.toThrow(/ended before printing/);
  });
});
