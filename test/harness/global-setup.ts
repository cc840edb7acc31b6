import type { TestProject } from 'vitest/node';
import { TEST_PG_PASSWORD, startPostgres } from './postgres.js';
import { startSecretGuard } from './secret-guard.js';
import { startS3Server } from './s3.js';

/**
 * vitest globalSetup of the e2e project: one PostgreSQL cluster and one S3
 * server for the whole run. Test files reach them with `usePostgres()` and
 * `useS3()` (or `inject('postgres')` / `inject('s3')`) and make their own
 * databases and buckets with `uniqueName()`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Started first, so it sees every CLI run; its check runs last at teardown.
  const checkSecrets = await startSecretGuard([{ label: 'TEST_PG_PASSWORD', value: TEST_PG_PASSWORD }]);
  const [postgres, s3] = await Promise.allSettled([startPostgres(), startS3Server()]);
  if (postgres.status === 'rejected' || s3.status === 'rejected') {
    await Promise.allSettled([
      postgres.status === 'fulfilled' ? postgres.value.stop() : undefined,
      s3.status === 'fulfilled' ? s3.value.stop() : undefined,
    ]);
    throw postgres.status === 'rejected' ? postgres.reason : (s3 as PromiseRejectedResult).reason;
  }

  const { host, port, user, password, binDir } = postgres.value;
  project.provide('postgres', { host, port, user, password, binDir });
  const { endpoint, region, accessKeyId, secretAccessKey } = s3.value;
  project.provide('s3', { endpoint, region, accessKeyId, secretAccessKey });

  return async () => {
    const results = await Promise.allSettled([s3.value.stop(), postgres.value.stop()]);
    results.push(...(await Promise.allSettled([checkSecrets()])));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  };
}
