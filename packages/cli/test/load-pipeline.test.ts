import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliHost } from '../src/host.js';
import { ConfigError, loadPipeline, selectJobs } from '../../core/src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'backupctl-load-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

async function issuesOf(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map((issue) => `${path.basename(issue.location)} ${issue.path}: ${issue.message}`);
}

const fileSinkJob = (extra = '') => `version: 1
jobs:
  clara:
    source: { use: ./fake-source.mjs }
    transforms:
      - use: gzip
        with: { level: 9 }
    sink:
      use: file
      with: { directory: ./out, prefix: backups/clara/ }
${extra}`;

const fakeSource = `export default {
  apiVersion: 1, name: 'fake-source', kind: 'source',
  schema: { type: 'object', properties: { rows: { type: 'integer', default: 3 } }, additionalProperties: false },
  create: () => ({ open: async () => { throw new Error('not used') } }),
};`;

describe('loadPipeline', () => {
  it('loads built-in and relative plugins, fills defaults and coerces env strings', async () => {
    await write('fake-source.mjs', fakeSource);
    const file = await write(
      'pipeline.yml',
      fileSinkJob().replace('{ use: ./fake-source.mjs }', '{ use: ./fake-source.mjs, with: { rows: "${ROWS:-7}" } }'),
    );
    const pipeline = await loadPipeline({ host: cliHost(), file, cwd: dir, env: {} });
    const [job] = pipeline.jobs;
    expect(job?.source?.options).toEqual({ rows: 7 });
    expect(job?.source?.from).toBe(path.join(dir, 'fake-source.mjs'));
    expect(job?.transforms[0]?.options).toEqual({ level: 9 });
    expect(job?.sink?.options).toEqual({ directory: './out', prefix: 'backups/clara/' });
    expect(job?.nameTemplate).toBe('{job}_{timestamp}{ext}');
  });

  it('reports every problem at once with line, column and path', async () => {
    await write('fake-source.mjs', fakeSource);
    const file = await write(
      'pipeline.yml',
      `version: 1
jobs:
  clara:
    name: "{job}.sql"
    source: { use: ./fake-source.mjs, with: { rows: many, colour: red } }
    transforms:
      - use: s3
      - use: gzip
        with: { level: 11 }
    sink:
      use: nope-such-plugin
  mem0:
    source: { use: ./fake-source.mjs }
    sink:
      use: file
      with: { directory: "\${BACKUP_DIR}" }
`,
    );
    expect(await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: {} }))).toEqual([
      'pipeline.yml:4:11 jobs.clara.name: must contain {timestamp}',
      'pipeline.yml:5:67 jobs.clara.source.with.colour: is not a known option (known: rows)',
      'pipeline.yml:5:53 jobs.clara.source.with.rows: must be integer',
      'pipeline.yml:7:14 jobs.clara.transforms[0].use: plugin "s3" is a sink, not a transform',
      'pipeline.yml:9:24 jobs.clara.transforms[1].with.level: must be <= 9',
      expect.stringMatching(/^pipeline.yml:11:12 jobs.clara.sink.use: unknown plugin "nope-such-plugin"/),
      'pipeline.yml:16:26 jobs.mem0.sink.with.directory: environment variable BACKUP_DIR is not set',
    ]);
  });

  it('reports a missing variable once, not again as a schema error of the option it fills', async () => {
    await write('fake-source.mjs', fakeSource);
    const file = await write('pipeline.yml', fileSinkJob().replace('{ use: ./fake-source.mjs }', '{ use: ./fake-source.mjs, with: { rows: "${ROWS}" } }'));
    expect(await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: {} }))).toEqual([
      'pipeline.yml:4:53 jobs.clara.source.with.rows: environment variable ROWS is not set',
    ]);
  });

  it('names an invalid job name, an empty file, and says what a pattern wants instead of printing it', async () => {
    await write('fake-source.mjs', fakeSource);
    const badName = await write('bad-name.yml', fileSinkJob().replace('  clara:', '  "clara db":'));
    expect(await issuesOf(loadPipeline({ host: cliHost(), file: badName, cwd: dir, env: {} }))).toEqual([
      expect.stringMatching(/^bad-name.yml:\d+:\d+ jobs.clara db: job names use letters, digits, _ \. - and start with a letter or digit$/),
    ]);
    const empty = await write('empty.yml', '');
    expect(await issuesOf(loadPipeline({ host: cliHost(), file: empty, cwd: dir, env: {} }))).toEqual([
      'empty.yml : the file is empty; a pipeline needs `version: 1` and `jobs:`',
    ]);
  });

  it("reports a plugin's own option problems (checkOptions) at load, where the schema passed: email's login, a notifier's template", async () => {
    await write('fake-source.mjs', fakeSource);
    const file = await write(
      'pipeline.yml',
      fileSinkJob(`    notify:
      - use: email
        with: { host: smtp.example.com, password: "\${SMTP_PASSWORD}", from: backups@example.com, to: ops@example.com }
      - use: webhook
        with: { url: https://hooks.example/x, message: "{title} {sise}" }
`),
    );
    expect(await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: { SMTP_PASSWORD: 'hunter22' } }))).toEqual([
      'pipeline.yml:13:15 jobs.clara.notify[0].with: give username and password together (or neither, for a server that asks for no login)',
      'pipeline.yml:15:56 jobs.clara.notify[1].with.message: may only use the fields {job}, {title}, {event}, {result}, {summary}, {key}, {size}, {duration}, {error}, {hint}, {tables}, {reason}, {copy}, {at}',
    ]);
  });

  it('points at the YAML syntax error', async () => {
    const file = await write('broken.yml', 'version: 1\njobs:\n  clara: [unclosed\n');
    await expect(loadPipeline({ host: cliHost(), file, cwd: dir })).rejects.toThrow(/broken.yml:4:1: invalid YAML: Flow sequence/);
  });

  it('refuses a plugin written for another API version', async () => {
    await write('future.mjs', fakeSource.replace('apiVersion: 1', 'apiVersion: 99'));
    const file = await write('pipeline.yml', fileSinkJob().replace('./fake-source.mjs', './future.mjs'));
    expect(await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: {} }))).toEqual([
      expect.stringContaining('written for plugin API version 99; this backupctl serves version 1'),
    ]);
  });

  it('refuses a plugin whose options schema is not a JSON Schema, naming what is wrong', async () => {
    await write('typo.mjs', fakeSource.replace("type: 'integer'", "type: 'integr'"));
    const file = await write('pipeline.yml', fileSinkJob().replace('./fake-source.mjs', './typo.mjs'));
    expect(await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: {} }))).toEqual([
      expect.stringMatching(/^pipeline\.yml:4:20 jobs\.clara\.source\.use: plugin "\.\/typo\.mjs" has an invalid options schema: schema\/properties\/rows\/type must be equal to one of the allowed values$/),
    ]);
  });

  it('the pipeline schema and every built-in plugin\'s schema are valid JSON Schemas (not checked at start-up)', async () => {
    const { PipelineSchema } = await import('../../core/src/config/pipeline-schema.js');
    const { builtinPlugins } = await import('../src/builtins.js');
    const { schemaDefectOf } = await import('@backupctl/plugin-api');
    expect(schemaDefectOf(PipelineSchema)).toBeUndefined();
    expect(Object.keys(builtinPlugins).length).toBeGreaterThanOrEqual(4);
    for (const [name, load] of Object.entries(builtinPlugins)) {
      const definition = (await load!()) as { schema: unknown };
      expect([name, schemaDefectOf(definition.schema)]).toEqual([name, undefined]);
    }
    expect(schemaDefectOf({ type: 'object', properties: { a: { minimum: 'five' } } })).toMatch(/^schema\/properties\/a\/minimum must be number$/);
  });

  it('skips a job whose requiresEnv is unset, yet keeps its sink for listing', async () => {
    await write('fake-source.mjs', fakeSource);
    const file = await write(
      'pipeline.yml',
      fileSinkJob(`  mem0:
    requiresEnv: [MEM0_DATABASE_URL]
    source: { use: ./fake-source.mjs, with: { rows: "\${MEM0_DATABASE_URL}" } }
    sink: { use: file, with: { directory: ./out, prefix: backups/mem0/ } }
`),
    );
    const pipeline = await loadPipeline({ host: cliHost(), file, cwd: dir, env: {} });
    const mem0 = pipeline.jobs.find((job) => job.name === 'mem0');
    expect(mem0?.skipReason).toBe('MEM0_DATABASE_URL is not set');
    expect(mem0?.sink?.options).toMatchObject({ prefix: 'backups/mem0/' });
    // Its source is not loaded, but its plugin is kept for restore-help, with the options as written.
    expect(mem0?.source).toBeUndefined();
    expect(mem0?.uncheckedSource).toMatchObject({ use: './fake-source.mjs', kind: 'source', path: 'jobs.mem0.source', options: { rows: '${MEM0_DATABASE_URL}' } });
    expect(pipeline.jobs.find((job) => job.name !== 'mem0')?.uncheckedSource).toBeUndefined();
  });

  it('finds backupctl.yml from a subdirectory, and package.json#backupctl', async () => {
    await write('package.json', JSON.stringify({ name: 'x' }));
    await write('fake-source.mjs', fakeSource);
    await write('backupctl.yml', fileSinkJob());
    await mkdir(path.join(dir, 'sub'));
    expect((await loadPipeline({ host: cliHost(), cwd: path.join(dir, 'sub'), env: {} })).file).toBe(path.join('..', 'backupctl.yml'));

    await rm(path.join(dir, 'backupctl.yml'));
    await write('package.json', JSON.stringify({ name: 'x', backupctl: { version: 1, jobs: { a: { source: { use: 'gzip' }, sink: { use: 'file', with: { directory: 'x' } } } } } }));
    expect(await issuesOf(loadPipeline({ host: cliHost(), cwd: dir, env: {} }))).toEqual([
      'package.json#backupctl jobs.a.source.use: plugin "gzip" is a transform, not a source',
    ]);
  });

  it('names unknown jobs given with --job', async () => {
    await write('fake-source.mjs', fakeSource);
    const pipeline = await loadPipeline({ host: cliHost(), file: await write('p.yml', fileSinkJob()), cwd: dir, env: {} });
    expect(selectJobs(pipeline, ['clara']).map((job) => job.name)).toEqual(['clara']);
    expect(() => selectJobs(pipeline, ['nope'])).toThrow(/no job "nope" in .*p.yml/);
  });

  it('with jobs, loads only their plugins: another job\'s missing plugin does not stop a restore', async () => {
    await write('fake-source.mjs', fakeSource);
    const broken = `  mem0:
    source: { use: ./missing-source.mjs }
    sink: { use: file, with: { directory: ./out } }
`;
    const file = await write('p.yml', fileSinkJob(broken));
    const pipeline = await loadPipeline({ host: cliHost(), file, cwd: dir, env: {}, jobs: ['clara'] });
    expect(pipeline.jobs.map((job) => job.name)).toEqual(['clara']);
    expect(pipeline.jobs[0]?.transforms[0]?.options).toEqual({ level: 9 });
    // The whole file otherwise, as before; and an unknown name loads everything, so selectJobs can name the jobs there are.
    expect((await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: {} }))).join('\n')).toMatch(/jobs\.mem0\.source\.use: .*missing-source\.mjs/);
    expect((await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: {}, jobs: ['nope'] }))).join('\n')).toMatch(/jobs\.mem0\.source\.use/);
  });

  it('with jobs, still checks the whole file\'s shape', async () => {
    await write('fake-source.mjs', fakeSource);
    const file = await write('p.yml', fileSinkJob('  mem0:\n    sink: { use: file }\n'));
    expect(await issuesOf(loadPipeline({ host: cliHost(), file, cwd: dir, env: {}, jobs: ['clara'] }))).toEqual(['p.yml:12:5 jobs.mem0.source: is required']);
  });
});
