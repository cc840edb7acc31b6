// Shared by faults-db.test.ts and faults-s3.test.ts: a database worth a
// multipart upload, a fault proxy between the CLI and the S3 server, and a
// pipeline that backs the one up through the other.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { startFaultProxy, s3Operation, type FaultProxy } from '../harness/fault-proxy.js';
import { makeTempDir, removeTempDir, uniqueName, type PostgresClient } from '../harness/index.js';

// No gzip, so the dump's size is the upload's: 5 MiB parts, one at a time.
// With gzip the repetitive rows shrink to well under one part: a single
// PutObject, as a small database's backup is.
// DB_RETRY_* let a test of an unreachable database retry; one attempt otherwise.
const pipeline = (transforms = ''): string => `version: 1
jobs:
  big:
    source:
      use: postgres
      with: { url: "\${DATABASE_URL}", retryAttempts: "\${DB_RETRY_ATTEMPTS:-1}", retryDelaySeconds: "\${DB_RETRY_DELAY:-1}" }
${transforms}    sink:
      use: s3
      with:
        bucket: "\${S3_BUCKET}"
        endpoint: "\${S3_ENDPOINT_URL}"
        accessKeyId: "\${S3_ACCESS_KEY}"
        secretAccessKey: "\${S3_SECRET_KEY}"
        prefix: backups/big/
        partSizeMiB: 5
        queueSize: 1
`;

export interface FaultFixture {
  database: string;
  /** The proxy in front of the S3 server; set to pass and its requests cleared before each test. */
  proxy(): FaultProxy;
  pipelineFile(): string;
  /** The same job with gzip: its upload is one PutObject. */
  gzipPipelineFile(): string;
  /** The pipeline's environment, S3 through the proxy. */
  env(bucket: string, overrides?: Record<string, string>): Record<string, string>;
  /** The S3 operations the proxy saw, in order. */
  operations(): string[];
}

/**
 * Registers the hooks that set the fixture up for the calling test file:
 * `database` with a table `big` of `rows` rows of ~1 KB, the proxy, the
 * pipeline file.
 */
export function useFaultFixture(pg: PostgresClient, name: string, rows: number): FaultFixture {
  const database = uniqueName(name);
  let proxy: FaultProxy;
  let dir: string | undefined;
  let pipelineFile: string;
  let gzipPipelineFile: string;

  beforeAll(async () => {
    await pg.createDatabase(database);
    await pg.psql(database, `CREATE TABLE big (id int PRIMARY KEY, payload text);
      INSERT INTO big SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, ${rows}) AS g;`);
    proxy = await startFaultProxy(inject('s3').endpoint);
    dir = await makeTempDir(`backupctl-${name}-`);
    pipelineFile = path.join(dir, 'backupctl.yml');
    await writeFile(pipelineFile, pipeline());
    gzipPipelineFile = path.join(dir, 'backupctl-gzip.yml');
    await writeFile(gzipPipelineFile, pipeline('    transforms: [ { use: gzip } ]\n'));
  });
  afterAll(async () => {
    await proxy?.close();
    await removeTempDir(dir);
  });
  beforeEach(() => {
    proxy.setMode({ kind: 'pass' });
    (proxy.requests as unknown[]).length = 0;
  });

  return {
    database,
    proxy: () => proxy,
    pipelineFile: () => pipelineFile,
    gzipPipelineFile: () => gzipPipelineFile,
    env: (bucket, overrides = {}) => ({
      DATABASE_URL: pg.url(database),
      S3_BUCKET: bucket,
      S3_ENDPOINT_URL: proxy.url,
      S3_ACCESS_KEY: inject('s3').accessKeyId,
      S3_SECRET_KEY: inject('s3').secretAccessKey,
      ...overrides,
    }),
    operations: () => proxy.requests.map(s3Operation),
  };
}
