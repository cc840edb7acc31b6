import { Readable } from 'node:stream';
import type { SourceInstance } from '../plugin.js';

/**
 * A source that yields the given chunks (or a generator's), for tests of
 * transforms, sinks and hooks. `fail` makes `done` reject after the stream
 * ended, as a pg_dump that exits non-zero does.
 */
export function sourceFrom(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, options: { fail?: Error } = {}): SourceInstance {
  return {
    async open() {
      const stream = Readable.from(chunks, { objectMode: false });
      const done = new Promise<void>((resolve, reject) => {
        stream.once('end', () => (options.fail ? reject(options.fail) : resolve()));
        stream.once('error', reject);
      });
      done.catch(() => undefined);
      return { stream, done };
    },
  };
}
