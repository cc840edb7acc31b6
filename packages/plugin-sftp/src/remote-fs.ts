import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';

// The SFTP requests the store uses, as promises. SFTP status codes arrive
// as `error.code` (numbers): 2 no such file, 3 permission denied, 4 failure.

export const NO_SUCH_FILE = 2;
export const PERMISSION_DENIED = 3;

export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isMissing(error: unknown): boolean {
  return statusOf(error) === NO_SUCH_FILE;
}

/** Calls `request` with a node-style callback. A synchronous throw (an unsupported extension) rejects too. */
export function call<T = void>(request: (callback: (error: Error | undefined | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    request((error, value) => (error ? reject(error) : resolve(value)));
  });
}

export const stat = (sftp: SFTPWrapper, path: string) => call<Stats>((done) => sftp.stat(path, done));
export const unlink = (sftp: SFTPWrapper, path: string) => call((done) => sftp.unlink(path, done));
export const readdir = (sftp: SFTPWrapper, path: string) => call<FileEntryWithStats[]>((done) => sftp.readdir(path, done));
export const openFile = (sftp: SFTPWrapper, path: string, flags: 'wx' | 'r') => call<Buffer>((done) => sftp.open(path, flags, done));
export const closeFile = (sftp: SFTPWrapper, handle: Buffer) => call((done) => sftp.close(handle, done));
export const writeAt = (sftp: SFTPWrapper, handle: Buffer, data: Buffer, position: number) =>
  call((done) => sftp.write(handle, data, 0, data.length, position, done));

const S_IFMT = 0o170000;
export const isDirectory = (attrs: { mode: number }) => (attrs.mode & S_IFMT) === 0o040000;
export const isFile = (attrs: { mode: number }) => (attrs.mode & S_IFMT) === 0o100000;

/** Removes `path`; a missing file is not an error. */
export async function unlinkIfPresent(sftp: SFTPWrapper, path: string): Promise<void> {
  await unlink(sftp, path).catch((error: unknown) => {
    if (!isMissing(error)) throw error;
  });
}

/** `mkdir -p`: stats the directory first, so a write into an existing one costs one request. */
export async function makeDirectories(sftp: SFTPWrapper, directory: string): Promise<void> {
  if (directory === '' || directory === '.' || directory === '/') return;
  const found = await stat(sftp, directory).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (found !== undefined) return;
  await makeDirectories(sftp, posix.dirname(directory));
  await call((done) => sftp.mkdir(directory, done)).catch(async (error: unknown) => {
    // Made meanwhile by another writer: fine. Anything else (permission denied): the mkdir's own error.
    const now = await stat(sftp, directory).catch(() => undefined);
    if (now === undefined || !isDirectory(now)) throw error;
  });
}

/** Whether the server offers an OpenSSH extension (`posix-rename@openssh.com`, `fsync@openssh.com`). */
function offers(sftp: SFTPWrapper, extension: string): boolean {
  // ssh2 keeps the extensions the server announced here; it has no public accessor.
  const extensions = (sftp as unknown as { _extensions?: Record<string, string> })._extensions;
  return extensions?.[extension] !== undefined;
}

/** Flushes the file to the server's disk when it offers fsync@openssh.com; a no-op elsewhere. */
export async function fsyncIfOffered(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  if (offers(sftp, 'fsync@openssh.com')) await call((done) => sftp.ext_openssh_fsync(handle, done));
}

/**
 * Renames `from` onto `to`, replacing `to`. With posix-rename@openssh.com
 * (OpenSSH and most NAS) that is one atomic rename(2). Without it, SFTP's
 * plain RENAME refuses an existing target, so an existing `to` is removed
 * first: readers may then briefly see no file, but never a partial one.
 */
export async function replaceFile(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  if (offers(sftp, 'posix-rename@openssh.com')) {
    await call((done) => sftp.ext_openssh_rename(from, to, done));
    return;
  }
  try {
    await call((done) => sftp.rename(from, to, done));
  } catch (error) {
    const existing = await stat(sftp, to).catch(() => undefined);
    if (existing === undefined) throw error;
    await unlink(sftp, to);
    await call((done) => sftp.rename(from, to, done));
  }
}

/** Bytes per read request: ssh2 reads one request at a time, so larger ones (OpenSSH takes up to 256 KiB) restore faster than its 64 KiB default. */
const READ_SIZE = 256 * 1024;

/** A read stream over the file. */
export function readStream(sftp: SFTPWrapper, path: string): Readable {
  return sftp.createReadStream(path, { highWaterMark: READ_SIZE });
}

/** The whole (small) file as text. */
export async function readText(sftp: SFTPWrapper, path: string): Promise<string> {
  const data = await call<Buffer | string>((done) => sftp.readFile(path, done));
  return Buffer.isBuffer(data) ? data.toString('utf8') : data;
}
