import type { PostgresConnectionInfo } from './postgres-client.js';
import type { S3ConnectionInfo } from './s3-client.js';

// What test/harness/global-setup.ts provides to e2e test files (`inject('postgres')`).
declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresConnectionInfo;
    s3: S3ConnectionInfo;
  }
}
