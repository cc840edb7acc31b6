import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testTempDir } from './temp-dir.js';

export interface ClaraPipelineOptions {
  /** The sink's `hooks:` list, each line as below `hooks:` (`- use: respawn`); none: no `hooks:`. */
  sinkHooks?: readonly string[];
  /** More of the job after its sink, each line as at the job's keys (`notify:`, `staleAfterHours: 1`). */
  jobLines?: readonly string[];
}

/**
 * `backupctl.yml` in a fresh temp dir (removed when the test finishes; only
 * inside a test): the one job `clara`, titled Clara DB, backing up
 * `${DATABASE_URL}` through gzip to the s3 sink under `backups/clara/`,
 * from the variables referenceEnv sets. Its lines 1 to 9 are always the
 * same, so a test can name a line of what it adds: the first of
 * `sinkHooks` is line 11 (below `hooks:`), the first of `jobLines` line 10
 * after no hooks.
 */
export async function writeClaraPipeline(options: ClaraPipelineOptions = {}): Promise<string> {
  const { sinkHooks = [], jobLines = [] } = options;
  const file = path.join(await testTempDir('backupctl-clara-'), 'backupctl.yml');
  const lines = [
    'version: 1',
    'jobs:',
    '  clara:',
    '    title: Clara DB',
    '    source: { use: postgres, with: { url: "${DATABASE_URL}", retryAttempts: 1 } }',
    '    transforms: [{ use: gzip }]',
    '    sink:',
    '      use: s3',
    '      with: { bucket: "${S3_BUCKET}", endpoint: "${S3_ENDPOINT_URL}", accessKeyId: "${S3_ACCESS_KEY}", secretAccessKey: "${S3_SECRET_KEY}", prefix: backups/clara/ }',
    ...(sinkHooks.length ? ['      hooks:', ...sinkHooks.map((line) => `        ${line}`)] : []),
    ...jobLines.map((line) => `    ${line}`),
    '',
  ];
  await writeFile(file, lines.join('\n'));
  return file;
}
