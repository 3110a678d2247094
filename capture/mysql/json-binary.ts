/**
 * MySQL's binary JSON (the binlog and storage form of a JSON column, MySQL 5.7+; MariaDB's
 * JSON is LONGTEXT and never reaches this) -> JSON text in MySQL's own spelling
 * (`{"a": 1, "b": [true, null]}`), the same text a query returns. Integers stay exact
 * (BigInt), DECIMAL values inside a document stay exact (decoded from their binary form).
 */
import { TextDecoder } from 'node:util';
import { decodeDecimal } from './values.ts';

const SMALL_OBJECT = 0x0;
const LARGE_OBJECT = 0x1;
const SMALL_ARRAY = 0x2;
const LARGE_ARRAY = 0x3;
const LITERAL = 0x4;
const INT16 = 0x5;
const UINT16 = 0x6;
const INT32 = 0x7;
const UINT32 = 0x8;
const INT64 = 0x9;
const UINT64 = 0xa;
const DOUBLE = 0xb;
const STRING = 0xc;
const OPAQUE = 0xf;

const MYSQL_TYPE_TIMESTAMP = 7;
const MYSQL_TYPE_DATE = 10;
const MYSQL_TYPE_TIME = 11;
const MYSQL_TYPE_DATETIME = 12;
const MYSQL_TYPE_NEWDECIMAL = 246;

export class JsonBinaryError extends Error {}

/** ignoreBOM: a string that starts with U+FEFF keeps it (TextDecoder drops it by default). */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The whole document; an empty value is JSON null. */
export function decodeJsonBinary(data: Uint8Array): string {
  if (data.length === 0) return 'null';
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return value(view, data[0]!, 1, view.length - 1);
}

function need(view: Buffer, offset: number, length: number): void {
  if (offset < 0 || offset + length > view.length) throw new JsonBinaryError(`truncated JSON value at byte ${offset}`);
}

function value(view: Buffer, type: number, offset: number, length: number): string {
  switch (type) {
    case SMALL_OBJECT:
    case LARGE_OBJECT:
      return container(view, offset, type === LARGE_OBJECT, true);
    case SMALL_ARRAY:
    case LARGE_ARRAY:
      return container(view, offset, type === LARGE_ARRAY, false);
    case LITERAL:
      need(view, offset, 1);
      return literal(view[offset]!);
    case INT16:
      need(view, offset, 2);
      return String(view.readInt16LE(offset));
    case UINT16:
      need(view, offset, 2);
      return String(view.readUInt16LE(offset));
    case INT32:
      need(view, offset, 4);
      return String(view.readInt32LE(offset));
    case UINT32:
      need(view, offset, 4);
      return String(view.readUInt32LE(offset));
    case INT64:
      need(view, offset, 8);
      return view.readBigInt64LE(offset).toString();
    case UINT64:
      need(view, offset, 8);
      return view.readBigUInt64LE(offset).toString();
    case DOUBLE:
      need(view, offset, 8);
      return doubleJson(view.readDoubleLE(offset));
    case STRING: {
      const { length: size, next } = variableLength(view, offset);
      need(view, next, size);
      return quote(utf8.decode(view.subarray(next, next + size)));
    }
    case OPAQUE: {
      need(view, offset, 1);
      const fieldType = view[offset]!;
      const { length: size, next } = variableLength(view, offset + 1);
      need(view, next, size);
      return opaque(fieldType, view.subarray(next, next + size));
    }
    default:
      throw new JsonBinaryError(`unknown JSON value type ${type} (length ${length})`);
  }
}

function literal(code: number): string {
  if (code === 0) return 'null';
  if (code === 1) return 'true';
  if (code === 2) return 'false';
  throw new JsonBinaryError(`unknown JSON literal ${code}`);
}

function container(view: Buffer, offset: number, large: boolean, isObject: boolean): string {
  const size = large ? 4 : 2;
  const read = (at: number): number => {
    need(view, at, size);
    return large ? view.readUInt32LE(at) : view.readUInt16LE(at);
  };
  const count = read(offset);
  const header = offset + 2 * size;
  const keyEntry = size + 2;
  const valueEntry = 1 + size;
  const valuesStart = header + (isObject ? count * keyEntry : 0);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    let key = '';
    if (isObject) {
      const at = header + i * keyEntry;
      const keyOffset = read(at);
      need(view, at + size, 2);
      const keyLength = view.readUInt16LE(at + size);
      need(view, offset + keyOffset, keyLength);
      key = quote(utf8.decode(view.subarray(offset + keyOffset, offset + keyOffset + keyLength))) + ': ';
    }
    const at = valuesStart + i * valueEntry;
    need(view, at, valueEntry);
    const type = view[at]!;
    let text: string;
    if (type === LITERAL || type === INT16 || type === UINT16 || (large && (type === INT32 || type === UINT32))) {
      // Small scalars are stored inline, in the entry's offset field.
      text = value(view, type, at + 1, size);
    } else {
      text = value(view, type, offset + read(at + 1), 0);
    }
    parts.push(key + text);
  }
  return isObject ? `{${parts.join(', ')}}` : `[${parts.join(', ')}]`;
}

/** Lengths of strings and opaque values: 7 bits a byte, least significant first. */
function variableLength(view: Buffer, offset: number): { length: number; next: number } {
  let length = 0;
  for (let i = 0; i < 5; i++) {
    need(view, offset + i, 1);
    const byte = view[offset + i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { length, next: offset + i + 1 };
  }
  throw new JsonBinaryError(`JSON length at byte ${offset} is longer than 5 bytes`);
}

/** JSON string escaping as MySQL writes it. */
export function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** A JSON double: shortest text, with '.0' on integral values (MySQL prints 1.0, not 1). */
function doubleJson(v: number): string {
  const text = String(v).replace('e+', 'e');
  return /[.eE]/.test(text) || !Number.isFinite(v) ? text : `${text}.0`;
}

function pad(value: number | bigint, width: number): string {
  return String(value).padStart(width, '0');
}

/** A packed temporal value (MySQL's longlong packed form, little-endian in JSON) -> text. */
function packedTemporal(fieldType: number, data: Buffer): string {
  if (data.length < 8) throw new JsonBinaryError(`temporal JSON value of ${data.length} bytes`);
  let packed = data.readBigInt64LE(0);
  const negative = packed < 0n;
  if (negative) packed = -packed;
  const micros = Number(packed % (1n << 24n));
  const intPart = packed >> 24n;
  const fraction = `.${pad(micros, 6)}`;
  if (fieldType === MYSQL_TYPE_TIME) {
    const hms = Number(intPart);
    const text = `${pad(Math.floor(hms / 4096) % 1024, 2)}:${pad(Math.floor(hms / 64) % 64, 2)}:${pad(hms % 64, 2)}${fraction}`;
    return negative ? `-${text}` : text;
  }
  const ymdhms = Number(intPart);
  const ymd = Math.floor(ymdhms / 2 ** 17);
  const hms = ymdhms % 2 ** 17;
  const ym = Math.floor(ymd / 32);
  const date = `${pad(Math.floor(ym / 13), 4)}-${pad(ym % 13, 2)}-${pad(ymd % 32, 2)}`;
  if (fieldType === MYSQL_TYPE_DATE) return date;
  return `${date} ${pad(Math.floor(hms / 4096), 2)}:${pad(Math.floor(hms / 64) % 64, 2)}:${pad(hms % 64, 2)}${fraction}`;
}

function opaque(fieldType: number, data: Buffer): string {
  switch (fieldType) {
    case MYSQL_TYPE_NEWDECIMAL:
      if (data.length < 2) throw new JsonBinaryError('DECIMAL JSON value without precision and scale');
      return decodeDecimal(data, 2, data[0]!, data[1]!);
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
      return quote(packedTemporal(fieldType, data));
    default:
      return quote(`base64:type${fieldType}:${data.toString('base64')}`);
  }
}
