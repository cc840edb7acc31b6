import { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes } from '../errors.js';
import type { SinkInstance } from '../plugin.js';
import type { StoredObject } from '../store.js';

export interface MemoryStore extends SinkInstance {
  /** The committed objects, by key. */
  readonly objects: Map<string, { body: Buffer; lastModified: Date }>;
  readonly metadata: Map<string, unknown>;
}

/**
 * A sink and store in memory, for plugin and hook tests. It keeps the same
 * promise as a real store: an object appears only when its stream ended
 * cleanly; an errored stream or an aborted signal leaves nothing.
 */
export function createMemoryStore(options: { location?: string; prefix?: string; now?: () => Date } = {}): MemoryStore {
  const objects = new Map<string, { body: Buffer; lastModified: Date }>();
  const metadata = new Map<string, unknown>();
  const now = options.now ?? (() => new Date());
  const prefix = options.prefix ?? '';
  return {
    location: options.location ?? 'memory',
    prefix,
    objects,
    metadata,
    async write(stream, name, signal) {
      const chunks: Buffer[] = [];
      // The abort ends the read at once, also while the stream sends nothing
      // (a source stalled on a lock): the stream is destroyed, as the real
      // stores do, and the write rejects with the signal's reason.
      const stop = (): void => void stream.destroy();
      signal.addEventListener('abort', stop, { once: true });
      try {
        signal.throwIfAborted();
        for await (const chunk of stream) {
          signal.throwIfAborted();
          chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
        }
        signal.throwIfAborted();
      } catch (error) {
        if (!stream.destroyed) stream.destroy();
        signal.throwIfAborted();
        throw error;
      } finally {
        signal.removeEventListener('abort', stop);
      }
      const key = `${prefix}${name}`;
      const body = Buffer.concat(chunks);
      objects.set(key, { body, lastModified: now() });
      return { key, size: body.length };
    },
    async *list(listPrefix): AsyncGenerator<StoredObject> {
      for (const [key, object] of objects) {
        if (key.startsWith(listPrefix)) yield { key, size: object.body.length, lastModified: object.lastModified };
      }
    },
    async get(key) {
      const object = objects.get(key);
      if (!object) throw new BackupctlError(ErrorCodes.STORE_FAILED, `no object ${key} in memory store`);
      return Readable.from([object.body]);
    },
    async delete(keys) {
      for (const key of keys) objects.delete(key);
    },
    async readMetadata(name) {
      return structuredClone(metadata.get(name));
    },
    async writeMetadata(name, value) {
      metadata.set(name, structuredClone(value));
    },
    async deleteMetadata(names) {
      for (const name of names) metadata.delete(name);
    },
  };
}
