// What counting rows costs a plain dump: CopyRowCounter against a plain
// pass-through over the same dump in 64 KiB chunks (what a pipe gives),
// and against what `gzip -6` takes for the same bytes. The dump is
// synthetic (`--mb`), or a real one read from `--file`, all in memory.
//
//   npx tsx packages/plugin-postgres/bench/copy-row-counter.ts [--mb 200] [--rounds 7] [--file dump.sql]

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { PassThrough, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { CopyRowCounter } from '../src/manifest/copy-row-counter.js';

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '200' }, rounds: { type: 'string', default: '7' }, file: { type: 'string' } },
});
const TARGET_BYTES = Number(values.mb) * 1e6;
const ROUNDS = Number(values.rounds);
const CHUNK = 64 * 1024;

/** Rows like the bench database's: pgbench_accounts (short, padded) and text with escapes (newlines, tabs, backslashes). */
function syntheticDump(bytes: number): { dump: Buffer; rows: number } {
  const accounts = Array.from({ length: 10_000 }, (_, i) => `${i + 1}\t${1 + (i % 50)}\t0\t${' '.repeat(84)}`).join('\n') + '\n';
  const notes = Array.from(
    { length: 2_000 },
    (_, i) => `${i + 1}\tnote ${i} with a tab\\there, a line\\nbreak and a back\\\\slash ${'lorem ipsum '.repeat(20)}\t{"k": ${i}, "tags": ["a", "b"]}`,
  ).join('\n') + '\n';
  const parts = [Buffer.from("SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\n")];
  let size = 0;
  let rows = 0;
  for (let table = 0; size < bytes; table++) {
    const [data, count] = table % 3 === 2 ? [notes, 2_000] : [accounts, 10_000];
    const head = `--\n-- Data for Name: t${table}; Type: TABLE DATA; Schema: public; Owner: app\n--\n\nCOPY public.t${table} (a, b, c, d) FROM stdin;\n`;
    parts.push(Buffer.from(head), Buffer.from(data), Buffer.from('\\.\n\n\n'));
    size += head.length + data.length + 5;
    rows += count;
  }
  return { dump: Buffer.concat(parts), rows };
}

async function timeThrough(stream: Transform, chunks: readonly Buffer[]): Promise<number> {
  const started = process.hrtime.bigint();
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const flowing = pipeline(stream, sink);
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  await flowing;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function timeGzip(dump: Buffer): Promise<number> {
  const started = process.hrtime.bigint();
  const gzip = spawn('gzip', ['-6'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) => gzip.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`gzip exit ${code}`)))));
  gzip.stdin.end(dump);
  await exited;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const { dump, rows } = values.file === undefined ? syntheticDump(TARGET_BYTES) : { dump: readFileSync(values.file), rows: undefined };
const chunks = Array.from({ length: Math.ceil(dump.length / CHUNK) }, (_, index) => dump.subarray(index * CHUNK, (index + 1) * CHUNK));
const mb = dump.length / 1e6;
const times = { passThrough: [] as number[], counter: [] as number[] };
let counted = 0;
for (let round = 0; round < ROUNDS; round++) {
  times.passThrough.push(await timeThrough(new PassThrough(), chunks));
  const counter = new CopyRowCounter();
  times.counter.push(await timeThrough(counter, chunks));
  counted = counter.contents.loads.reduce((sum, load) => sum + load.rows, 0);
}
if (rows !== undefined && counted !== rows) throw new Error(`counted ${counted} rows, the dump has ${rows}`);
const gzip = [await timeGzip(dump), await timeGzip(dump)];

const counterSeconds = median(times.counter);
const passSeconds = median(times.passThrough);
const extra = counterSeconds - passSeconds;
console.log(`${new Date().toISOString()}  ${cpus()[0]?.model.trim()}  Node ${process.version}`);
console.log(`dump: ${values.file ?? 'synthetic'}, ${mb.toFixed(0)} MB, ${counted.toLocaleString('en')} rows, ${chunks.length} chunks of 64 KiB; median of ${ROUNDS} rounds`);
console.log(`pass-through:     ${passSeconds.toFixed(3)} s  (${(mb / passSeconds).toFixed(0)} MB/s)`);
console.log(`CopyRowCounter:   ${counterSeconds.toFixed(3)} s  (${(mb / counterSeconds).toFixed(0)} MB/s), min ${Math.min(...times.counter).toFixed(3)} s`);
console.log(`gzip -6:          ${Math.min(...gzip).toFixed(3)} s  (${(mb / Math.min(...gzip)).toFixed(0)} MB/s, fastest of 2)`);
console.log(`counting costs ${((extra / Math.min(...gzip)) * 100).toFixed(2)}% of gzip -6's time for the same bytes`);
