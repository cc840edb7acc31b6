import { afterEach, describe, inject, it } from 'vitest';
import type { SinkInstance } from '@backupctl/plugin-api';
import { createTestInstance, storeContract } from '@backupctl/plugin-api/testing';
import plugin from '../../packages/plugin-s3/src/index.js';
import { uniqueName, useS3 } from '../harness/index.js';

// The s3 store passes the store contract against the harness's S3 server
// (s3rver), made the way the runner makes it: options checked against the
// plugin's schema, defaults filled in. Each case gets a bucket of its own.
//
// Without the opt-in case over more than 1000 keys (storeContract({ manyKeys })):
// s3rver 3.7.1 cannot page. It makes its ListObjectsV2 continuation tokens
// with DES, which OpenSSL 3 (Node >= 17) refuses unless Node runs with
// --openssl-legacy-provider, so a listing of more than 1000 keys answers
// InternalError (HTTP 500) at its first page; and 1100 PUTs take it some
// 10 s. The S3 store's paging and 1000-key delete batches are tested against
// a stand-in that pages as S3 does (retention-s3.test.ts in
// packages/core/test, formerly packages/runner/test: retention over 10,500
// backups).

const s3 = useS3();
const server = inject('s3');
const open: SinkInstance[] = [];

async function freshStore(): Promise<SinkInstance> {
  const bucket = uniqueName('store-contract');
  await s3.createBucket(bucket);
  const { instance } = await createTestInstance(plugin, {
    endpoint: server.endpoint,
    region: server.region,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    bucket,
    prefix: 'backups/clara/',
  });
  open.push(instance);
  return instance;
}

afterEach(async () => {
  for (const store of open.splice(0)) await store.close?.();
});

describe('s3 store passes the store contract (s3rver)', () => {
  for (const check of storeContract()) it(check.name, async () => check.run(await freshStore()));
});
