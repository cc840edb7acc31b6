import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A package's directory and version. */
export interface PackageInfo {
  dir: string;
  version: string;
}

const found = new Map<string, PackageInfo>();

/**
 * The package named `name` that holds the module at `moduleUrl`, found by
 * walking up from it to its package.json (dist/ when built, src/ under
 * tests). For a package's own version and the files it ships.
 */
export function findPackage(name: string, moduleUrl: string): PackageInfo {
  const known = found.get(name);
  if (known) return known;
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name) {
        const info = { dir, version: manifest.version ?? '0.0.0' };
        found.set(name, info);
        return info;
      }
    } catch {
      // no package.json here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${name} package directory`);
    dir = parent;
  }
}

/** The core's version, recorded in backup metadata (`tool: backupctl <version>`). */
export function coreVersion(): string {
  return findPackage('@backupctl/core', import.meta.url).version;
}
