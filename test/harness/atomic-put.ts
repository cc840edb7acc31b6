import { randomUUID } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import type S3rver from 's3rver';

/**
 * Makes s3rver replace an object whole, as S3 does. Its filesystem store
 * writes a PUT's body straight into the object's file, so two PUTs of one
 * key at the same moment (two processes rewriting metadata/last_backup.json)
 * leave their bytes interleaved, which S3 never serves. Here the body goes
 * to a staging file beside it (its name does not end like an object's, so
 * listings skip it) and is renamed into place once whole.
 */
export function replaceObjectsWhole(server: S3rver): void {
  const { store } = server;
  const putObject = store.putObject;
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    const staging = `${objectPath}.${randomUUID()}.staging`;
    // The store finds where to write through getResourcePath: for this call, the staging file.
    const staged = Object.create(store, {
      getResourcePath: {
        value: (bucket: string, key: string | undefined, resource: string) =>
          bucket === object.bucket && key === object.key && resource === 'object' ? staging : store.getResourcePath(bucket, key, resource),
      },
    }) as typeof store;
    try {
      const result = await putObject.call(staged, object);
      await rename(staging, objectPath);
      return result;
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
  };
}
