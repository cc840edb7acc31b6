import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliHost } from '../src/host.js';
import { ConfigError, loadPipeline } from '../../core/src/index.js';

// Several sinks for one job (issue 16): how `sinks:` loads into copies.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'backupctl-copies-'));
  await writeFile(path.join(dir, 'fake-source.mjs'), `export default {
  apiVersion: 1, name: 'fake-source', kind: 'source',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  create: () => ({ open: async () => { throw new Error('not used') } }),
};`);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(sinks: string) {
  const file = path.join(dir, 'pipeline.yml');
  await writeFile(file, `version: 1\njobs:\n  clara:\n    source: { use: ./fake-source.mjs }\n${sinks}`);
  return loadPipeline({ host: cliHost(), file, cwd: dir, env: {} });
}

async function problems(sinks: string): Promise<string[]> {
  const error = await load(sinks).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
}

describe('sinks: several copies of one job', () => {
  it('loads each sink with its hooks, named after its plugin (numbered when shared) unless named, required unless it says not', async () => {
    const { jobs } = await load(`    sinks:
      - use: file
        with: { directory: ./a }
        hooks: [{ use: retention, with: { days: 3 } }]
      - use: file
        with: { directory: ./b }
        required: false
      - use: file
        name: nas
        with: { directory: ./c }
`);
    const [job] = jobs;
    expect(job!.copies!.map((copy) => [copy.name, copy.sink.options.directory, copy.hooks.map((hook) => hook.use), copy.required])).toEqual([
      ['file', './a', ['retention'], true],
      ['file-2', './b', [], false],
      ['nas', './c', [], true],
    ]);
    // The primary copy stands as the job's sink for everything written for one.
    expect(job!.sink!.options.directory).toBe('./a');
    expect(job!.hooks.map((hook) => hook.use)).toEqual(['retention']);
  });

  it('a single sink: is one required copy', async () => {
    const { jobs } = await load('    sink: { use: file, with: { directory: ./a } }\n');
    expect(jobs[0]!.copies!.map((copy) => [copy.name, copy.required])).toEqual([['file', true]]);
  });

  it('refuses both sink: and sinks:, neither, an optional only sink, no required copy and two copies of one name', async () => {
    expect(await problems('    sink: { use: file, with: { directory: ./a } }\n    sinks: [{ use: file, with: { directory: ./b } }]\n')).toEqual([
      'jobs.clara.sinks: give either `sink:` (one copy) or `sinks:` (several), not both',
    ]);
    expect(await problems('')).toEqual(['jobs.clara: a job needs a `sink:` (where its backups go), or `sinks:` for several copies']);
    expect(await problems('    sink: { use: file, required: false, with: { directory: ./a } }\n')).toEqual([
      'jobs.clara.sink.required: the only sink of a job is always required',
    ]);
    expect(await problems('    sinks:\n      - { use: file, required: false, with: { directory: ./a } }\n      - { use: file, required: false, with: { directory: ./b } }\n')).toEqual([
      'jobs.clara.sinks: every sink is required: false; at least one copy must be required',
    ]);
    expect(await problems('    sinks:\n      - { use: file, name: nas, with: { directory: ./a } }\n      - { use: file, name: nas, with: { directory: ./b } }\n')).toEqual([
      'jobs.clara.sinks[1].name: two sinks are called "nas" (sinks[0] and sinks[1])',
    ]);
  });
});
