import { randomBytes } from 'node:crypto';
import { beforeAll, inject } from 'vitest';
import { postgresClient, type PostgresClient } from './postgres-client.js';
import type { ReferenceDatabases } from './reference-env.js';
import { s3Helpers, type S3Helpers } from './s3-client.js';
import { seedClaraDatabase, seedMem0Database } from './seed.js';

export { TEST_PG_PASSWORD } from './postgres.js';
export { quoteIdentifier, type PostgresClient, type PostgresConnectionInfo } from './postgres-client.js';
export type { S3ConnectionInfo, S3Helpers } from './s3-client.js';
export { runCli, startCli, type CliOptions, type CliResult, type RunningCli } from './cli.js';
export { referenceEnv, type ReferenceDatabases, type ReferenceEnvOptions } from './reference-env.js';
export { makeTempDir, removeTempDir, testTempDir } from './temp-dir.js';
export { writeClaraPipeline, type ClaraPipelineOptions } from './clara-pipeline.js';
export { closedPort } from './closed-port.js';
export { seedClaraDatabase, seedMem0Database, tableFingerprints, type DatabaseFingerprint } from './seed.js';

/** The run's PostgreSQL cluster (started by the e2e global setup), seen from a test file. */
export function usePostgres(): PostgresClient {
  return postgresClient(inject('postgres'));
}

/** The run's S3 server (started by the e2e global setup), seen from a test file. */
export function useS3(): S3Helpers {
  const { destroy: _destroy, ...helpers } = s3Helpers(inject('s3'));
  return helpers;
}

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh name for a database or bucket: `uniqueName('clara')` -> `clara_t3k9q2`.
 * The separator follows the prefix: a hyphenated prefix (bucket style,
 * `uniqueName('test-bucket')` -> `test-bucket-t3k9q2`) gets a hyphen, since
 * real S3 refuses underscores in bucket names; any other prefix gets an
 * underscore, valid in an unquoted PostgreSQL identifier.
 */
export function uniqueName(prefix: string): string {
  const suffix = Array.from(randomBytes(6), (byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join('');
  return `${prefix}${prefix.includes('-') ? '-' : '_'}${suffix}`;
}

/**
 * The default pipeline's two databases, under fresh names, created and
 * seeded by a `beforeAll` registered here: call it at the top of a test
 * file, before any hook that backs them up.
 */
export function useReferenceDatabases(pg: PostgresClient): Required<ReferenceDatabases> {
  const databases = { clara: uniqueName('clara_main'), mem0: uniqueName('clara_vectors') };
  beforeAll(async () => {
    await pg.createDatabase(databases.clara);
    await pg.createDatabase(databases.mem0);
    await seedClaraDatabase(pg, databases.clara);
    await seedMem0Database(pg, databases.mem0);
  });
  return databases;
}
