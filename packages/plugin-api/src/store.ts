import type { Readable } from 'node:stream';

/** One object in a store. Keys are full keys (the prefix included). */
export interface StoredObject {
  key: string;
  /** Size in bytes. */
  size: number;
  /** When the store last wrote the object. */
  lastModified: Date;
}

/**
 * A place backups live: an S3 bucket, a directory, memory in tests.
 * Every sink is a store; hooks such as respawn and retention are written
 * against this interface only, so they work on any of them.
 */
export interface Store {
  /** Human name of the place, e.g. the bucket name; `ls` prints it. */
  readonly location: string;
  /** Key prefix under which this sink writes (e.g. `backups/clara/`); may be empty. */
  readonly prefix: string;
  /** Every committed object whose key starts with `prefix`, in any order. Never in-progress writes. */
  list(prefix: string, signal?: AbortSignal): AsyncIterable<StoredObject>;
  /** The object's bytes as a stream. Rejects with STORE_FAILED when it does not exist. */
  get(key: string, signal?: AbortSignal): Promise<Readable>;
  /** Deletes the keys (missing keys are not an error). Stores batch this. */
  delete(keys: readonly string[], signal?: AbortSignal): Promise<void>;
  /** Reads a small JSON document kept beside the backups (e.g. `metadata/last_backup.json`); undefined when absent. */
  readMetadata(name: string, signal?: AbortSignal): Promise<unknown>;
  /** Writes a small JSON document beside the backups, replacing it whole. */
  writeMetadata(name: string, value: unknown, signal?: AbortSignal): Promise<void>;
  /** Removes metadata documents (missing ones are not an error). */
  deleteMetadata(names: readonly string[], signal?: AbortSignal): Promise<void>;
}
