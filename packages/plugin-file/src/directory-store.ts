import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupctlError, ErrorCodes, type SinkInstance, type StoredObject } from '@backupctl/plugin-api';

export interface DirectoryStoreOptions {
  /** Absolute directory holding the keys. */
  root: string;
  /** Key prefix this sink writes under, e.g. backups/clara/. */
  prefix: string;
}

// In-progress files are hidden and named so list() never shows them.
const PARTIAL_MARK = '.partial-';
const METADATA_DIR = 'metadata';

/**
 * A sink and store on a directory. A write goes to a hidden temporary file
 * beside its final name, is fsynced, then renamed: a reader sees the whole
 * backup or nothing, even after a crash.
 */
export function createDirectoryStore(options: DirectoryStoreOptions): SinkInstance {
  const { root, prefix } = options;
  const fileOf = (key: string) => {
    const file = path.resolve(root, key);
    if (!file.startsWith(root + path.sep)) {
      throw new BackupctlError(ErrorCodes.STORE_FAILED, `key ${key} points outside ${root}`);
    }
    return file;
  };

  return {
    location: root,
    prefix,

    async write(stream, name, signal) {
      const key = `${prefix}${name}`;
      const target = fileOf(key);
      const temp = path.join(path.dirname(target), `.${path.basename(target)}${PARTIAL_MARK}${randomBytes(6).toString('hex')}`);
      try {
        await mkdir(path.dirname(target), { recursive: true });
        await pipeline(stream, createWriteStream(temp, { flags: 'wx' }), { signal });
        await syncFile(temp);
        await rename(temp, target);
        await syncFile(path.dirname(target));
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return { key, size: (await stat(target)).size };
    },

    async *list(listPrefix) {
      yield* walk(root, '', listPrefix);
    },

    async get(key) {
      const file = fileOf(key);
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) throw new BackupctlError(ErrorCodes.STORE_FAILED, `no backup ${key} in ${root}`);
      return createReadStream(file) as Readable;
    },

    async delete(keys) {
      for (const key of keys) await rm(fileOf(key), { force: true });
    },

    async readMetadata(name) {
      const text = await readFile(fileOf(`${METADATA_DIR}/${name}`), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      return text === undefined ? undefined : (JSON.parse(text) as unknown);
    },

    async writeMetadata(name, value) {
      const file = fileOf(`${METADATA_DIR}/${name}`);
      await mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}${PARTIAL_MARK}${randomBytes(6).toString('hex')}`;
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    },

    async deleteMetadata(names) {
      for (const name of names) await rm(fileOf(`${METADATA_DIR}/${name}`), { force: true });
    },

    async check() {
      await mkdir(root, { recursive: true });
    },
  };
}

async function* walk(root: string, relative: string, wanted: string): AsyncGenerator<StoredObject> {
  // Only descend into directories that can hold keys starting with `wanted`.
  if (relative && !(wanted.startsWith(relative) || relative.startsWith(wanted))) return;
  const entries = await readdir(path.join(root, relative), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  for (const entry of entries) {
    const key = `${relative}${entry.name}`;
    if (entry.isDirectory()) {
      yield* walk(root, `${key}/`, wanted);
    } else if (entry.isFile() && !entry.name.includes(PARTIAL_MARK) && key.startsWith(wanted)) {
      const info = await stat(path.join(root, key));
      yield { key, size: info.size, lastModified: info.mtime };
    }
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
