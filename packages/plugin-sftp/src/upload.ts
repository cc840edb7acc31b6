import { addAbortSignal, type Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { closeFile, fsyncIfOffered, openFile, stat, writeAt } from './remote-fs.js';

/**
 * Bytes written but not yet acknowledged by the server, at most. ssh2's own
 * write stream waits for each 32 KiB write before the next, one round trip
 * each; a few requests in flight keep a distant NAS busy while memory stays
 * bounded.
 */
export const MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

/**
 * Streams `stream` into a new file `path` (created exclusively: an existing
 * file is an error), flushes it (fsync@openssh.com where offered), closes
 * it, and checks the server's size against the bytes sent. Returns the size.
 * Rejects when the stream errors, the signal aborts (even while the stream
 * sends nothing) or a request fails; the file is then left for the caller to
 * remove.
 */
export async function uploadFile(sftp: SFTPWrapper, path: string, stream: Readable, signal: AbortSignal): Promise<number> {
  signal.throwIfAborted();
  addAbortSignal(signal, stream);
  const handle = await openFile(sftp, path, 'wx');
  const pending: { done: Promise<void>; bytes: number }[] = [];
  let inFlight = 0;
  let position = 0;
  let closed = false;
  try {
    for await (const chunk of stream) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (data.length === 0) continue;
      const done = writeAt(sftp, handle, data, position);
      done.catch(() => {}); // awaited below; a failure before then must not be unhandled
      pending.push({ done, bytes: data.length });
      inFlight += data.length;
      position += data.length;
      while (inFlight > MAX_IN_FLIGHT_BYTES) {
        const oldest = pending.shift();
        if (oldest === undefined) break;
        await oldest.done;
        inFlight -= oldest.bytes;
      }
    }
    for (const write of pending.splice(0)) await write.done;
    signal.throwIfAborted();
    await fsyncIfOffered(sftp, handle);
    closed = true;
    await closeFile(sftp, handle);
  } finally {
    if (!closed) {
      await Promise.allSettled(pending.map((write) => write.done));
      await closeFile(sftp, handle).catch(() => {});
    }
  }
  const { size } = await stat(sftp, path);
  if (size !== position) throw new Error(`the server holds ${size} bytes of ${path}, ${position} were sent`);
  return size;
}
