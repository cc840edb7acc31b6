import { Transform, type TransformCallback } from 'node:stream';
import type { RowCounts } from '@backupctl/plugin-api';

/** A line head longer than this is decided on what it holds (MySQL writes a table's rows on one long line). */
const HEAD_LIMIT = 2048;

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKTICK = 0x60;
const OPEN = 0x28;
const CLOSE = 0x29;
const SEMICOLON = 0x3b;

/** Inside a string, a backslash further than this is looked for with indexOf; nearer ones byte by byte (escaped JSON). */
const NEAR = 32;

/** The bytes the statement scanner acts on outside strings; every other byte is skipped. */
const SPECIAL = new Uint8Array(256);
for (const byte of [QUOTE, DOUBLE_QUOTE, BACKTICK, OPEN, CLOSE, SEMICOLON, 0x56, 0x76]) SPECIAL[byte] = 1;

const INSERT_HEAD = /^(?:INSERT(?: IGNORE)? INTO|REPLACE INTO) `((?:[^`]|``)*)`(?!`)/;
const CREATE_HEAD = /^CREATE TABLE `((?:[^`]|``)*)`(?!`)/;
const DELIMITER_HEAD = /^DELIMITER (\S+)/;

type Mode = 'head' | 'skip' | 'statement' | 'rows';

/**
 * Counts the rows of every table in a mariadb-dump / mysqldump SQL stream
 * as it flows past: a table is known by its `CREATE TABLE` line (0 rows
 * until INSERTs say otherwise), and each `(...)` tuple of an `INSERT INTO
 * \`t\` VALUES` statement is one row, whether the tool writes them on one
 * line (MySQL) or one per line (MariaDB 10.11), with or without a column
 * list. Quoted strings are skipped with their backslash escapes, so text
 * holding `),(` or `;` counts nothing; rows one per line are counted by
 * their lines. Between `DELIMITER ;;` and
 * `DELIMITER ;` (triggers, routines, events) nothing counts: an INSERT in a
 * routine's body is code, not a row. Keys are table names as the catalog
 * has them (backquotes undone), as countRows keys them after a restore.
 */
export class DumpRowCounter {
  readonly counts: RowCounts = {};
  private mode: Mode = 'head';
  private head: Buffer[] = [];
  private headLength = 0;
  private inRoutines = false;
  // Inside an INSERT statement:
  private table = '';
  private depth = 0;
  private quote = 0;
  private escaped = false;
  private inBacktick = false;
  private seenValues = false;
  // Row-per-line INSERTs (mode 'rows'):
  private atLineStart = false;
  private lastByte = 0;

  /** Reads the next piece of the dump. */
  push(chunk: Buffer): void {
    let index = 0;
    while (index < chunk.length) {
      if (this.mode === 'skip') {
        const end = chunk.indexOf(NEWLINE, index);
        if (end < 0) return;
        index = end + 1;
        this.mode = 'head';
      } else if (this.mode === 'head') {
        const end = chunk.indexOf(NEWLINE, index);
        const stop = end < 0 ? chunk.length : end;
        const take = Math.min(stop, index + HEAD_LIMIT - this.headLength);
        this.head.push(chunk.subarray(index, take));
        this.headLength += take - index;
        index = take;
        if (take === end) {
          index += 1;
          this.decide(true);
        } else if (this.headLength >= HEAD_LIMIT) {
          const rest = this.decide(false);
          if (rest) this.scanStatement(rest, 0);
        }
      } else if (this.mode === 'rows') {
        index = this.countRowLines(chunk, index);
      } else {
        index = this.scanStatement(chunk, index);
      }
    }
  }

  /**
   * mariadb-dump's `INSERT INTO \`t\` VALUES` with one row per line: the
   * tools escape newlines inside strings (`\n`), so a raw newline ends a row
   * and each line starting with `(` is one; the line ending with `;` ends
   * the statement. Crossed newline to newline with indexOf: nearly free.
   */
  private countRowLines(chunk: Buffer, index: number): number {
    const startsHere = this.atLineStart;
    if (this.atLineStart) {
      if (chunk[index] === OPEN) this.counts[this.table]! += 1;
      this.atLineStart = false;
    }
    const end = chunk.indexOf(NEWLINE, index);
    if (end < 0) {
      this.lastByte = chunk[chunk.length - 1]!;
      return chunk.length;
    }
    const last = end > index ? chunk[end - 1]! : startsHere ? 0 : this.lastByte;
    this.atLineStart = true;
    if (last === SEMICOLON) this.mode = 'head';
    return end + 1;
  }

  /**
   * Reads a finished (or long) line head: an INSERT's table, a CREATE
   * TABLE, a DELIMITER. Returns what follows an INSERT's table name in a
   * long head, which the statement scanner reads next.
   */
  private decide(wholeLine: boolean): Buffer | undefined {
    const head = Buffer.concat(this.head, this.headLength);
    this.head = [];
    this.headLength = 0;
    this.mode = wholeLine ? 'head' : 'skip';
    const text = head.toString('utf8');
    const delimiter = DELIMITER_HEAD.exec(text);
    if (delimiter) {
      this.inRoutines = delimiter[1] !== ';';
      return undefined;
    }
    if (this.inRoutines) return undefined;
    const created = CREATE_HEAD.exec(text);
    if (created) {
      this.counts[created[1]!.replaceAll('``', '`')] ??= 0;
      return undefined;
    }
    const insert = INSERT_HEAD.exec(text);
    if (!insert) return undefined;
    this.table = insert[1]!.replaceAll('``', '`');
    this.counts[this.table] ??= 0;
    this.mode = 'statement';
    this.depth = 0;
    this.quote = 0;
    this.escaped = false;
    this.inBacktick = false;
    this.seenValues = false;
    const rest = head.subarray(Buffer.byteLength(insert[0]));
    if (wholeLine && /^\s*VALUES\s*$/.test(rest.toString('latin1'))) {
      // MariaDB's dump: the rows follow, one per line.
      this.mode = 'rows';
      this.atLineStart = true;
      return undefined;
    }
    if (wholeLine) {
      // The whole line is here: a statement that ends on it leaves the next line to read (its newline is gone).
      this.scanStatement(rest, 0);
      if ((this.mode as Mode) === 'skip') this.mode = 'head';
      return undefined;
    }
    return rest;
  }

  /**
   * Skips string bytes from `index` (inside a quote), to just past the
   * closing quote or to the chunk's end; returns where it stopped. Long
   * runs without a backslash are crossed with indexOf, escape-dense text
   * byte by byte.
   */
  private skipString(chunk: Buffer, index: number): number {
    const length = chunk.length;
    const quote = this.quote;
    let i = index;
    if (this.escaped) {
      this.escaped = false;
      i += 1;
    }
    while (i < length) {
      const escape = chunk.indexOf(BACKSLASH, i);
      if (escape < 0 || escape - i > NEAR) {
        const close = chunk.indexOf(quote, i);
        if (close >= 0 && (escape < 0 || close < escape)) {
          this.quote = 0;
          return close + 1;
        }
        if (escape < 0) return length;
        i = escape;
      }
      // Byte by byte until the string ends or escapes thin out.
      const stop = Math.min(length, i + 4 * NEAR);
      while (i < stop) {
        const byte = chunk[i]!;
        if (byte === BACKSLASH) {
          i += 2;
        } else if (byte === quote) {
          this.quote = 0;
          return i + 1;
        } else {
          i += 1;
        }
      }
      if (i > length) {
        // The escaped byte is the next chunk's first.
        this.escaped = true;
        return length;
      }
    }
    return i;
  }

  /** Scans an INSERT statement from `index` to its closing `;`; returns where it stopped. */
  private scanStatement(chunk: Buffer, index: number): number {
    let i = index;
    const length = chunk.length;
    // A plain Uint8Array view: V8 reads its elements faster than a Buffer's in this loop.
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, length);
    while (i < length) {
      if (this.quote !== 0) {
        i = this.skipString(chunk, i);
        continue;
      }
      if (this.inBacktick) {
        const close = chunk.indexOf(BACKTICK, i);
        if (close < 0) return length;
        this.inBacktick = false;
        i = close + 1;
        continue;
      }
      // Digits, hex BLOBs, NULL, commas, newlines: nothing to do.
      while (i < length && SPECIAL[bytes[i]!] === 0) i += 1;
      if (i === length) return length;
      const byte = chunk[i]!;
      i += 1;
      if (byte === QUOTE || byte === DOUBLE_QUOTE) {
        this.quote = byte;
      } else if (byte === BACKTICK) {
        this.inBacktick = true;
      } else if (byte === OPEN) {
        if (this.depth === 0 && this.seenValues) this.counts[this.table]! += 1;
        this.depth += 1;
      } else if (byte === CLOSE) {
        this.depth -= 1;
      } else if (byte === SEMICOLON) {
        if (this.depth === 0) {
          this.mode = 'skip';
          return i;
        }
      } else if (this.depth === 0) {
        // The V of VALUES: a `(` before it opens the column list, after it a row.
        this.seenValues = true;
      }
    }
    return i;
  }
}

/** A pass-through stream that counts the dump's rows (DumpRowCounter) as they flow to the sink. */
export function countingStream(counter: DumpRowCounter): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      counter.push(chunk);
      callback(null, chunk);
    },
  });
}
