import { Transform, type TransformCallback } from 'node:stream';
import { DEFAULT_DECODER, decoderFor } from './dump-encoding.js';

/** An entry of a custom-format archive's table of contents, as far as its tables go. */
export interface ArchiveEntry {
  /** What it is: `TABLE`, `TABLE DATA`, `INDEX`, ... */
  desc: string;
  /** Its name: for `TABLE` and `TABLE DATA`, the table's (a partition's own, also when loaded via its root). */
  tag: string;
  namespace?: string;
}

/** The archive was cut short: more bytes are needed. */
class NeedMoreBytes extends Error {}

// The archive versions this reader knows, those of pg_dump 12 to 18: 1.14
// added the table access method, 1.15 the compression algorithm, 1.16 the relkind.
const OLDEST_KNOWN = archiveVersion(1, 14);
const WITH_COMPRESSION_ALGORITHM = archiveVersion(1, 15);
const WITH_RELKIND = archiveVersion(1, 16);
const FIRST_UNKNOWN = archiveVersion(1, 17);
const CUSTOM_FORMAT = 1;

function archiveVersion(major: number, minor: number, revision = 0): number {
  return (major * 256 + minor) * 256 + revision;
}

/** Reads the archive's integers and strings as pg_dump writes them (pg_backup_archiver.c: WriteInt, WriteStr). */
class ArchiveReader {
  intSize = 4;
  private at = 0;
  constructor(private readonly bytes: Buffer) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new NeedMoreBytes();
    return this.bytes[this.at++]!;
  }

  take(length: number): Buffer {
    if (this.at + length > this.bytes.length) throw new NeedMoreBytes();
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  /** A sign byte, then the magnitude in `intSize` bytes, least significant first. */
  int(): number {
    const negative = this.byte() !== 0;
    let value = 0;
    for (let index = 0; index < this.intSize; index++) value += this.byte() * 2 ** (8 * index);
    return negative ? -value : value;
  }

  /** A length, then the bytes; a negative length is a NULL. */
  string(): Buffer | undefined {
    const length = this.int();
    return length < 0 ? undefined : this.take(length);
  }
}

/**
 * Reads the header and the table of contents at the start of a custom-format
 * archive (pg_dump writes both before any data when its output is not a
 * file it can seek back in).
 *
 * @throws NeedMoreBytes when `bytes` ends before the table of contents does;
 *   an Error when they are not an archive this reader knows.
 */
function readArchiveToc(bytes: Buffer): ArchiveEntry[] {
  const reader = new ArchiveReader(bytes);
  if (reader.take(5).toString('latin1') !== 'PGDMP') throw new Error('not a custom-format archive (no PGDMP)');
  const version = archiveVersion(reader.byte(), reader.byte(), reader.byte());
  if (version < OLDEST_KNOWN || version >= FIRST_UNKNOWN) {
    throw new Error(`archive version ${version >> 16}.${(version >> 8) & 255} is not one this reader knows`);
  }
  reader.intSize = reader.byte();
  const offsetSize = reader.byte();
  if (reader.byte() !== CUSTOM_FORMAT) throw new Error('not a custom-format archive');
  if (version >= WITH_COMPRESSION_ALGORITHM) reader.byte();
  else reader.int();
  for (let field = 0; field < 7; field++) reader.int(); // when it was made
  reader.string(); // database
  reader.string(); // server version
  reader.string(); // pg_dump version

  const raw: Array<{ desc: string; tag?: Buffer; namespace?: Buffer }> = [];
  let decode = DEFAULT_DECODER;
  for (let count = reader.int(), index = 0; index < count; index++) {
    reader.int(); // dump id
    reader.int(); // has a data dumper
    reader.string(); // table oid
    reader.string(); // oid
    const tag = reader.string();
    const desc = reader.string()?.toString('latin1') ?? '';
    reader.int(); // section
    const definition = reader.string();
    reader.string(); // drop statement
    reader.string(); // copy statement
    const namespace = reader.string();
    reader.string(); // tablespace
    reader.string(); // table access method
    if (version >= WITH_RELKIND) reader.int(); // relkind
    reader.string(); // owner
    reader.string(); // "false": without OIDs
    while (reader.string() !== undefined); // dependencies
    reader.byte(); // the data's offset: whether set,
    reader.take(offsetSize); // and where
    // The first entry names the encoding the names are written in.
    if (desc === 'ENCODING' && definition !== undefined) {
      const encoding = /'([^']*)'/.exec(definition.toString('latin1'))?.[1];
      if (encoding !== undefined) decode = decoderFor(encoding);
    }
    if (desc === 'TABLE' || desc === 'TABLE DATA') raw.push({ desc, tag, namespace });
  }
  return raw.map(({ desc, tag, namespace }) => ({
    desc,
    tag: tag === undefined ? '' : decode(tag),
    ...(namespace === undefined ? {} : { namespace: decode(namespace) }),
  }));
}

/** The table of contents is never larger than this here: a bigger one is not worth holding. */
const MAX_TOC_BYTES = 256 * 1024 * 1024;

/**
 * A pass-through stream over a custom-format archive that reads its table
 * of contents (`toc`) as it streams past: the table entries (`TABLE`,
 * `TABLE DATA`), the archive's own list of what it holds. Chunks pass on
 * unchanged; the first ones are also kept (copied) until the table of
 * contents is read, then nothing more is looked at. `toc` rejects when the
 * archive ends first or is not one this reader knows; the stream itself
 * never fails for it.
 */
export class ArchiveTocReader extends Transform {
  readonly toc: Promise<ArchiveEntry[]>;
  private settle!: { resolve(entries: ArchiveEntry[]): void; reject(error: Error): void };
  private head: Buffer[] | undefined = [];
  private headLength = 0;
  private nextAttempt = 64 * 1024;

  constructor() {
    super();
    this.toc = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.toc.catch(() => {});
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.head !== undefined) {
      this.head.push(Buffer.from(chunk));
      this.headLength += chunk.length;
      // Re-read from the start only once the kept bytes doubled: linear in all.
      if (this.headLength >= this.nextAttempt) this.attempt(false);
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.head !== undefined) this.attempt(true);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.head !== undefined) {
      this.head = undefined;
      this.settle.reject(error ?? new Error('the archive was not read to its end'));
    }
    callback(error);
  }

  private attempt(atEnd: boolean): void {
    const bytes = Buffer.concat(this.head!);
    this.head = [bytes];
    try {
      const entries = readArchiveToc(bytes);
      this.head = undefined;
      this.settle.resolve(entries);
    } catch (error) {
      if (error instanceof NeedMoreBytes && !atEnd && this.headLength < MAX_TOC_BYTES) {
        this.nextAttempt = this.headLength * 2;
        return;
      }
      this.head = undefined;
      this.settle.reject(error instanceof NeedMoreBytes ? new Error('the archive ended before its table of contents did') : (error as Error));
    }
  }
}
