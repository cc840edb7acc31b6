// A source plugin for `npm run bench -- --stream-gb N`: N GB of generated,
// compressible rows, produced as fast as they are read. It is plain ESM
// loaded by relative path (`use: ./generated-source.mjs`), as a third
// party's plugin would be, so the bench also runs that loading path.
import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { Type, definePlugin } from '@backupctl/plugin-api';

const CHUNK = 64 * 1024;
/** Bigger than gzip's 32 KiB window many times over, so the ratio is the rows', not the repetition's. */
const POOL_BYTES = 8 * 1024 * 1024;
const WORDS = (
  'backup restore database table index query stream buffer memory worker thread chunk block member header trailer ' +
  'object bucket upload part region endpoint signature request response server client session token account invoice ' +
  'payment customer order product price discount shipping address city country street phone email message reply ' +
  'the a of to in for on with by at from as is was be has will can should may this that it they we you and or but'
).split(' ');

/** mulberry32: a small seeded PRNG, so every run generates the same bytes. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * COPY rows shaped like the bench database's: two thirds (by bytes) of
 * pgbench_accounts rows (numbers and a blank-padded filler, which gzip
 * takes to a few percent), one third of documents (sentences, ~30%).
 */
function rowPool() {
  const next = random(42);
  const pick = () => WORDS[Math.floor(next() * WORDS.length)];
  // Rows are written straight into the pool: building it must not itself
  // grow the heap the bench measures.
  const pool = Buffer.alloc(POOL_BYTES);
  let size = 0;
  let accounts = 0;
  let documents = 0;
  for (let id = 1; ; id++) {
    let line;
    if (accounts <= 2 * documents) {
      line = `${id}\t${1 + Math.floor(id / 100000)}\t${Math.floor(next() * 10000) - 5000}\t${' '.repeat(84)}\n`;
      accounts += line.length;
    } else {
      const sentence = () => Array.from({ length: 5 + Math.floor(next() * 11) }, pick).join(' ');
      const body = Array.from({ length: 4 + Math.floor(next() * 3) }, sentence).join('. ');
      line = `${id}\tuser${Math.floor(next() * 1e6)}@example.com\t${body}.\t{"score": ${Math.floor(next() * 10000) / 100}, "tag": "${pick()}"}\n`;
      documents += line.length;
    }
    if (size + Buffer.byteLength(line) > POOL_BYTES) return pool.subarray(0, size);
    size += pool.write(line, size);
  }
}

export default definePlugin({
  name: 'generated-source',
  kind: 'source',
  description: 'Generated COPY rows shaped like a pgbench + text database (about a tenth of their size under gzip -6), for benchmarks.',
  schema: Type.Object(
    { bytes: Type.Integer({ minimum: 0, default: 1e9, description: 'How many bytes to produce.' }) },
    { additionalProperties: false },
  ),
  create(options, context) {
    context.artifact.extension = '.txt';
    context.artifact.contentType = 'text/plain';
    context.artifact.expectedSize = options.bytes;
    return {
      async open(signal) {
        const pool = rowPool();
        let produced = 0;
        let offset = 0;
        const stream = new Readable({
          read() {
            if (produced >= options.bytes) {
              this.push(null);
              return;
            }
            const size = Math.min(CHUNK, options.bytes - produced, pool.length - offset);
            // Slices of the pool, not copies: producing costs nothing next to compressing.
            this.push(pool.subarray(offset, offset + size));
            produced += size;
            offset = (offset + size) % pool.length;
          },
        });
        const done = new Promise((resolve, reject) => {
          stream.once('end', resolve);
          stream.once('error', reject);
          signal.addEventListener('abort', () => stream.destroy(new Error('generated source aborted')), { once: true });
        });
        done.catch(() => {});
        return { stream, done };
      },
    };
  },
});
