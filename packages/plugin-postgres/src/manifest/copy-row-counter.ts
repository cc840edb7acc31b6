import { Transform, type TransformCallback } from 'node:stream';
import { DumpScriptReader, type DataLoad, type PlainDumpContents } from './dump-script-reader.js';

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const PERIOD = 0x2e;

/**
 * A pass-through stream over pg_dump's plain output that counts, for every
 * `COPY ... FROM stdin;` block, its data lines until the `\.` line: in COPY
 * text format a row is one line (newlines and backslashes in values are
 * escaped, so no data line is ever exactly `\.`). The SQL between blocks
 * goes to a {@link DumpScriptReader}, which finds the blocks where psql
 * would, and reads the tables created and the INSERT statements' rows.
 *
 * Chunks pass on unchanged and uncopied. Inside a block only newlines are
 * looked for (Buffer.indexOf: memchr); nothing is decoded. A partial SQL
 * line is kept (copied) until its chunk's successor completes it.
 *
 * The count never fails the stream: if reading the SQL throws (a defect),
 * `failure` says so and the bytes keep flowing.
 */
export class CopyRowCounter extends Transform {
  private readonly reader = new DumpScriptReader();
  /** The COPY block being counted, or undefined while reading SQL. */
  private block: DataLoad | undefined;
  /** SQL mode: the start of a line that the next chunk continues. */
  private partialSql: Buffer[] = [];
  /** COPY mode: how many bytes of the current data line earlier chunks held (only 0, 1, 2 or more matter), and its first two. */
  private partialLength = 0;
  private partialFirst = 0;
  private partialSecond = 0;
  private failed: Error | undefined;

  /** What the dump held: tables created, and the rows of every COPY block and INSERT run. */
  get contents(): PlainDumpContents {
    return this.reader.contents;
  }

  /** Set when the dump could not be read (a defect here): its counts are then unknown. */
  get failure(): Error | undefined {
    return this.failed;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.failed === undefined) {
      try {
        this.scan(chunk);
      } catch (error) {
        this.failed = error as Error;
      }
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.failed === undefined) {
      try {
        this.finish();
      } catch (error) {
        this.failed = error as Error;
      }
    }
    callback();
  }

  private scan(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) at = this.block === undefined ? this.scanSql(chunk, at) : this.scanCopy(chunk, at, this.block);
  }

  private scanSql(chunk: Buffer, from: number): number {
    const newline = chunk.indexOf(NEWLINE, from);
    if (newline < 0) {
      this.partialSql.push(Buffer.from(chunk.subarray(from)));
      return chunk.length;
    }
    let line = chunk.subarray(from, newline);
    if (this.partialSql.length > 0) {
      line = Buffer.concat([...this.partialSql, line]);
      this.partialSql = [];
    }
    this.block = this.reader.readLine(line);
    return newline + 1;
  }

  /** Counts the data lines of `block` from `from`; returns where SQL resumes after its `\.` line, or the chunk's end. */
  private scanCopy(chunk: Buffer, from: number, block: DataLoad): number {
    let at = from;
    let rows = 0;
    if (this.partialLength > 0) {
      const newline = chunk.indexOf(NEWLINE, at);
      if (newline < 0) return this.carry(chunk, at);
      const length = this.partialLength + newline - at;
      const second = this.partialLength >= 2 ? this.partialSecond : chunk[at];
      this.partialLength = 0;
      at = newline + 1;
      if (length === 2 && this.partialFirst === BACKSLASH && second === PERIOD) return this.endBlock(at);
      rows++;
    }
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, at);
      if (newline < 0) {
        block.rows += rows;
        return this.carry(chunk, at);
      }
      if (newline - at === 2 && chunk[at] === BACKSLASH && chunk[at + 1] === PERIOD) {
        block.rows += rows;
        return this.endBlock(newline + 1);
      }
      rows++;
      at = newline + 1;
    }
  }

  /** Keeps what the chunk holds of a data line the next chunk ends. */
  private carry(chunk: Buffer, from: number): number {
    const length = chunk.length - from;
    if (length === 0) return chunk.length;
    if (this.partialLength === 0) this.partialFirst = chunk[from]!;
    if (this.partialLength === 0 && length >= 2) this.partialSecond = chunk[from + 1]!;
    else if (this.partialLength === 1) this.partialSecond = chunk[from]!;
    this.partialLength += length;
    return chunk.length;
  }

  private endBlock(resume: number): number {
    this.block = undefined;
    return resume;
  }

  private finish(): void {
    if (this.block !== undefined) {
      // The dump ended inside a block (pg_dump failed, and `done` says so): psql would take a last unterminated line as a row.
      if (this.partialLength > 0) this.block.rows++;
      this.block = undefined;
    } else if (this.partialSql.length > 0) {
      this.reader.readLine(Buffer.concat(this.partialSql));
    }
    this.partialSql = [];
    this.partialLength = 0;
  }
}
