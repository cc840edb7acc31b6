import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The official plugins and the example third-party ones are written against
// @backupctl/plugin-api only: what a plugin author outside this repository gets.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PLUGIN_DIRS = [
  ...readdirSync(path.join(REPO, 'packages'))
    .filter((name) => name.startsWith('plugin-') && name !== 'plugin-api')
    .map((name) => path.join(REPO, 'packages', name)),
  ...readdirSync(path.join(REPO, 'examples')).filter((name) => name.startsWith('plugin-')).map((name) => path.join(REPO, 'examples', name)),
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : file.endsWith('.ts') ? [file] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((match) => (match[1] ?? match[2])!);
}

describe('plugin packages', () => {
  it('finds the official and example plugins', () => {
    expect(PLUGIN_DIRS.map((dir) => path.relative(REPO, dir)).sort()).toEqual(
      expect.arrayContaining(['examples/plugin-age', 'examples/plugin-zstd', 'packages/plugin-gzip', 'packages/plugin-s3']),
    );
  });

  for (const dir of PLUGIN_DIRS) {
    const name = path.relative(REPO, dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);

    it(`${name}: src imports only node:, its own files, @backupctl/plugin-api and its declared dependencies`, () => {
      const offending = filesUnder(path.join(dir, 'src')).flatMap((file) =>
        importsOf(file)
          .filter((specifier) => !specifier.startsWith('node:') && !isInside(dir, file, specifier))
          // The plugin API by its main entry only: no deep imports into its dist or src.
          .filter((specifier) => specifier !== '@backupctl/plugin-api')
          .filter((specifier) => packageName(specifier) === '@backupctl/plugin-api' || !declared.has(packageName(specifier)))
          .map((specifier) => `${path.relative(dir, file)}: ${specifier}`),
      );
      expect(offending).toEqual([]);
    });

    it(`${name}: tests use the kit from @backupctl/plugin-api/testing, not backupctl's own packages`, () => {
      const testDir = path.join(dir, 'test');
      const files = statSync(testDir, { throwIfNoEntry: false }) ? filesUnder(testDir) : [];
      const offending = files.flatMap((file) =>
        importsOf(file)
          .filter((specifier) => specifier.startsWith('@backupctl/') && packageName(specifier) !== '@backupctl/plugin-api')
          .map((specifier) => `${path.relative(dir, file)}: ${specifier}`),
      );
      expect(offending).toEqual([]);
    });

    it(`${name}: depends on @backupctl/plugin-api (a peer dependency) and on no other backupctl package`, () => {
      expect(manifest.peerDependencies?.['@backupctl/plugin-api']).toBeDefined();
      const backupctl = [manifest.dependencies, manifest.peerDependencies, manifest.devDependencies]
        .flatMap((field) => Object.keys(field ?? {}))
        .filter((dependency) => dependency.startsWith('@backupctl/') || dependency === 'backupctl');
      expect(new Set(backupctl)).toEqual(new Set(['@backupctl/plugin-api']));
    });
  }
});

/** A relative import that stays inside the plugin's own directory. */
function isInside(dir: string, file: string, specifier: string): boolean {
  if (!specifier.startsWith('.')) return false;
  const target = path.resolve(path.dirname(file), specifier);
  return !path.relative(dir, target).startsWith('..');
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
