/**
 * Character sets of text columns. The binlog carries a text value's bytes in the column's own
 * character set (the table map names the collation with binlog_row_metadata=MINIMAL or FULL,
 * otherwise information_schema does); queries return it converted to the connection's utf8mb4.
 * Node's TextDecoder (full ICU) covers the character sets legacy databases use.
 */
import { TextDecoder } from 'node:util';

/** MySQL character set name -> WHATWG encoding label. `binary` means bytes. */
const ENCODINGS: Record<string, string> = {
  utf8mb4: 'utf-8',
  utf8mb3: 'utf-8',
  utf8: 'utf-8',
  latin2: 'iso-8859-2',
  latin5: 'iso-8859-9',
  latin7: 'iso-8859-13',
  greek: 'iso-8859-7',
  hebrew: 'iso-8859-8',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  cp866: 'ibm866',
  koi8r: 'koi8-r',
  koi8u: 'koi8-u',
  tis620: 'windows-874',
  macroman: 'macintosh',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  ujis: 'euc-jp',
  eucjpms: 'euc-jp',
  euckr: 'euc-kr',
  gbk: 'gbk',
  gb2312: 'gbk',
  gb18030: 'gb18030',
  big5: 'big5',
  ucs2: 'utf-16be',
  utf16: 'utf-16be',
  utf16le: 'utf-16le',
};

const decoders = new Map<string, TextDecoder>();

/**
 * MySQL's latin1 is Windows-1252, with the five bytes Windows leaves undefined passed through
 * as C1 controls. (Node's TextDecoder('windows-1252') decodes ISO-8859-1 instead.)
 */
const CP1252_80_9F = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** The bytes 0x80-0x9F as ISO-8859-1 decodes them (C1 controls), to map them to Windows-1252. */
const HAS_C1 = /[\u0080-\u009f]/;
const C1_CONTROLS = /[\u0080-\u009f]/g;
const fromC1 = (c: string): string => String.fromCharCode(CP1252_80_9F[c.charCodeAt(0) - 0x80]!);

/**
 * Node's 'latin1' decoding is ISO-8859-1 (byte n -> U+00nn) in one native call; only the 32
 * bytes where Windows-1252 differs are mapped afterwards. A character-by-character `+=` built
 * one string a byte, about 2 KB of garbage a MariaDB row (docs/benchmarks.md).
 */
function decodeLatin1(bytes: Uint8Array): string {
  return decodeLatin1Range(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength);
}

function decodeLatin1Range(buffer: Buffer, start: number, end: number): string {
  const text = buffer.toString('latin1', start, end);
  return HAS_C1.test(text) ? text.replace(C1_CONTROLS, fromC1) : text;
}

/** UTF-32 (big-endian, as MySQL stores it): code points collected, then made a string in one call per chunk. */
function decodeUtf32(bytes: Uint8Array): string {
  const CHUNK = 4096;
  let out = '';
  const points: number[] = [];
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    points.push(((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!);
    if (points.length === CHUNK) {
      out += String.fromCodePoint(...points);
      points.length = 0;
    }
  }
  return points.length > 0 ? out + String.fromCodePoint(...points) : out;
}

export function isBinaryCharset(charset: string | null | undefined): boolean {
  return charset === null || charset === undefined || charset === 'binary';
}

/** Whether values in this character set can be decoded to text here. */
export function charsetSupported(charset: string): boolean {
  return charset === 'utf32' || charset === 'latin1' || charset === 'ascii' || ENCODINGS[charset] !== undefined;
}

/**
 * `buffer[start..end)` in `charset` -> text, as decodeText; latin1 and ascii (most legacy
 * MariaDB text) are read in place, without a view of the bytes made first.
 */
export function decodeTextRange(buffer: Buffer, start: number, end: number, charset: string): string | undefined {
  if (charset === 'latin1' || charset === 'ascii') return decodeLatin1Range(buffer, start, end);
  return decodeText(buffer.subarray(start, end), charset);
}

/** Bytes in `charset` -> text; undefined for a character set this build cannot decode. */
export function decodeText(bytes: Uint8Array, charset: string): string | undefined {
  if (charset === 'latin1' || charset === 'ascii') return decodeLatin1(bytes);
  if (charset === 'utf32') return decodeUtf32(bytes);
  const label = ENCODINGS[charset];
  if (label === undefined) return undefined;
  let decoder = decoders.get(label);
  if (!decoder) {
    // ignoreBOM: a value that starts with U+FEFF keeps it (a TextDecoder drops a leading byte
    // order mark by default, which would silently change the value).
    decoder = new TextDecoder(label, { ignoreBOM: true });
    decoders.set(label, decoder);
  }
  return decoder.decode(bytes);
}
