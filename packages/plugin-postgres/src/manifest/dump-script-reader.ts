import { tableKey, type TableName } from '../row-counts.js';
import { DEFAULT_DECODER, decoderFor, type DecodeText } from './dump-encoding.js';
import { isIdentifierByte, readTableName } from './table-name.js';

/** Rows a plain dump loads into one table under one of its entries: a COPY block, or a run of INSERT statements. */
export interface DataLoad {
  /** The table the statement loads, as it names it; undefined when the name could not be read. */
  into?: TableName;
  rows: number;
  via: 'copy' | 'insert';
  /**
   * The comment that heads the dump's entry, e.g. `-- Data for Name: p1;
   * Type: TABLE DATA; Schema: public; Owner: app`. It names the partition
   * when the rows are loaded through the partition root.
   */
  entry?: string;
}

/** What the SQL of a plain dump says about its tables. */
export interface PlainDumpContents {
  /** Tables it creates (`CREATE [UNLOGGED] TABLE`), by key; `partitioned` when created `PARTITION BY`. */
  created: Map<string, { table: TableName; partitioned: boolean }>;
  /** Foreign tables it creates: their rows (--include-foreign-data) are no table's that countRows counts. */
  foreign: Set<string>;
  /** Every load of rows, in dump order. */
  loads: DataLoad[];
}

type StatementKind = 'copy' | 'insert' | 'create-table' | 'create-foreign-table' | 'set';

/** How pg_dump starts the statements that matter here, always at the start of a line; by their first byte. */
const STATEMENT_HEADS = new Map<number, ReadonlyArray<{ head: Buffer; kind: StatementKind }>>();
for (const [head, kind] of [
  ['COPY ', 'copy'],
  ['INSERT INTO ', 'insert'],
  ['CREATE TABLE ', 'create-table'],
  ['CREATE UNLOGGED TABLE ', 'create-table'],
  ['CREATE FOREIGN TABLE ', 'create-foreign-table'],
  ['SET client_encoding = ', 'set'],
  ['SET standard_conforming_strings = ', 'set'],
] as const) {
  STATEMENT_HEADS.set(head.charCodeAt(0), [...(STATEMENT_HEADS.get(head.charCodeAt(0)) ?? []), { head: Buffer.from(head), kind }]);
}
const DATA_ENTRY = Buffer.from('-- Data for Name: ');
const OTHER_ENTRY = Buffer.from('-- Name: ');
const PARTITION_BY = Buffer.from('PARTITION BY ');
const VALUES = Buffer.from('VALUES');
const DEFAULT = Buffer.from('DEFAULT');

interface Statement {
  kind: StatementKind;
  /** Where the table's name starts: the length of the head. */
  head: number;
  /** Its lines so far, each with its newline, while they are still needed: a COPY or SET until it ends, the others until their table's name is read. */
  lines?: Buffer[];
  table?: TableName;
  partitioned: boolean;
  /** INSERT: rows so far, whether VALUES was seen, and whether the word before was DEFAULT. */
  rows: number;
  afterValues: boolean;
  afterDefault: boolean;
}

// Where the lexer is, as psql's: in SQL code, or inside something it skips.
const CODE = 0;
const QUOTED = 1; // '...'
const ESCAPED = 2; // E'...', or '...' without standard_conforming_strings
const IDENTIFIER = 3; // "..."
const DOLLAR_QUOTED = 4; // $tag$...$tag$
const BLOCK_COMMENT = 5; // /* ... */, nested

const NEWLINE = Buffer.from('\n');

// A loop, not Buffer.compare: for words this short, the native call costs more than the comparison.
function holdsAt(line: Buffer, offset: number, word: Buffer): boolean {
  if (line.length - offset < word.length) return false;
  for (let index = 0; index < word.length; index++) {
    if (line[offset + index] !== word[index]) return false;
  }
  return true;
}

function startsWith(line: Buffer, prefix: Buffer): boolean {
  return holdsAt(line, 0, prefix);
}

/** Where the `E'...'` string that `line` continues from `from` has its next unescaped quote, or -1. */
function escapedStringEnd(line: Buffer, from: number): number {
  let index = from;
  while (index < line.length && line[index] !== 0x27) index += line[index] === 0x5c ? 2 : 1;
  return index < line.length ? index : -1;
}

function isTagStart(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || byte === 0x5f || byte >= 0x80);
}

function isTagByte(byte: number | undefined): boolean {
  return byte !== undefined && (isTagStart(byte) || (byte >= 0x30 && byte <= 0x39));
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0c || byte === 0x0b;
}

/**
 * Reads the SQL of a plain pg_dump script line by line, as psql would run
 * it: it follows strings, quoted names, dollar quotes and comments, so a
 * statement is recognised only where psql would run one, never inside a
 * function body or a comment that looks like one. It notes the tables the
 * script creates and the rows its INSERT statements load, and says when a
 * `COPY ... FROM stdin;` starts a block of data lines (which the caller
 * counts: they are never fed here).
 *
 * Statements are recognised at the start of a line, where pg_dump writes
 * them; lines inside a BEGIN ATOMIC body are indented, so its inner
 * semicolons (which psql does not take as ends) do no harm.
 */
export class DumpScriptReader {
  readonly contents: PlainDumpContents = { created: new Map(), foreign: new Set(), loads: [] };

  private decode: DecodeText = DEFAULT_DECODER;
  private standardStrings = true;
  private state = CODE;
  private commentDepth = 0;
  private dollarTag: Buffer | undefined;
  private parenDepth = 0;
  /** A statement has begun (something but blanks and comments since the last top-level semicolon). */
  private inStatement = false;
  private statement: Statement | undefined;
  private entry: string | undefined;
  /** The last INSERT's line up to just past its table name, so the next one into the same table is not decoded again. */
  private lastInsert: { head: Buffer; table: TableName } | undefined;
  private copyLoad: DataLoad | undefined;

  /** Reads one line (without its newline). Returns the load whose data lines follow when the line ends a `COPY ... FROM stdin`. */
  readLine(line: Buffer): DataLoad | undefined {
    this.copyLoad = undefined;
    let from = 0;
    if (this.state === CODE) {
      if (!this.inStatement) {
        from = this.startLine(line);
        if (from < 0) return undefined;
      } else if (this.statement?.kind === 'create-table' && startsWith(line, PARTITION_BY)) {
        this.statement.partitioned = true;
      }
    }
    this.lex(line, from);
    const statement = this.statement;
    if (statement?.lines !== undefined) {
      statement.lines.push(line, NEWLINE);
      if (statement.table === undefined && (statement.kind === 'insert' || statement.kind.startsWith('create'))) {
        this.readStatementTable(statement, Buffer.concat(statement.lines));
      }
    }
    return this.copyLoad;
  }

  /** A line at the top level with no statement open: entry comments, psql meta-commands, statement heads. Returns where to lex from, or -1 when the line is done. */
  private startLine(line: Buffer): number {
    const first = line[0];
    if (first === 0x2d && line[1] === 0x2d) {
      if (startsWith(line, DATA_ENTRY)) this.entry = this.decode(line);
      else if (startsWith(line, OTHER_ENTRY)) this.entry = undefined;
      return -1;
    }
    // A psql meta-command (\connect, \restrict): the whole line.
    if (first === 0x5c) return -1;
    const known = first === undefined ? undefined : STATEMENT_HEADS.get(first)?.find(({ head }) => startsWith(line, head));
    if (known === undefined) return 0;
    const statement: Statement = { kind: known.kind, head: known.head.length, partitioned: false, rows: 0, afterValues: false, afterDefault: false };
    this.statement = statement;
    this.inStatement = true;
    if (statement.kind === 'copy' || statement.kind === 'set') {
      statement.lines = [];
      return known.head.length;
    }
    // The next INSERT into the same table: its name is neither decoded nor lexed again.
    const last = this.lastInsert;
    if (statement.kind === 'insert' && last !== undefined && startsWith(line, last.head)) {
      statement.table = last.table;
      return last.head.length;
    }
    this.readStatementTable(statement, line);
    if (statement.table === undefined) statement.lines = [];
    return known.head.length;
  }

  private readStatementTable(statement: Statement, text: Buffer): void {
    const read = readTableName(text, statement.head, this.decode);
    if (read === undefined) return;
    statement.table = read.table;
    statement.lines = undefined;
    // The byte after the name (a blank) is part of the head, so `public.t` is never taken for `public.t2`.
    if (statement.kind === 'insert' && read.end < text.length && text.indexOf(NEWLINE, statement.head) < 0) {
      this.lastInsert = { head: Buffer.from(text.subarray(0, read.end + 1)), table: read.table };
    }
  }

  private lex(line: Buffer, from: number): void {
    const length = line.length;
    let at = from;
    while (at < length) {
      switch (this.state) {
        case QUOTED:
        case IDENTIFIER:
        case ESCAPED: {
          const quote = this.state === IDENTIFIER ? 0x22 : 0x27;
          const close = this.state === ESCAPED ? escapedStringEnd(line, at) : line.indexOf(quote, at);
          if (close < 0) return;
          // A doubled quote stands for one and the string goes on.
          if (line[close + 1] === quote) {
            at = close + 2;
          } else {
            this.state = CODE;
            at = close + 1;
          }
          break;
        }
        case DOLLAR_QUOTED: {
          const close = line.indexOf(this.dollarTag!, at);
          if (close < 0) return;
          this.state = CODE;
          at = close + this.dollarTag!.length;
          break;
        }
        case BLOCK_COMMENT:
          at = this.skipBlockComment(line, at);
          break;
        default:
          at = this.lexCode(line, at);
      }
    }
  }

  private skipBlockComment(line: Buffer, from: number): number {
    for (let index = from; index < line.length - 1; index++) {
      if (line[index] === 0x2a && line[index + 1] === 0x2f) {
        index++;
        if (--this.commentDepth === 0) {
          this.state = CODE;
          return index + 1;
        }
      } else if (line[index] === 0x2f && line[index + 1] === 0x2a) {
        index++;
        this.commentDepth++;
      }
    }
    return line.length;
  }

  /** Lexes SQL code from `from` until it enters a string, comment or quote, or the line ends; returns where it stopped. */
  private lexCode(line: Buffer, from: number): number {
    const length = line.length;
    let at = from;
    while (at < length) {
      const byte = line[at]!;
      if (isSpace(byte)) {
        at++;
        continue;
      }
      if (byte === 0x2d && line[at + 1] === 0x2d) return length; // -- to the end of the line
      if (byte === 0x2f && line[at + 1] === 0x2a) {
        this.state = BLOCK_COMMENT;
        this.commentDepth = 1;
        return at + 2;
      }
      if (byte === 0x5c) return length; // a meta-command ends psql's reading of the line as SQL
      this.inStatement = true;
      switch (byte) {
        case 0x27: // '
          this.state = this.standardStrings ? QUOTED : ESCAPED;
          return at + 1;
        case 0x22: // "
          this.state = IDENTIFIER;
          return at + 1;
        case 0x24: {
          // $: a dollar quote's opening tag, or a parameter ($1)
          const tagEnd = this.dollarTagEnd(line, at);
          if (tagEnd < 0) {
            at++;
            continue;
          }
          this.dollarTag = Buffer.from(line.subarray(at, tagEnd));
          this.state = DOLLAR_QUOTED;
          return tagEnd;
        }
        case 0x3b: // ;
          at++;
          if (this.parenDepth === 0) this.endStatement(line, at);
          continue;
        case 0x28: // (
          if (this.parenDepth === 0 && this.statement?.afterValues) this.statement.rows++;
          this.parenDepth++;
          at++;
          continue;
        case 0x29: // )
          if (this.parenDepth > 0) this.parenDepth--;
          at++;
          continue;
        default:
          if (!isIdentifierByte(byte)) {
            at++;
            continue;
          }
      }
      let end = at + 1;
      while (end < length && isIdentifierByte(line[end]!)) end++;
      if (end === at + 1 && (byte === 0x45 || byte === 0x65) && line[end] === 0x27) {
        this.state = ESCAPED; // E'...'
        return end + 1;
      }
      if (this.statement?.kind === 'insert' && !this.statement.afterValues && this.parenDepth === 0) this.noteInsertWord(line, at, end);
      at = end;
    }
    return length;
  }

  /** The end of a `$tag$` or `$$` at `at`, or -1 when the dollar sign opens none. */
  private dollarTagEnd(line: Buffer, at: number): number {
    let index = at + 1;
    if (line[index] !== 0x24) {
      if (!isTagStart(line[index])) return -1;
      while (isTagByte(line[index])) index++;
      if (line[index] !== 0x24) return -1;
    }
    return index + 1;
  }

  /** A word of an INSERT before its VALUES (compared in place: INSERT dumps have one per row). */
  private noteInsertWord(line: Buffer, start: number, end: number): void {
    const statement = this.statement!;
    const first = line[start];
    if (first === 0x56 && end - start === VALUES.length && holdsAt(line, start, VALUES)) {
      // DEFAULT VALUES inserts one row (pg_dump's form for a table without columns).
      if (statement.afterDefault) statement.rows++;
      else statement.afterValues = true;
    }
    statement.afterDefault = first === 0x44 && end - start === DEFAULT.length && holdsAt(line, start, DEFAULT);
  }

  /** The top-level semicolon before `end` ended the statement open since the last one. */
  private endStatement(line: Buffer, end: number): void {
    const statement = this.statement;
    this.statement = undefined;
    this.inStatement = false;
    this.parenDepth = 0;
    if (statement === undefined) return;
    const text = statement.lines === undefined ? undefined : Buffer.concat([...statement.lines, line.subarray(0, end)]);
    if (statement.table === undefined && text !== undefined && statement.kind !== 'copy' && statement.kind !== 'set') {
      this.readStatementTable(statement, text);
    }
    switch (statement.kind) {
      case 'copy':
        this.endCopy(text!);
        break;
      case 'insert':
        this.addInsertRows(statement);
        break;
      case 'create-table':
      case 'create-foreign-table': {
        if (statement.table === undefined) break;
        const key = tableKey(statement.table);
        if (statement.kind === 'create-foreign-table') this.contents.foreign.add(key);
        else this.contents.created.set(key, { table: statement.table, partitioned: statement.partitioned });
        break;
      }
      case 'set':
        this.applySetting(text!.toString('latin1'));
        break;
    }
  }

  private endCopy(text: Buffer): void {
    // psql reads data lines after any COPY ... FROM stdin; pg_dump writes no other COPY.
    if (!/\sFROM\s+stdin\s*;$/i.test(text.subarray(-64).toString('latin1'))) return;
    const load: DataLoad = { into: readTableName(text, 'COPY '.length, this.decode)?.table, rows: 0, via: 'copy', entry: this.entry };
    this.contents.loads.push(load);
    this.copyLoad = load;
  }

  private addInsertRows(statement: Statement): void {
    const loads = this.contents.loads;
    const last = loads.at(-1);
    const sameRun =
      last?.via === 'insert' &&
      last.entry === this.entry &&
      last.into !== undefined &&
      statement.table !== undefined &&
      (last.into === statement.table || tableKey(last.into) === tableKey(statement.table));
    if (sameRun) last.rows += statement.rows;
    else loads.push({ into: statement.table, rows: statement.rows, via: 'insert', entry: this.entry });
  }

  private applySetting(text: string): void {
    const encoding = /^SET client_encoding = '([^']*)'/.exec(text)?.[1];
    if (encoding !== undefined) this.decode = decoderFor(encoding);
    const standard = /^SET standard_conforming_strings = '?(on|off)'?/i.exec(text)?.[1];
    if (standard !== undefined) this.standardStrings = standard.toLowerCase() === 'on';
  }
}
