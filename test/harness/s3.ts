import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { s3Helpers, type S3ConnectionInfo, type S3Helpers } from './s3-client.js';
import { checkSignatureV4 } from './sigv4.js';
import { replaceObjectsWhole } from './atomic-put.js';

/** The fixed credentials s3rver accepts; anything else is refused (InvalidAccessKeyId / SignatureDoesNotMatch). */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';
export const S3RVER_SECRET_ACCESS_KEY = 'S3RVER';

/** A running s3rver: a real S3 HTTP API on 127.0.0.1, storing objects on disk. */
export interface S3Server extends S3ConnectionInfo, S3Helpers {
  /** Where the server keeps buckets and objects. */
  directory: string;
  /** Stops the server; deletes its directory unless the caller chose it. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 (a free port unless `port` is given), storing
 * in a new temp dir, or in `directory`, which is created if needed and kept on stop.
 */
export async function startS3Server(options: { directory?: string; port?: number } = {}): Promise<S3Server> {
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'backupctl-s3-')));
  await mkdir(directory, { recursive: true });

  const server = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, directory, silent: true });
  replaceObjectsWhole(server);
  // First in the chain: refuse a wrong secret key, which s3rver alone lets through.
  server.middleware.unshift((context, next) => {
    const problem = checkSignatureV4(context.req, (id) => (id === S3RVER_ACCESS_KEY_ID ? S3RVER_SECRET_ACCESS_KEY : undefined));
    if (problem === undefined) return next();
    context.status = 403;
    context.type = 'application/xml';
    context.body =
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<Error><Code>${problem.code}</Code><Message>${problem.message}</Message></Error>`;
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (error) {
    if (ownDirectory) await rm(directory, { recursive: true, force: true });
    throw error;
  }

  const info: S3ConnectionInfo = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: S3RVER_ACCESS_KEY_ID,
    secretAccessKey: S3RVER_SECRET_ACCESS_KEY,
  };
  const { destroy, ...helpers } = s3Helpers(info);
  let stopping: Promise<void> | undefined;
  return {
    ...info,
    ...helpers,
    directory,
    stop: () =>
      (stopping ??= (async () => {
        destroy();
        await server.close();
        if (ownDirectory) await rm(directory, { recursive: true, force: true });
      })()),
  };
}
