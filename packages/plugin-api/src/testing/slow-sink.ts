import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SinkInstance } from '../plugin.js';

export interface SlowSinkOptions {
  /** How fast `write` takes bytes off its stream, like a slow upload link. */
  bytesPerSecond?: number;
  /** Added before every store call (write, list, get, delete, metadata), like a far-away bucket. */
  latencyMs?: number;
}

/** A sink that also says how far it got, for backpressure assertions. */
export interface SlowSink extends SinkInstance {
  /** Bytes `write` has taken off its stream so far (all writes). */
  readonly consumed: number;
}

/**
 * Wraps a sink (e.g. createMemoryStore()) so it consumes its stream slowly.
 * It reads one chunk at a time and waits before asking for the next, so a
 * pipeline that honours backpressure keeps the source no more than a few
 * chunks ahead of `consumed`; one that ignores it buffers the difference in
 * memory. Test that a transform keeps memory flat:
 *
 *   let produced = 0;
 *   const sink = slowSink(createMemoryStore(), { bytesPerSecond: 20e6 });
 *   const source = sourceFrom((function* () { for (;;) { ...; produced += chunk.length; yield chunk; } })());
 *   // ...then, while it runs: expect(produced - sink.consumed).toBeLessThan(4 * 1024 * 1024)
 */
export function slowSink(inner: SinkInstance, options: SlowSinkOptions = {}): SlowSink {
  const latency = () => (options.latencyMs ? sleep(options.latencyMs) : Promise.resolve());
  let consumed = 0;
  const throttled = (stream: Readable, signal: AbortSignal): Readable =>
    Readable.from(
      (async function* () {
        for await (const chunk of stream) {
          const bytes = (chunk as Buffer).length;
          if (options.bytesPerSecond) await sleep((bytes / options.bytesPerSecond) * 1000, undefined, { signal });
          consumed += bytes;
          yield chunk as Buffer;
        }
      })(),
      { objectMode: false, highWaterMark: 1 },
    );
  return {
    get location() {
      return inner.location;
    },
    get prefix() {
      return inner.prefix;
    },
    get consumed() {
      return consumed;
    },
    async write(stream, name, signal) {
      await latency();
      return inner.write(throttled(stream, signal), name, signal);
    },
    async *list(prefix, signal) {
      await latency();
      yield* inner.list(prefix, signal);
    },
    async get(key, signal) {
      await latency();
      return inner.get(key, signal);
    },
    async delete(keys, signal) {
      await latency();
      return inner.delete(keys, signal);
    },
    async readMetadata(name, signal) {
      await latency();
      return inner.readMetadata(name, signal);
    },
    async writeMetadata(name, value, signal) {
      await latency();
      return inner.writeMetadata(name, value, signal);
    },
    async deleteMetadata(names, signal) {
      await latency();
      return inner.deleteMetadata(names, signal);
    },
    check: inner.check && (() => inner.check!()),
    close: inner.close && ((error) => inner.close!(error)),
  };
}
