/** Turns bytes of a dump into text. */
export type DecodeText = (bytes: Uint8Array) => string;

// PostgreSQL's encoding names (as `SET client_encoding` writes them) to
// WHATWG labels. LATIN1 is decoded apart: WHATWG's "latin1" is windows-1252.
const WHATWG_LABELS: Readonly<Record<string, string>> = {
  UTF8: 'utf-8',
  // The server does not convert SQL_ASCII; node-postgres reads such names as UTF-8, so the keys compare.
  SQL_ASCII: 'utf-8',
  LATIN2: 'iso-8859-2',
  LATIN3: 'iso-8859-3',
  LATIN4: 'iso-8859-4',
  LATIN5: 'windows-1254',
  LATIN6: 'iso-8859-10',
  LATIN7: 'iso-8859-13',
  LATIN8: 'iso-8859-14',
  LATIN9: 'iso-8859-15',
  ISO_8859_5: 'iso-8859-5',
  ISO_8859_6: 'iso-8859-6',
  ISO_8859_7: 'iso-8859-7',
  ISO_8859_8: 'iso-8859-8',
  WIN866: 'ibm866',
  WIN874: 'windows-874',
  WIN1250: 'windows-1250',
  WIN1251: 'windows-1251',
  WIN1252: 'windows-1252',
  WIN1253: 'windows-1253',
  WIN1254: 'windows-1254',
  WIN1255: 'windows-1255',
  WIN1256: 'windows-1256',
  WIN1257: 'windows-1257',
  WIN1258: 'windows-1258',
  KOI8R: 'koi8-r',
  KOI8U: 'koi8-u',
  EUC_JP: 'euc-jp',
  EUC_KR: 'euc-kr',
  EUC_CN: 'gbk',
  SJIS: 'shift_jis',
  BIG5: 'big5',
  GBK: 'gbk',
  GB18030: 'gb18030',
  UHC: 'euc-kr',
};

const utf8 = new TextDecoder('utf-8');
const decodeUtf8: DecodeText = (bytes) => utf8.decode(bytes);

/**
 * A decoder for the dump's encoding (pg_dump writes names in the database's
 * encoding unless `--encoding` says otherwise), so a table's name reads as
 * the server reports it to node-postgres (UTF-8). Encodings Node cannot
 * decode (MULE_INTERNAL, EUC_TW, JOHAB, LATIN10, ...) fall back to UTF-8:
 * ASCII names still read right.
 */
export function decoderFor(encoding: string): DecodeText {
  const name = encoding.toUpperCase().replace(/[-\s]/g, '_');
  if (name === 'LATIN1') return (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const label = WHATWG_LABELS[name];
  if (label === undefined || label === 'utf-8') return decodeUtf8;
  try {
    const decoder = new TextDecoder(label);
    return (bytes) => decoder.decode(bytes);
  } catch {
    // A Node built without full ICU knows only UTF-8 and a few others.
    return decodeUtf8;
  }
}

/** UTF-8, what a dump is read as until it names its encoding. */
export const DEFAULT_DECODER: DecodeText = decodeUtf8;
