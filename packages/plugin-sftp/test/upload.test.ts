import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SFTPWrapper } from 'ssh2';
import { uploadFile } from '../src/upload.js';

/** An SFTP session that answers every request at once, keeping nothing: what an upload holds is the upload's own. */
function instantServer(): SFTPWrapper & { written: number } {
  const server = {
    written: 0,
    open: (_path: string, _flags: string, callback: (error: Error | undefined, handle: Buffer) => void) => setImmediate(callback, undefined, Buffer.from('h')),
    write: (_handle: Buffer, _data: Buffer, _offset: number, length: number, _position: number, callback: (error?: Error) => void) => {
      server.written += length;
      setImmediate(callback);
    },
    close: (_handle: Buffer, callback: (error?: Error) => void) => setImmediate(callback),
    ext_openssh_fsync: undefined,
    stat: (_path: string, callback: (error: Error | undefined, stats: { size: number }) => void) => setImmediate(callback, undefined, { size: server.written }),
  };
  return server as unknown as SFTPWrapper & { written: number };
}

describe('uploadFile', () => {
  it('holds none of the chunks it already wrote: 512 MiB through it grows memory by far less than the stream', async () => {
    const total = 512 * 2 ** 20;
    const chunk = 64 * 1024;
    // Each chunk a fresh Buffer, as a gzip stream's are: one retained reference per chunk would keep them all.
    const stream = Readable.from((function* () {
      for (let sent = 0; sent < total; sent += chunk) yield Buffer.alloc(chunk, sent & 0xff);
    })());
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      await expect(uploadFile(instantServer(), '/upload.tmp', stream, new AbortController().signal)).resolves.toBe(total);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(160 * 2 ** 20);
  });
});
