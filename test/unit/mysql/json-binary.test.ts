// MySQL's binary JSON -> the text a query returns. The documents are built here by an encoder
// written from MySQL's description of the format (sql/json_binary.h), not from the decoder.
import { describe, expect, it } from 'vitest';
import { decodeJsonBinary, quote } from '../../../capture/mysql/json-binary.ts';

type J = null | boolean | number | bigint | string | J[] | { [k: string]: J } | { opaque: number; data: Buffer } | { double: number };

function varLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** [type, bytes] of a value; `inline` when it fits the entry of a container. */
function encode(value: J, large = false): { type: number; data: Buffer; inline?: number } {
  if (value === null) return { type: 4, data: Buffer.from([0]), inline: 0 };
  if (value === true) return { type: 4, data: Buffer.from([1]), inline: 1 };
  if (value === false) return { type: 4, data: Buffer.from([2]), inline: 2 };
  if (typeof value === 'bigint') {
    const data = Buffer.alloc(8);
    data.writeBigInt64LE(value);
    return { type: 9, data };
  }
  if (typeof value === 'number') {
    const data = Buffer.alloc(2);
    data.writeInt16LE(value);
    return { type: 5, data, inline: value & 0xffff };
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return { type: 12, data: Buffer.concat([varLength(bytes.length), bytes]) };
  }
  if (Array.isArray(value)) return { type: large ? 3 : 2, data: container(value.map((v) => [undefined, v]), large) };
  if ('opaque' in value && Buffer.isBuffer(value.data)) {
    return { type: 15, data: Buffer.concat([Buffer.from([value.opaque as number]), varLength(value.data.length), value.data]) };
  }
  if ('double' in value && typeof value.double === 'number') {
    const data = Buffer.alloc(8);
    data.writeDoubleLE(value.double);
    return { type: 11, data };
  }
  return { type: large ? 1 : 0, data: container(Object.entries(value as Record<string, J>), large) };
}

function container(entries: Array<[string | undefined, J]>, large: boolean): Buffer {
  const size = large ? 4 : 2;
  const isObject = entries.some(([k]) => k !== undefined);
  const n = entries.length;
  const header = 2 * size;
  const keyEntries = isObject ? n * (size + 2) : 0;
  const valueEntries = n * (1 + size);
  let cursor = header + keyEntries + valueEntries;
  const keyEntryBufs: Buffer[] = [];
  const keyBufs: Buffer[] = [];
  for (const [k] of entries) {
    if (!isObject) break;
    const bytes = Buffer.from(k!, 'utf8');
    const entry = Buffer.alloc(size + 2);
    entry.writeUIntLE(cursor, 0, size);
    entry.writeUInt16LE(bytes.length, size);
    keyEntryBufs.push(entry);
    keyBufs.push(bytes);
    cursor += bytes.length;
  }
  const valueEntryBufs: Buffer[] = [];
  const valueBufs: Buffer[] = [];
  for (const [, v] of entries) {
    const e = encode(v, large);
    const entry = Buffer.alloc(1 + size);
    entry.writeUInt8(e.type, 0);
    if (e.inline !== undefined) entry.writeUIntLE(e.inline, 1, size);
    else {
      entry.writeUIntLE(cursor, 1, size);
      valueBufs.push(e.data);
      cursor += e.data.length;
    }
    valueEntryBufs.push(entry);
  }
  const head = Buffer.alloc(header);
  head.writeUIntLE(n, 0, size);
  head.writeUIntLE(cursor, size, size);
  return Buffer.concat([head, ...keyEntryBufs, ...valueEntryBufs, ...keyBufs, ...valueBufs]);
}

function document(value: J, large = false): Buffer {
  const e = encode(value, large);
  return Buffer.concat([Buffer.from([e.type]), e.data]);
}

/** DECIMAL(4,2) 12.30 in binary form, as MySQL stores it inside JSON (precision, scale, digits). */
const DECIMAL_12_30 = Buffer.from([4, 2, 0x80 | 12, 30]);

function packedDatetime(y: number, mo: number, d: number, h: number, mi: number, s: number, micros: number): Buffer {
  const ymdhms = BigInt(((y * 13 + mo) * 32 + d) * 2 ** 17 + (h * 4096 + mi * 64 + s));
  const data = Buffer.alloc(8);
  data.writeBigInt64LE((ymdhms << 24n) | BigInt(micros));
  return data;
}

describe('binary JSON', () => {
  it('prints objects and arrays in MySQL spelling, with exact integers and decimals', () => {
    const doc = document({
      a: 1,
      b: [true, null, 'x"y\n\u0001 ü 😀', -32768],
      c: { double: 1.5 },
      d: 9007199254740993n,
      e: { opaque: 246, data: DECIMAL_12_30 },
      f: { double: 2 },
      g: {},
      h: [],
    });
    expect(decodeJsonBinary(doc)).toBe(
      '{"a": 1, "b": [true, null, "x\\"y\\n\\u0001 ü 😀", -32768], "c": 1.5, "d": 9007199254740993, "e": 12.30, "f": 2.0, "g": {}, "h": []}',
    );
    expect(JSON.parse(decodeJsonBinary(doc)).b[2]).toBe('x"y\n\u0001 ü 😀');
  });

  it('reads large containers (4-byte offsets) and scalars at the top level', () => {
    const long = 'x'.repeat(70_000);
    expect(decodeJsonBinary(document({ k: long, n: [1, 2, 3] }, true))).toBe(`{"k": "${long}", "n": [1, 2, 3]}`);
    expect(decodeJsonBinary(document('just a string'))).toBe('"just a string"');
    expect(decodeJsonBinary(document(null))).toBe('null');
    expect(decodeJsonBinary(document(-9223372036854775808n))).toBe('-9223372036854775808');
    expect(decodeJsonBinary(Buffer.alloc(0))).toBe('null');
  });

  it('prints dates inside documents as strings and unknown opaque values as base64', () => {
    const doc = document([{ opaque: 12, data: packedDatetime(2024, 3, 10, 6, 59, 59, 123_456) }, { opaque: 10, data: packedDatetime(2024, 2, 29, 0, 0, 0, 0) }, { opaque: 252, data: Buffer.from([1, 2]) }]);
    expect(decodeJsonBinary(doc)).toBe('["2024-03-10 06:59:59.123456", "2024-02-29", "base64:type252:AQI="]');
  });

  it('refuses a truncated document instead of reading past it', () => {
    const doc = document({ a: 'some text' });
    expect(() => decodeJsonBinary(doc.subarray(0, doc.length - 3))).toThrow(/truncated/);
    expect(() => decodeJsonBinary(Buffer.from([0x0d]))).toThrow(/unknown JSON value type 13/);
  });

  it('keeps a leading U+FEFF in keys and strings', () => {
    expect(JSON.parse(decodeJsonBinary(document({ '\ufeffk': '\ufeffv' })))).toEqual({ '\ufeffk': '\ufeffv' });
    expect(JSON.parse(decodeJsonBinary(document('\ufeff')))).toBe('\ufeff');
  });

  it('escapes strings the way MySQL does', () => {
    expect(quote('a/b\\c\t\r\b\f')).toBe('"a/b\\\\c\\t\\r\\b\\f"');
  });
});
