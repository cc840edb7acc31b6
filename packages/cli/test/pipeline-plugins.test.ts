import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliHost } from '../src/host.js';
import { Type } from '@backupctl/plugin-api';
import { formatOptionsTable, formatPluginList, pluginsAreUsable } from '../src/render/format-plugin-list.js';
import { listPipelinePlugins } from '../../core/src/config/pipeline-plugins.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'backupctl-plugins-'));
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

const localSource = `export default {
  apiVersion: 1, name: 'local-source', kind: 'source', description: 'Rows from nowhere.',
  schema: { type: 'object', properties: {} },
  create: () => ({ open: async () => { throw new Error('not used') } }),
};`;

describe('listPipelinePlugins', () => {
  it('resolves each plugin once, in file order, with package and entry, without needing the environment', async () => {
    await write('my-plugins/package.json', JSON.stringify({ name: 'my-plugins', version: '2.3.4', type: 'module' }));
    const entry = await write('my-plugins/source.js', localSource);
    const file = await write(
      'pipeline.yml',
      `version: 1
jobs:
  a:
    source: { use: ./my-plugins/source.js, with: { url: "\${UNSET_VARIABLE}" } }
    transforms: [{ use: gzip }]
    sink: { use: file, with: { directory: ./out }, hooks: [{ use: retention, with: { days: 3 } }] }
  b:
    source: { use: ./my-plugins/source.js }
    sink: { use: file, with: { directory: ./out } }
`,
    );
    const listing = await listPipelinePlugins({ host: cliHost(), file, cwd: dir });
    expect(listing.plugins.map((entry) => [entry.use, entry.kind, entry.usedAt])).toEqual([
      ['./my-plugins/source.js', 'source', ['jobs.a.source', 'jobs.b.source']],
      ['gzip', 'transform', ['jobs.a.transforms.0']],
      ['file', 'sink', ['jobs.a.sink', 'jobs.b.sink']],
      ['retention', 'hook', ['jobs.a.sink.hooks.0']],
    ]);
    expect(listing.plugins[0]?.plugin).toEqual({
      name: 'local-source',
      kind: 'source',
      description: 'Rows from nowhere.',
      apiVersion: 1,
      from: entry,
      entry,
      package: { name: 'my-plugins', version: '2.3.4' },
    });
    expect(listing.plugins[1]?.plugin).toMatchObject({ from: 'builtin', package: { name: '@backupctl/plugin-gzip' } });
    expect(listing.plugins[1]?.plugin?.entry).toMatch(/plugin-gzip[/\\]dist[/\\]index\.js$/);
    // Hooks that ship inside backupctl (its core) have no entry file of their own.
    expect(listing.plugins[3]?.plugin).toMatchObject({ from: 'builtin', entry: undefined, package: { name: 'backupctl' } });
    expect(pluginsAreUsable(listing)).toBe(true);

    const text = formatPluginList(listing, dir).split('\n');
    expect(text[0]).toBe(`${file}: 4 plugins`);
    expect(text[2]).toMatch(/^\.\/my-plugins\/source\.js\s+source\s+my-plugins 2\.3\.4\s+my-plugins\/source\.js\s+Rows from nowhere\.$/);
    expect(text[5]).toMatch(/^retention\s+hook\s+backupctl \S+\s+built-in \(part of backupctl\)\s+/);
  });

  it('reports plugins that do not load or sit in the wrong place, with their hint, instead of throwing', async () => {
    const file = await write(
      'pipeline.yml',
      `version: 1
jobs:
  a:
    source: { use: gzip }
    transforms: [{ use: no-such-thing }]
    sink: { use: file }
`,
    );
    const listing = await listPipelinePlugins({ host: cliHost(), file, cwd: dir });
    expect(pluginsAreUsable(listing)).toBe(false);
    expect(listing.plugins[1]?.error).toMatchObject({ code: 'PLUGIN_NOT_FOUND', message: expect.stringContaining('unknown plugin "no-such-thing"') });
    const text = formatPluginList(listing, dir);
    expect(text).toMatch(/^gzip\s+source \(but is a transform\)\s+@backupctl\/plugin-gzip/m);
    expect(text).toMatch(/^no-such-thing\s+transform\s+-\s+NOT LOADED\s+PLUGIN_NOT_FOUND: unknown plugin "no-such-thing"/m);
    expect(text).toMatch(/^no-such-thing: install it \(npm install @backupctl\/plugin-no-such-thing\)/m);
  });
});

describe('formatOptionsTable', () => {
  it('lists each option with its type, default or "required", and description', () => {
    const schema = Type.Object({
      bucket: Type.String({ description: 'Where.' }),
      level: Type.Integer({ default: 6, description: 'How hard.' }),
      keys: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Who.' })),
      mode: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])),
    });
    expect(formatOptionsTable('demo', schema).split('\n')).toEqual([
      'demo options (with:)',
      'OPTION  TYPE               DEFAULT   DESCRIPTION',
      'bucket  string             required  Where.',
      'level   integer            6         How hard.',
      'keys    string | string[]  -         Who.',
      'mode    "a" | "b"          -',
    ]);
  });
});
