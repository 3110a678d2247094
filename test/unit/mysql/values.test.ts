// Binary binlog values -> canonical text. Vectors marked "from MariaDB 10.11" are the bytes the
// server wrote into a rows event; the others come from an encoder written here from MySQL's
// documented layouts (decimal2bin, TIME_to_longlong_*_packed), independently of the decoder.
import { describe, expect, it } from 'vitest';
import {
  bitText,
  civilFromDays,
  decimalBinarySize,
  decodeDate,
  decodeDatetime2,
  decodeDecimal,
  decodeInteger,
  decodeTime2,
  decodeTimestamp2,
  decodeYear,
  doubleText,
  enumText,
  floatText,
  setText,
  timestampText,
} from '../../../capture/mysql/values.ts';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/** MySQL's decimal2bin, from its description: groups of nine digits, big-endian, sign flipped. */
function encodeDecimal(text: string, precision: number, scale: number): Buffer {
  const negative = text.startsWith('-');
  const [intDigits = '', fracDigits = ''] = text.replace('-', '').split('.');
  const intg = precision - scale;
  const ints = intDigits.padStart(intg, '0');
  const fracs = fracDigits.padEnd(scale, '0');
  const bytes: number[] = [];
  const put = (digits: string, size: number) => {
    let value = Number(digits);
    const out: number[] = [];
    for (let i = 0; i < size; i++) {
      out.unshift(value % 256);
      value = Math.floor(value / 256);
    }
    bytes.push(...out);
  };
  const lead = intg % 9;
  if (lead) put(ints.slice(0, lead), DIG2BYTES[lead]!);
  for (let i = lead; i < intg; i += 9) put(ints.slice(i, i + 9), 4);
  for (let i = 0; i + 9 <= scale; i += 9) put(fracs.slice(i, i + 9), 4);
  const trail = scale % 9;
  if (trail) put(fracs.slice(scale - trail), DIG2BYTES[trail]!);
  const buffer = Buffer.from(bytes);
  if (negative) for (let i = 0; i < buffer.length; i++) buffer[i] = buffer[i]! ^ 0xff;
  buffer[0] = buffer[0]! ^ 0x80;
  return buffer;
}

describe('DECIMAL', () => {
  it('decodes the exact digits MariaDB wrote, beyond what a double holds (from MariaDB 10.11)', () => {
    // decimal(30,10), decimal(38,10), decimal(10,0), decimal(5,5) of one row each.
    const row1 = hex('8c149aa4350dfb38d2075bcd1500800000000c149aa4350dfb38d2075bcd1500893b9ac9ff800001');
    const row2 = hex('7ffffffffffffffffffffffffffe7ffffffffffffffffffffffffffffffffffe7ef204c72d7e7960f0');
    let at = 0;
    const read = (row: Buffer, p: number, s: number) => {
      const text = decodeDecimal(row, at, p, s);
      at += decimalBinarySize(p, s);
      return text;
    };
    expect([read(row1, 30, 10), read(row1, 38, 10), read(row1, 10, 0), read(row1, 5, 5)]).toEqual([
      '12345678901234567890.1234567890',
      '12345678901234567890.1234567890',
      '9999999999',
      '0.00001',
    ]);
    at = 0;
    expect([read(row2, 30, 10), read(row2, 38, 10), read(row2, 10, 0), read(row2, 5, 5)]).toEqual([
      '-0.0000000001',
      '-0.0000000001',
      '-1234567890',
      '-0.99999',
    ]);
  });

  it('gives the scale digits the server prints, and zero without a sign', () => {
    expect(decodeDecimal(encodeDecimal('0', 12, 2), 0, 12, 2)).toBe('0.00');
    expect(decodeDecimal(encodeDecimal('-0', 12, 2), 0, 12, 2)).toBe('0.00');
    expect(decodeDecimal(encodeDecimal('-12.3', 12, 2), 0, 12, 2)).toBe('-12.30');
    expect(decodeDecimal(encodeDecimal('7', 1, 0), 0, 1, 0)).toBe('7');
    expect(decodeDecimal(encodeDecimal('0.5', 1, 1), 0, 1, 1)).toBe('0.5');
    expect(decodeDecimal(encodeDecimal('99999999999999999999999999999999999999', 38, 0), 0, 38, 0)).toBe('99999999999999999999999999999999999999');
    expect(decodeDecimal(encodeDecimal('-0.00000000000000000000000000000000000001', 38, 38), 0, 38, 38)).toBe('-0.00000000000000000000000000000000000001');
    expect(decodeDecimal(encodeDecimal('1234567890123456789.123456789', 65, 30), 0, 65, 30)).toBe('1234567890123456789.123456789000000000000000000000');
  });

  it('round-trips every precision and scale (random values against the encoder)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 2000; n++) {
      const precision = 1 + Math.floor(random() * 65);
      const scale = Math.floor(random() * (Math.min(precision, 30) + 1));
      const intg = precision - scale;
      const digits = (count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join('');
      const int = intg === 0 ? '0' : digits(1 + Math.floor(random() * intg)).replace(/^0+(?=\d)/, '');
      const frac = digits(scale);
      const negative = random() < 0.5;
      const text = `${negative ? '-' : ''}${int}${scale ? `.${frac}` : ''}`;
      const expected = /[1-9]/.test(text) ? text : text.replace('-', '');
      const buffer = Buffer.concat([Buffer.from([0xaa]), encodeDecimal(text, precision, scale), Buffer.from([0xbb])]);
      expect(decodeDecimal(buffer, 1, precision, scale), `${text} as decimal(${precision},${scale})`).toBe(expected);
      expect(decimalBinarySize(precision, scale)).toBe(buffer.length - 2);
    }
  });

  it('never goes through a JS number', () => {
    expect(decodeDecimal(encodeDecimal('9007199254740993.0000000001', 30, 10), 0, 30, 10)).toBe('9007199254740993.0000000001');
  });
});

/** MySQL's packed DATETIME2: 1 sign bit, year*13+month (17), day (5), hour (5), minute (6), second (6), then the fraction. */
function encodeDatetime2(y: number, mo: number, d: number, h: number, mi: number, s: number, micros: number, fsp: number): Buffer {
  const ym = y * 13 + mo;
  const packed = ((ym * 32 + d) * 2 ** 17 + (h * 4096 + mi * 64 + s)) + 0x80_0000_0000;
  const out = Buffer.alloc(5 + Math.ceil(fsp / 2));
  out.writeUIntBE(packed, 0, 5);
  if (fsp > 0) {
    const size = Math.ceil(fsp / 2);
    const value = size === 1 ? Math.floor(micros / 10_000) : size === 2 ? Math.floor(micros / 100) : micros;
    out.writeUIntBE(value, 5, size);
  }
  return out;
}

describe('temporal types', () => {
  it('DATETIME2 keeps the wall time, zero parts and exactly fsp digits', () => {
    expect(decodeDatetime2(encodeDatetime2(2024, 2, 29, 23, 59, 59, 999_999, 6), 0, 6)).toBe('2024-02-29 23:59:59.999999');
    expect(decodeDatetime2(encodeDatetime2(2024, 7, 1, 12, 0, 0, 120_000, 2), 0, 2)).toBe('2024-07-01 12:00:00.12');
    expect(decodeDatetime2(encodeDatetime2(2024, 7, 1, 12, 0, 0, 123_400, 3), 0, 3)).toBe('2024-07-01 12:00:00.123');
    expect(decodeDatetime2(encodeDatetime2(1, 1, 1, 0, 0, 0, 0, 0), 0, 0)).toBe('0001-01-01 00:00:00');
    expect(decodeDatetime2(encodeDatetime2(0, 0, 0, 0, 0, 0, 0, 6), 0, 6)).toBe('0000-00-00 00:00:00.000000');
    expect(decodeDatetime2(encodeDatetime2(2024, 0, 15, 0, 0, 0, 0, 0), 0, 0)).toBe('2024-00-15 00:00:00');
  });

  it('DATETIME2, TIMESTAMP2, DATE, TIME2 and YEAR as MariaDB wrote them (from MariaDB 10.11)', () => {
    // datetime(6) '2024-02-29 23:59:59.999999'
    expect(decodeDatetime2(hex('99b2bb7efb0f423f'), 0, 6)).toBe('2024-02-29 23:59:59.999999');
    // timestamp(3) '2024-03-10 06:59:59.123' UTC
    expect(decodeTimestamp2(hex('65ed5a6f04ce'), 0, 3)).toBe('2024-03-10 06:59:59.123+00:00');
    expect(decodeDate(hex('000000'), 0)).toBe('0000-00-00');
    expect(decodeDate(hex('21d007'), 0)).toBe('1000-01-01');
    // time(1) '-12:34:56.7' and '-00:00:00.5'
    expect(decodeTime2(hex('7f3747ba'), 0, 1)).toBe('-12:34:56.7');
    expect(decodeTime2(hex('7fffffce'), 0, 1)).toBe('-00:00:00.5');
    expect(decodeYear(hex('7c'), 0)).toBe('2024');
    expect(decodeYear(hex('00'), 0)).toBe('0000');
  });

  it('TIME2 covers the whole range and every fraction size', () => {
    // TIME_to_longlong_time_packed, then my_time_packed_to_binary with C's integer semantics:
    // the integer part is an arithmetic shift (floor), the fraction a C remainder (its sign).
    const encode = (negative: boolean, h: number, m: number, s: number, micros: number, fsp: number): Buffer => {
      let packed = (h * 4096 + m * 64 + s) * 2 ** 24 + micros;
      if (negative) packed = -packed;
      const size = Math.ceil(fsp / 2);
      const out = Buffer.alloc(3 + size);
      if (size === 3) {
        out.writeUIntBE(packed + 0x8000_0000_0000, 0, 6);
        return out;
      }
      const intPart = Math.floor(packed / 2 ** 24);
      const fracPart = packed - Math.trunc(packed / 2 ** 24) * 2 ** 24;
      out.writeUIntBE(intPart + 0x80_0000, 0, 3);
      if (size === 1) out.writeUInt8(Math.trunc(fracPart / 10_000) & 0xff, 3);
      if (size === 2) out.writeUInt16BE(Math.trunc(fracPart / 100) & 0xffff, 3);
      return out;
    };
    const cases: Array<[boolean, number, number, number, number, number, string]> = [
      [false, 0, 0, 0, 0, 0, '00:00:00'],
      [false, 838, 59, 59, 0, 0, '838:59:59'],
      [true, 838, 59, 59, 0, 0, '-838:59:59'],
      [false, 12, 34, 56, 789_000, 3, '12:34:56.789'],
      [true, 838, 59, 59, 0, 3, '-838:59:59.000'],
      [true, 1, 2, 3, 400_000, 1, '-01:02:03.4'],
      [true, 1, 2, 3, 450_000, 2, '-01:02:03.45'],
      [true, 1, 2, 3, 456_700, 4, '-01:02:03.4567'],
      [true, 0, 0, 0, 1, 6, '-00:00:00.000001'],
      [false, 23, 59, 59, 999_999, 6, '23:59:59.999999'],
      [true, 0, 0, 0, 500_000, 5, '-00:00:00.50000'],
    ];
    for (const [negative, h, m, s, micros, fsp, text] of cases) {
      expect(decodeTime2(encode(negative, h, m, s, micros, fsp), 0, fsp), text).toBe(text);
    }
  });

  it('TIMESTAMP is an instant in UTC (no machine zone); the zero timestamp keeps its text', () => {
    expect(timestampText(0, 0, 0)).toBe('0000-00-00 00:00:00');
    expect(timestampText(0, 0, 6)).toBe('0000-00-00 00:00:00.000000');
    expect(timestampText(1, 0, 0)).toBe('1970-01-01 00:00:01+00:00');
    expect(timestampText(951_782_400, 500_000, 1)).toBe('2000-02-29 00:00:00.5+00:00');
    expect(timestampText(2_147_483_647, 999_999, 6)).toBe('2038-01-19 03:14:07.999999+00:00');
    const buffer = Buffer.alloc(7);
    buffer.writeUInt32BE(1_710_053_999, 0);
    buffer.writeUIntBE(123_456, 4, 3);
    expect(decodeTimestamp2(buffer, 0, 6)).toBe('2024-03-10 06:59:59.123456+00:00');
  });

  it('civil dates from day numbers match the proleptic Gregorian calendar', () => {
    for (const [days, date] of [
      [0, '1970-01-01'],
      [-1, '1969-12-31'],
      [11_016, '2000-02-29'],
      [19_782, '2024-02-29'],
      [2_932_896, '9999-12-31'],
    ] as const) {
      const { year, month, day } = civilFromDays(days);
      expect(`${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`).toBe(date);
      expect(new Date(days * 86_400_000).toISOString().slice(0, 10)).toBe(date);
    }
  });
});

describe('numbers, bits, labels', () => {
  it('reads integers exactly, signed and unsigned, up to 64 bits', () => {
    expect(decodeInteger(hex('ffffffff'), 0, 4, true)).toBe('4294967295');
    expect(decodeInteger(hex('ffffffff'), 0, 4, false)).toBe('-1');
    expect(decodeInteger(hex('0080'), 0, 2, false)).toBe('-32768');
    expect(decodeInteger(hex('ffff7f'), 0, 3, false)).toBe('8388607');
    expect(decodeInteger(hex('000080'), 0, 3, false)).toBe('-8388608');
    expect(decodeInteger(hex('ffffffffffffffff'), 0, 8, true)).toBe('18446744073709551615');
    expect(decodeInteger(hex('0000000000000080'), 0, 8, false)).toBe('-9223372036854775808');
    expect(decodeInteger(hex('0100000000002000'), 0, 8, false)).toBe('9007199254740993');
    expect(decodeInteger(hex('80'), 0, 1, true)).toBe('128');
  });

  it('gives BIT as its unsigned value', () => {
    expect(bitText(hex('02aa'))).toBe('682');
    expect(bitText(hex('01'))).toBe('1');
    expect(bitText(hex('0000'))).toBe('0');
    expect(bitText(hex('ffffffffffffffff'))).toBe('18446744073709551615');
  });

  it('prints FLOAT and DOUBLE with the shortest text that reads back the same', () => {
    expect(floatText(Math.fround(1.1))).toBe('1.1');
    expect(floatText(Math.fround(123456.7))).toBe('123456.7');
    expect(floatText(Math.fround(-3.4028234663852886e38))).toBe('-3.4028235e38');
    expect(floatText(Math.fround(1e-7))).toBe('1e-7');
    expect(floatText(-0)).toBe('0');
    expect(floatText(hex('cdcc8c3f').readFloatLE(0))).toBe('1.1');
    expect(doubleText(0.1)).toBe('0.1');
    expect(doubleText(1e300)).toBe('1e300');
    expect(doubleText(hex('9a9999999999b93f').readDoubleLE(0))).toBe('0.1');
    expect(Number(doubleText(2 ** 53 + 2))).toBe(2 ** 53 + 2);
  });

  it('names ENUM and SET values by their labels', () => {
    expect(enumText(2, ['a', 'b c'])).toBe('b c');
    expect(enumText(0, ['a'])).toBe('');
    expect(enumText(3, ['a'])).toBeUndefined();
    expect(setText(0b101n, ['x', 'y', 'z'])).toBe('x,z');
    expect(setText(0n, ['x'])).toBe('');
    expect(setText(1n << 63n, Array.from({ length: 64 }, (_, i) => `l${i}`))).toBe('l63');
    expect(setText(0b1000n, ['x', 'y', 'z'])).toBeUndefined();
  });
});
