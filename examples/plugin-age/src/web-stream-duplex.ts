import { Duplex } from 'node:stream';

type ByteStream = ReadableStream<Uint8Array>;

/**
 * A Node Duplex around a function that turns one web ReadableStream into
 * another once it has read a little of it: age-encryption's `encrypt` and
 * `decrypt` work that way (decrypt reads the header before it answers).
 *
 * Backpressure holds end to end: what is written waits in a TransformStream
 * (one chunk) until age reads it, and age is only asked for output when the
 * Duplex's reader wants more. So memory stays at a few 64 KiB chunks
 * whatever the size of the stream.
 */
export function webStreamDuplex(start: (input: ByteStream) => Promise<ByteStream>): Duplex {
  const { readable: input, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const output = start(input);
  // A rejection is reported through the readable side below; this keeps it from also being "unhandled".
  output.catch(() => undefined);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= (await output).getReader();
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        await output.then((stream) => (reader ?? stream).cancel(reason), () => undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return Duplex.fromWeb({ readable, writable });
}
