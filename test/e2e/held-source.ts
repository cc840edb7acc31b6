import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testTempDir } from '../harness/index.js';

// A source plugin for tests that need a backup in flight: it sends `mib` MiB
// of random bytes (gzip cannot shrink them below the S3 part size, so parts
// really are uploaded), logs "held source: <n> MiB sent, holding", then
// holds the stream open for `holdMs` (0: until aborted) before ending it.
// While it holds, a timer stands for the handle a real source has (pg_dump's
// process), so the CLI's event loop stays alive.
export const HELD_SOURCE = `
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export default {
  apiVersion: 1,
  name: 'held',
  kind: 'source',
  schema: {
    type: 'object',
    properties: { mib: { type: 'number', default: 12 }, holdMs: { type: 'number', default: 0 } },
    additionalProperties: false,
  },
  create(options, context) {
    context.artifact.extension = '.bin';
    return {
      async open(signal) {
        const stream = new Readable({ read() {} });
        let timer;
        const alive = setInterval(() => undefined, 1000);
        const done = new Promise((resolve, reject) => {
          const stop = () => {
            clearTimeout(timer);
            clearInterval(alive);
            const error = new Error('held source aborted');
            stream.destroy(error);
            reject(error);
          };
          signal.addEventListener('abort', stop, { once: true });
          for (let sent = 0; sent < options.mib; sent += 1) stream.push(randomBytes(1024 * 1024));
          context.logger.info('held source: ' + options.mib + ' MiB sent, holding');
          if (options.holdMs > 0) {
            timer = setTimeout(() => {
              signal.removeEventListener('abort', stop);
              clearInterval(alive);
              stream.push(null);
              resolve();
            }, options.holdMs);
          }
        });
        done.catch(() => undefined);
        return { stream, done };
      },
    };
  },
};
`;

export interface HeldPipelineOptions {
  bucket: string;
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string };
  mib?: number;
  holdMs?: number;
}

/** Writes the held source and a pipeline file (job `held`, gzip, S3 sink under `backups/held/`, 5 MiB parts); returns the file. */
export async function writeHeldPipeline(options: HeldPipelineOptions): Promise<string> {
  const dir = await testTempDir('backupctl-held-');
  await writeFile(path.join(dir, 'held-source.mjs'), HELD_SOURCE);
  const file = path.join(dir, 'backupctl.yml');
  await writeFile(
    file,
    [
      'version: 1',
      'jobs:',
      '  held:',
      '    title: Held DB',
      `    source: { use: ./held-source.mjs, with: { mib: ${options.mib ?? 12}, holdMs: ${options.holdMs ?? 0} } }`,
      '    transforms: [{ use: gzip, with: { level: 1 } }]',
      '    sink:',
      '      use: s3',
      '      with:',
      `        bucket: ${options.bucket}`,
      `        endpoint: ${options.s3.endpoint}`,
      `        accessKeyId: ${options.s3.accessKeyId}`,
      '        secretAccessKey: "${HELD_S3_SECRET}"',
      '        prefix: backups/held/',
      '        partSizeMiB: 5',
      '',
    ].join('\n'),
  );
  return file;
}
