import type { Readable } from 'node:stream';
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
export async function uploadFile(sftp: SFTPWrapper, path: string, stream: Readable, signal: AbortSignal, lost?: AbortSignal): Promise<number> {
  signal.throwIfAborted();
  const handle = await openFile(sftp, path, 'wx');
  const pending: { done: Promise<void>; bytes: number }[] = [];
  let inFlight = 0;
  let position = 0;
  let closed = false;
  try {
    const chunks = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await nextOrAborted(chunks, signal);
      if (next.done === true) break;
      const chunk = next.value;
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
      // Close the handle once the writes in flight are answered; on a lost connection they never are.
      const released = Promise.allSettled(pending.map((write) => write.done)).then(() => closeFile(sftp, handle).catch(() => {}));
      await Promise.race([released, whenAborted(lost)]);
    }
  }
  const { size } = await stat(sftp, path);
  if (size !== position) throw new Error(`the server holds ${size} bytes of ${path}, ${position} were sent`);
  return size;
}

/**
 * The stream's next chunk, or a rejection as soon as `signal` aborts, even
 * while the stream sends nothing. The stream itself is left to its owner:
 * destroying it here would make the job fail with the source's "aborted"
 * instead of this write's reason. Each call listens for the abort only
 * while it waits: racing every chunk against one promise that never
 * settles would keep every chunk alive through that promise's reactions,
 * so memory would grow with the stream.
 */
function nextOrAborted(chunks: AsyncIterator<unknown>, signal: AbortSignal): Promise<IteratorResult<unknown>> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    chunks.next().then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Settles when `signal` aborts; never without one. */
function whenAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
