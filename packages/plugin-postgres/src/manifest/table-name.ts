import type { TableName } from '../row-counts.js';
import type { DecodeText } from './dump-encoding.js';

const QUOTE = 0x22;
const DOT = 0x2e;

/** A byte of an unquoted SQL identifier or keyword (letters, digits, _, $, and any non-ASCII byte). */
export function isIdentifierByte(byte: number): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x5f || // _
    byte === 0x24 || // $
    byte >= 0x80
  );
}

/** One identifier at `offset`, quoted (`"a ""b"""`) or not, and the offset after it. */
function readIdentifier(bytes: Buffer, offset: number, decode: DecodeText): { value: string; end: number } | undefined {
  if (bytes[offset] === QUOTE) {
    for (let at = offset + 1; ; ) {
      const close = bytes.indexOf(QUOTE, at);
      if (close < 0) return undefined;
      if (bytes[close + 1] === QUOTE) {
        at = close + 2;
        continue;
      }
      return { value: decode(bytes.subarray(offset + 1, close)).replaceAll('""', '"'), end: close + 1 };
    }
  }
  let end = offset;
  while (end < bytes.length && isIdentifierByte(bytes[end]!)) end++;
  if (end === offset) return undefined;
  // The server folds an unquoted name to lower case (ASCII only); pg_dump quotes any that would need it.
  return { value: decode(bytes.subarray(offset, end)).replace(/[A-Z]+/g, (letters) => letters.toLowerCase()), end };
}

/**
 * Reads a schema-qualified table name at `offset` as pg_dump writes it
 * (`public.users`, `"My ""Schema"""."Order Items"`), in the dump's bytes.
 * Undefined when there is none there, it is not qualified, or a quoted part
 * does not end within `bytes`.
 */
export function readTableName(bytes: Buffer, offset: number, decode: DecodeText): { table: TableName; end: number } | undefined {
  const schema = readIdentifier(bytes, offset, decode);
  if (schema === undefined || bytes[schema.end] !== DOT) return undefined;
  const name = readIdentifier(bytes, schema.end + 1, decode);
  if (name === undefined) return undefined;
  return { table: { schema: schema.value, name: name.value }, end: name.end };
}
