import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { dir: string; version: string } | undefined;

// Walks up from this module (dist/ when built, src/ under tests) to the core's package.json.
function find(): { dir: string; version: string } {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === '@backupctl/core') return (cached = { dir, version: manifest.version ?? '0.0.0' });
    } catch {
      // no package.json here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the @backupctl/core package directory');
    dir = parent;
  }
}

/** The core's version, recorded in backup metadata (`tool: backupctl <version>`). */
export function coreVersion(): string {
  return find().version;
}
