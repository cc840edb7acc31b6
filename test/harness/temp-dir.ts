import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A fresh directory under the OS temp directory, removed when the calling
 * test finishes, whether it passed or failed. Only inside a test (vitest's
 * onTestFinished throws anywhere else); a hook uses makeTempDir and
 * removeTempDir.
 */
export async function testTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(() => removeTempDir(dir));
  return dir;
}

/** A fresh directory under the OS temp directory, for a beforeAll whose afterAll passes it to removeTempDir. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Removes a directory from makeTempDir; undefined (its beforeAll failed first) is nothing to remove. */
export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
