import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { BackupctlError, ErrorCodes, type Logger, type SinkInstance, type StoredObject } from '@backupctl/plugin-api';
import type { SFTPWrapper } from 'ssh2';
import { connectWithRetry, describeSshError, type SftpConnection } from './connection.js';
import { describeServer, type SftpOptions } from './options.js';
import {
  PERMISSION_DENIED,
  call,
  isDirectory,
  isFile,
  isMissing,
  makeDirectories,
  readStream,
  readText,
  readdir,
  replaceFile,
  stat,
  statusOf,
  unlinkIfPresent,
} from './remote-fs.js';
import { uploadFile } from './upload.js';

/** In-progress files: hidden, beside their final name, never listed. */
const PARTIAL_MARK = '.partial-';
/** Metadata documents live under the directory, beside the backups, as the file store keeps them. */
const METADATA_DIR = 'metadata';

export function isPartialName(name: string): boolean {
  return name.startsWith('.') && name.includes(PARTIAL_MARK);
}

/** A hidden name beside `path` for its upload: `dir/.<name>.partial-<random>`. */
export function partialPathOf(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}${PARTIAL_MARK}${randomBytes(6).toString('hex')}`);
}

/** What the store needs from its surroundings (a subset of the plugin context). */
export interface SftpStoreEnvironment {
  logger: Logger;
  addSecret(secret: string): void;
}

type Operation = 'write' | 'list' | 'get' | 'delete' | 'readMetadata' | 'writeMetadata' | 'deleteMetadata' | 'check';

/**
 * A sink and store on an SFTP server. One connection, opened at the first
 * request and opened again after it dropped. A write streams to a hidden
 * temporary file beside its final name and renames it when complete, so a
 * reader sees the whole backup or nothing.
 */
export function createSftpStore(options: SftpOptions, environment: SftpStoreEnvironment): SinkInstance {
  const server = describeServer(options);
  const root = options.directory.replace(/\/+$/, '') || '.';
  let connection: Promise<SftpConnection> | undefined;

  function session(signal?: AbortSignal): Promise<SFTPWrapper> {
    return open(signal).then(({ sftp }) => sftp);
  }

  function open(signal?: AbortSignal): Promise<SftpConnection> {
    if (connection === undefined) {
      const opening = connectWithRetry(options, environment, signal);
      connection = opening;
      opening.then(
        ({ client }) => client.once('close', () => {
          if (connection === opening) connection = undefined;
        }),
        () => {
          if (connection === opening) connection = undefined;
        },
      );
    }
    return connection;
  }

  const pathOf = (key: string): string => {
    if (key.startsWith('/') || key.split('/').some((segment) => segment === '..')) {
      throw new BackupctlError(ErrorCodes.STORE_FAILED, `key ${key} points outside ${server}`, { plugin: 'sftp' });
    }
    return posix.join(root, key);
  };

  const fail = (error: unknown, operation: Operation, path: string): BackupctlError => {
    if (error instanceof BackupctlError) return error;
    const code = operation === 'write' ? ErrorCodes.SINK_FAILED : ErrorCodes.STORE_FAILED;
    const denied = statusOf(error) === PERMISSION_DENIED;
    const what = denied ? 'permission denied' : describeSshError(error);
    return new BackupctlError(code, `sftp ${operation} of ${path} on ${server} failed: ${what}`, {
      plugin: 'sftp',
      hook: operation,
      ...(denied ? { hint: `Check that ${options.username} may write to ${root === '.' ? 'its login directory' : root} on the server.` } : {}),
      cause: error,
    });
  };

  async function removePartial(temp: string): Promise<void> {
    try {
      // The connection may be the one that dropped: session() opens a new one then.
      await unlinkIfPresent(await session(), temp);
    } catch (error) {
      environment.logger.warn(
        `sftp: could not remove the partial upload ${temp} on ${server} (${describeSshError(error)}); it is hidden from listings, remove it by hand`,
      );
    }
  }

  async function* walk(sftp: SFTPWrapper, relative: string, wanted: string): AsyncGenerator<StoredObject> {
    // Only descend into directories that can hold keys starting with `wanted`.
    if (relative && !(wanted.startsWith(relative) || relative.startsWith(wanted))) return;
    const directory = relative ? posix.join(root, relative) : root;
    const entries = await readdir(sftp, directory).catch((error: unknown) => {
      if (isMissing(error)) return [];
      throw error;
    });
    for (const entry of entries) {
      const key = `${relative}${entry.filename}`;
      if (isDirectory(entry.attrs)) {
        yield* walk(sftp, `${key}/`, wanted);
      } else if (isFile(entry.attrs) && !isPartialName(entry.filename) && key.startsWith(wanted)) {
        yield { key, size: entry.attrs.size, lastModified: new Date(entry.attrs.mtime * 1000) };
      }
    }
  }

  async function deletePaths(paths: readonly string[], operation: Operation, signal?: AbortSignal): Promise<void> {
    if (paths.length === 0) return;
    const sftp = await session(signal);
    for (const path of paths) {
      signal?.throwIfAborted();
      await unlinkIfPresent(sftp, path).catch((error: unknown) => {
        throw fail(error, operation, path);
      });
    }
  }

  return {
    location: server,
    prefix: options.prefix,

    async write(stream: Readable, name: string, signal: AbortSignal) {
      const key = `${options.prefix}${name}`;
      const target = pathOf(key);
      const temp = partialPathOf(target);
      let started = false;
      let lost: AbortSignal | undefined;
      // The stream may fail while the connection opens, before anything reads it.
      let streamError: unknown;
      const onStreamError = (error: unknown) => {
        streamError ??= error;
      };
      stream.on('error', onStreamError);
      try {
        signal.throwIfAborted();
        const opened = await open(signal);
        const { sftp } = opened;
        lost = opened.lost;
        await makeDirectories(sftp, posix.dirname(target));
        if (streamError !== undefined) throw streamError;
        started = true;
        // A dropped connection fails no request while the source is idle: it ends the upload itself.
        const size = await uploadFile(sftp, temp, stream, AbortSignal.any([signal, opened.lost]), opened.lost);
        await replaceFile(sftp, temp, target);
        started = false;
        return { key, size };
      } catch (error) {
        if (started) await removePartial(temp);
        throw fail(lost?.aborted && !signal.aborted ? lost.reason : error, 'write', target);
      } finally {
        stream.off('error', onStreamError);
        // Nobody reads the stream any more after a failure: let its producer see that (as the s3 sink does).
        if (!stream.destroyed && !stream.readableEnded) stream.destroy();
      }
    },

    async *list(listPrefix: string, signal?: AbortSignal) {
      const sftp = await session(signal);
      try {
        yield* walk(sftp, '', listPrefix);
      } catch (error) {
        throw fail(error, 'list', posix.join(root, listPrefix));
      }
    },

    async get(key: string, signal?: AbortSignal) {
      const path = pathOf(key);
      const sftp = await session(signal);
      const info = await stat(sftp, path).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw fail(error, 'get', path);
      });
      if (info === undefined || !isFile(info)) throw new BackupctlError(ErrorCodes.STORE_FAILED, `no backup ${key} on ${server}`, { plugin: 'sftp', hook: 'get' });
      return readStream(sftp, path);
    },

    delete: (keys, signal) => deletePaths(keys.map(pathOf), 'delete', signal),

    async readMetadata(name, signal) {
      const path = pathOf(`${METADATA_DIR}/${name}`);
      const sftp = await session(signal);
      const text = await readText(sftp, path).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw fail(error, 'readMetadata', path);
      });
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new BackupctlError(ErrorCodes.STORE_FAILED, `metadata ${path} on ${server} is not valid JSON`, {
          plugin: 'sftp',
          hook: 'readMetadata',
          hint: 'Delete the file; the next successful backup writes it again.',
          cause: error,
        });
      }
    },

    async writeMetadata(name, value, signal) {
      const path = pathOf(`${METADATA_DIR}/${name}`);
      const temp = partialPathOf(path);
      const sftp = await session(signal);
      try {
        await makeDirectories(sftp, posix.dirname(path));
        await call((done) => sftp.writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { flag: 'wx' }, done));
        await replaceFile(sftp, temp, path);
      } catch (error) {
        await removePartial(temp);
        throw fail(error, 'writeMetadata', path);
      }
    },

    deleteMetadata: (names, signal) => deletePaths(names.map((name) => pathOf(`${METADATA_DIR}/${name}`)), 'deleteMetadata', signal),

    async check() {
      const sftp = await session();
      await makeDirectories(sftp, root).catch((error: unknown) => {
        throw fail(error, 'check', root);
      });
    },

    async close() {
      const current = connection;
      connection = undefined;
      if (current === undefined) return;
      const { client } = await current.catch(() => ({ client: undefined }));
      client?.end();
    },
  };
}
