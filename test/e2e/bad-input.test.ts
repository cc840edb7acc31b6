import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, testTempDir } from '../harness/index.js';
import { guardSecret } from '../harness/secret-guard.js';

// Bad input, as a table: every case must exit 2 with exactly one line on
// stderr that names the problem and where it is (file:line:col and path, the
// variable, the flag), and no stack trace. Nothing here reaches a database or
// a bucket: a config problem stops the CLI before anything is contacted.

interface BadInputCase {
  name: string;
  /** Files written into a fresh directory, which is the CLI's cwd. */
  files?: Record<string, string>;
  env?: Record<string, string>;
  args: string[];
  /** What the single stderr line must match. */
  expected: RegExp;
}

/** A valid pipeline with a file sink; cases replace one line to break it. */
function pipeline(overrides: { source?: string; transforms?: string; sink?: string; hooks?: string; job?: string; top?: string } = {}): string {
  return [
    'version: 1',
    ...(overrides.top === undefined ? [] : [overrides.top]),
    'jobs:',
    '  db:',
    ...(overrides.job === undefined ? [] : [`    ${overrides.job}`]),
    `    source: ${overrides.source ?? '{ use: postgres, with: { url: "postgresql://u@127.0.0.1:1/db" } }'}`,
    `    transforms: ${overrides.transforms ?? '[ { use: gzip } ]'}`,
    '    sink:',
    `      ${overrides.sink ?? 'use: file'}`,
    '      with: { directory: ./out }',
    `      hooks: ${overrides.hooks ?? '[]'}`,
    '',
  ].join('\n');
}

// The reference service's environment, valid; cases change one variable.
const REFERENCE_ENV: Record<string, string> = {
  DATABASE_URL: 'postgresql://backup@127.0.0.1:1/clara',
  S3_BUCKET: 'clara-backups',
  S3_ENDPOINT_URL: 'http://127.0.0.1:1',
  S3_ACCESS_KEY: 'AKID',
  S3_SECRET_KEY: 'bad-input-secret',
};
const withEnv = (changes: Record<string, string | undefined>): Record<string, string> => {
  const env: Record<string, string | undefined> = { ...REFERENCE_ENV, ...changes };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
};

const file = (text: string) => ({ 'backupctl.yml': text });
/** `backupctl.yml:<line>:<col>: <path>: <message>` */
const at = (line: number, pathText: string, message: string) =>
  new RegExp(`^Error: backupctl\\.yml:${line}:\\d+: ${pathText.replace(/[.[\]]/g, '\\$&')}: ${message}`);
const inDefault = (pathText: string, message: string) =>
  new RegExp(`^Error: clara-mem0\\.yml \\(default\\):\\d+:\\d+: ${pathText.replace(/[.[\]]/g, '\\$&')}: ${message}`);

const cases: BadInputCase[] = [
  // The file itself
  { name: 'file that does not exist', args: ['run', 'missing.yml'], expected: /^Error: .*missing\.yml.*(does not exist|not found|no such)/i },
  { name: 'directory instead of file', files: { 'conf/.keep': '' }, args: ['run', 'conf'], expected: /^Error: pipeline file conf is not a file \(name a YAML file, not a directory\)$/ },
  { name: 'empty file', files: file(''), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml: the file is empty; a pipeline needs `version: 1` and `jobs:`$/ },
  { name: 'malformed YAML (unclosed flow mapping)', files: file('version: 1\njobs:\n  db: { source: { use: postgres }\n'), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml:\d+:\d+: .*(YAML|flow|expected)/i },
  { name: 'malformed YAML (bad indentation)', files: file('version: 1\njobs:\n  db:\n    source: x\n   sink: y\n'), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml:5:\d+: /i },
  { name: 'YAML duplicate key', files: file('version: 1\nversion: 1\njobs: {}\n'), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml:2:\d+: .*(duplicate|unique)/i },
  { name: 'top level is a list', files: file('- version: 1\n'), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml:1:\d+: .*(object|mapping)/i },

  // The pipeline's own shape
  { name: 'unknown version', files: file(pipeline().replace('version: 1', 'version: 2')), args: ['validate', 'backupctl.yml'], expected: at(1, 'version', 'must be 1') },
  { name: 'missing version', files: file(pipeline().replace('version: 1\n', '')), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml:1:1: version: is required/ },
  { name: 'no jobs', files: file('version: 1\njobs: {}\n'), args: ['validate', 'backupctl.yml'], expected: at(2, 'jobs', 'must NOT have fewer than 1 properties|needs at least one job') },
  { name: 'jobs missing', files: file('version: 1\n'), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml:1:1: jobs: is required/ },
  { name: 'unknown top-level key', files: file(pipeline({ top: 'job: {}' })), args: ['validate', 'backupctl.yml'], expected: at(2, 'job', 'is not a known option') },
  { name: 'unknown job key', files: file(pipeline({ job: 'schedule: daily' })), args: ['validate', 'backupctl.yml'], expected: at(4, 'jobs.db.schedule', 'is not a known option') },
  { name: 'job name with a space', files: file(pipeline().replace('  db:', '  "my db":')), args: ['validate', 'backupctl.yml'], expected: /^Error: backupctl\.yml:[34]:\d+: jobs\.my db: job names use letters, digits, _ \. - and start with a letter or digit$/ },
  { name: 'invalid key template', files: file(pipeline({ job: 'name: "{jobb}_{timestamp}"' })), args: ['validate', 'backupctl.yml'], expected: at(4, 'jobs.db.name', '.*\\{jobb\\}') },

  // Plugins
  { name: 'unknown plugin', files: file(pipeline({ transforms: '[ { use: gzipp } ]' })), args: ['validate', 'backupctl.yml'], expected: at(5, 'jobs.db.transforms[0].use', 'unknown plugin "gzipp"') },
  { name: 'plugin file that does not exist', files: file(pipeline({ transforms: '[ { use: ./plugins/nope.js } ]' })), args: ['validate', 'backupctl.yml'], expected: at(5, 'jobs.db.transforms[0].use', '.*nope\\.js') },
  { name: 'sink plugin in the source slot', files: file(pipeline({ source: '{ use: s3, with: { bucket: b } }' })), args: ['validate', 'backupctl.yml'], expected: at(4, 'jobs.db.source.use', 'plugin "s3" is a sink, not a source') },
  { name: 'transform plugin in the sink slot', files: file(pipeline({ sink: 'use: gzip' })), args: ['validate', 'backupctl.yml'], expected: at(7, 'jobs.db.sink.use', 'plugin "gzip" is a transform, not a sink') },
  { name: 'source plugin in a hook slot', files: file(pipeline({ hooks: '[ { use: postgres } ]' })), args: ['validate', 'backupctl.yml'], expected: at(9, 'jobs.db.sink.hooks[0].use', 'plugin "postgres" is a source, not a hook') },

  // Options
  { name: 'option of the wrong type', files: file(pipeline({ transforms: '[ { use: gzip, with: { level: high } } ]' })), args: ['validate', 'backupctl.yml'], expected: at(5, 'jobs.db.transforms[0].with.level', 'must be integer') },
  { name: 'option out of range', files: file(pipeline({ transforms: '[ { use: gzip, with: { level: 12 } } ]' })), args: ['validate', 'backupctl.yml'], expected: at(5, 'jobs.db.transforms[0].with.level', 'must be <= 9') },
  { name: 'unknown option', files: file(pipeline({ transforms: '[ { use: gzip, with: { levle: 6 } } ]' })), args: ['validate', 'backupctl.yml'], expected: at(5, 'jobs.db.transforms[0].with.levle', 'is not a known option \\(known: level') },
  { name: 'missing required option', files: file(pipeline().replace('with: { directory: ./out }', 'with: { prefix: x/ }')), args: ['validate', 'backupctl.yml'], expected: at(8, 'jobs.db.sink.with.directory', 'is required') },
  { name: 'missing required source option', files: file(pipeline({ source: '{ use: postgres }' })), args: ['validate', 'backupctl.yml'], expected: at(4, 'jobs.db.source.with.url', 'is required') },
  { name: 'invalid retention days', files: file(pipeline({ hooks: '[ { use: retention, with: { days: -1 } } ]' })), args: ['validate', 'backupctl.yml'], expected: at(9, 'jobs.db.sink.hooks[0].with.days', 'must be >= ') },
  { name: 'retention days not a number', files: file(pipeline({ hooks: '[ { use: retention, with: { days: seven } } ]' })), args: ['validate', 'backupctl.yml'], expected: at(9, 'jobs.db.sink.hooks[0].with.days', 'must be number') },
  { name: 'invalid retention keepDaily', files: file(pipeline({ hooks: '[ { use: retention, with: { days: 7, keepDaily: 1.5 } } ]' })), args: ['validate', 'backupctl.yml'], expected: at(9, 'jobs.db.sink.hooks[0].with.keepDaily', 'must be integer') },
  { name: 'invalid respawn hours', files: file(pipeline({ hooks: '[ { use: respawn, with: { hours: -5 } } ]' })), args: ['validate', 'backupctl.yml'], expected: at(9, 'jobs.db.sink.hooks[0].with.hours', 'must be >= ') },

  // The default pipeline and its environment
  { name: 'missing env var without default', env: withEnv({ DATABASE_URL: undefined }), args: ['run'], expected: inDefault('jobs.clara.source.with.url', 'environment variable DATABASE_URL is not set') },
  { name: 'FORCE_BACKUP=maybe', env: withEnv({ FORCE_BACKUP: 'maybe' }), args: ['run'], expected: inDefault('jobs.clara.sink.hooks[0].with.force', 'must be true/false, 1/0 or yes/no') },
  { name: 'DB_RETRY_ATTEMPTS not a number', env: withEnv({ DB_RETRY_ATTEMPTS: 'many' }), args: ['run'], expected: inDefault('jobs.clara.source.with.retryAttempts', 'must be integer') },
  { name: 'BACKUP_RETENTION_DAYS negative', env: withEnv({ BACKUP_RETENTION_DAYS: '-3' }), args: ['run'], expected: inDefault('jobs.clara.sink.hooks[1].with.days', 'must be >= ') },
  { name: 'invalid database URL', env: withEnv({ DATABASE_URL: 'not a url' }), args: ['run'], expected: inDefault('jobs.clara.source.with.url', 'must be a postgres:// or postgresql:// URL$') },
  { name: 'unsupported database URL scheme', env: withEnv({ DATABASE_URL: 'mysql://backup@127.0.0.1/clara' }), args: ['run'], expected: inDefault('jobs.clara.source.with.url', 'must be a postgres:// or postgresql:// URL$') },
  { name: 'invalid S3 endpoint URL', env: withEnv({ S3_ENDPOINT_URL: 'not a url' }), args: ['run'], expected: /^Error: .*(S3_ENDPOINT_URL|jobs\.clara\.sink\.with\.endpoint).*(URL|http)/ },
  { name: 'unsupported S3 endpoint scheme', env: withEnv({ S3_ENDPOINT_URL: 'ftp://s3.example.com' }), args: ['run'], expected: /^Error: .*(S3_ENDPOINT_URL|jobs\.clara\.sink\.with\.endpoint).*http/ },
  { name: 'S3 access key without secret key', env: withEnv({ S3_SECRET_KEY: undefined }), args: ['run'], expected: inDefault('jobs.clara.sink.with.secretAccessKey', 'must be set when accessKeyId is \\(both keys or neither\\)$') },
  { name: 'S3 secret key without access key', env: withEnv({ S3_ACCESS_KEY: undefined }), args: ['run'], expected: inDefault('jobs.clara.sink.with.accessKeyId', 'must be set when secretAccessKey is \\(both keys or neither\\)$') },
  { name: 'empty bucket name', env: withEnv({ S3_BUCKET: '' }), args: ['run'], expected: /^Error: .*(S3_BUCKET|jobs\.clara\.sink\.with\.bucket)/ },

  // Command line
  { name: '--job that does not exist', env: REFERENCE_ENV, args: ['run', '--job', 'nope'], expected: /^Error: no job "nope" in clara-mem0\.yml \(default\) \(jobs in this file: clara, mem0\)$/ },
  { name: 'unknown flag', env: REFERENCE_ENV, args: ['run', '--jbo', 'clara'], expected: /^Error: Nonexistent flag: --jbo \(see --help\)$/ },
  { name: 'invalid cron (out of range)', env: REFERENCE_ENV, args: ['serve', '--schedule', '61 * * * *', '--port', '0'], expected: /^Error: .*schedule.*61 \* \* \* \*/i },
  { name: 'invalid cron (not cron)', env: REFERENCE_ENV, args: ['serve', '--schedule', 'every day', '--port', '0'], expected: /^Error: .*schedule.*every day/i },
];

async function prepare(testCase: BadInputCase): Promise<string> {
  const dir = await testTempDir('backupctl-bad-input-');
  for (const [name, text] of Object.entries(testCase.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

describe('bad input: exit 2 and one line naming the problem and where', () => {
  it('has at least 30 cases', () => {
    guardSecret('the bad-input S3 secret key', REFERENCE_ENV.S3_SECRET_KEY!);
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name', async (testCase) => {
    const cwd = await prepare(testCase);
    const result = await runCli(testCase.args, { cwd, env: testCase.env ?? {}, timeoutMs: 30_000 });
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect({ code: result.code, lines }).toMatchObject({ code: 2, lines: [expect.stringMatching(testCase.expected)] });
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('bad-input-secret');
  });
});
