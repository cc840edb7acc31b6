import { inject } from 'vitest';
import type { PostgresClient } from './postgres-client.js';

/** The databases the default pipeline's two jobs back up. */
export interface ReferenceDatabases {
  clara: string;
  /** Without it, MEM0_DATABASE_URL stays unset and the mem0 job is skipped. */
  mem0?: string;
}

export interface ReferenceEnvOptions {
  /**
   * Sets FORCE_BACKUP=true (the default) so that repeated runs into one
   * bucket are not skipped by respawn protection; false leaves it unset.
   */
  force?: boolean;
  /** Variables added or replaced last. */
  overrides?: Record<string, string>;
}

/**
 * The default pipeline's environment: the reference service's variables,
 * pointing at the harness's cluster and S3 server, and nothing else. One
 * connection attempt, so a test of a failing database does not wait 62 s.
 */
export function referenceEnv(
  pg: PostgresClient,
  databases: ReferenceDatabases,
  bucket: string,
  options: ReferenceEnvOptions = {},
): Record<string, string> {
  const s3 = inject('s3');
  return {
    DATABASE_URL: pg.url(databases.clara),
    ...(databases.mem0 ? { MEM0_DATABASE_URL: pg.url(databases.mem0) } : {}),
    S3_BUCKET: bucket,
    S3_ENDPOINT_URL: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKeyId,
    S3_SECRET_KEY: s3.secretAccessKey,
    S3_REGION: s3.region,
    DB_RETRY_ATTEMPTS: '1',
    ...(options.force === false ? {} : { FORCE_BACKUP: 'true' }),
    ...options.overrides,
  };
}
