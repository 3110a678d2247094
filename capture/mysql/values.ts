/**
 * Binary values of the row binlog -> the canonical text forms of src/mapping/types.ts.
 * Pure functions over buffers; nothing passes through a JS float except FLOAT/DOUBLE
 * themselves, and nothing through a Date or the machine's time zone.
 */

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4] as const;
const DIGITS_PER_GROUP = 9;

/** Bytes of a DECIMAL(precision, scale) in its binary (binlog and InnoDB) form. */
export function decimalBinarySize(precision: number, scale: number): number {
  const intg = precision - scale;
  return (
    Math.floor(intg / DIGITS_PER_GROUP) * 4 +
    DIG2BYTES[intg % DIGITS_PER_GROUP]! +
    Math.floor(scale / DIGITS_PER_GROUP) * 4 +
    DIG2BYTES[scale % DIGITS_PER_GROUP]!
  );
}

/**
 * DECIMAL(precision, scale) from its binary form, as exact text with `scale` fraction digits
 * ('12.3400', '-0.0000000001'), the way the server prints it. The form: digits in groups of
 * nine stored as big-endian integers (a shorter group for the leading integer and trailing
 * fraction digits), the first bit flipped, and every byte inverted for a negative number.
 */
export function decodeDecimal(buffer: Uint8Array, offset: number, precision: number, scale: number): string {
  const size = decimalBinarySize(precision, scale);
  if (offset + size > buffer.length) throw new RangeError(`DECIMAL(${precision},${scale}) needs ${size} bytes at ${offset}`);
  const negative = (buffer[offset]! & 0x80) === 0;
  const mask = negative ? 0xff : 0;
  // Groups are read by a module-level helper (no closure per value: this runs per DECIMAL cell).
  // The integer digits are written without their leading zeros as they are read (a group of
  // zeros before the first non-zero one adds nothing), so no regular expression trims them.
  let pos = offset;
  const intg = precision - scale;
  let integer = '';
  const lead = intg % DIGITS_PER_GROUP;
  if (lead > 0) {
    const group = readGroup(buffer, pos, DIG2BYTES[lead]!, mask, offset);
    if (group !== 0) integer = String(group);
    pos += DIG2BYTES[lead]!;
  }
  for (let i = 0; i < Math.floor(intg / DIGITS_PER_GROUP); i++, pos += 4) {
    const group = readGroup(buffer, pos, 4, mask, offset);
    if (integer !== '') integer += pad(group, DIGITS_PER_GROUP);
    else if (group !== 0) integer = String(group);
  }
  let nonZero = integer !== '';
  if (!nonZero) integer = '0';
  if (scale === 0) return negative && nonZero ? `-${integer}` : integer;
  let fraction = '';
  for (let i = 0; i < Math.floor(scale / DIGITS_PER_GROUP); i++, pos += 4) {
    const group = readGroup(buffer, pos, 4, mask, offset);
    if (group !== 0) nonZero = true;
    fraction += pad(group, DIGITS_PER_GROUP);
  }
  const trail = scale % DIGITS_PER_GROUP;
  if (trail > 0) {
    const group = readGroup(buffer, pos, DIG2BYTES[trail]!, mask, offset);
    if (group !== 0) nonZero = true;
    fraction += pad(group, trail);
  }
  // Negative zero ('-0.00' in the binary form) is printed without its sign, as the server does.
  return negative && nonZero ? `-${integer}.${fraction}` : `${integer}.${fraction}`;
}

/** One big-endian digit group of a binary DECIMAL at `pos`; the value's first byte has its sign bit flipped. */
function readGroup(buffer: Uint8Array, pos: number, length: number, mask: number, first: number): number {
  let value = 0;
  for (let i = 0; i < length; i++, pos++) value = value * 256 + ((buffer[pos]! ^ mask ^ (pos === first ? 0x80 : 0)) & 0xff);
  return value;
}

/** `String(value).padStart(width, '0')`, the zeros taken from a table (no padStart call: DECIMAL groups and date parts run per cell). */
function pad(value: number, width: number): string {
  const text = String(value);
  if (text.length >= width) return text;
  return width - text.length < ZEROS.length ? ZEROS[width - text.length]! + text : text.padStart(width, '0');
}

const ZEROS = Array.from({ length: DIGITS_PER_GROUP + 1 }, (_, n) => '0'.repeat(n));

/** Microseconds -> the first `fsp` digits ('' for fsp 0), as the server prints TIME(fsp) etc. */
export function fractionText(micros: number, fsp: number): string {
  if (fsp <= 0) return '';
  return '.' + pad(micros, 6).slice(0, fsp);
}

/** Bytes of the fractional part of TIME2/DATETIME2/TIMESTAMP2 with `fsp` digits. */
export function fractionSize(fsp: number): number {
  return Math.ceil(fsp / 2);
}

function readUIntBE(buffer: Uint8Array, offset: number, length: number): number {
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + buffer[offset + i]!;
  return value;
}

function readUIntLE(buffer: Uint8Array, offset: number, length: number): number {
  let value = 0;
  for (let i = length - 1; i >= 0; i--) value = value * 256 + buffer[offset + i]!;
  return value;
}

/** Unsigned fraction (DATETIME2, TIMESTAMP2) in microseconds. */
function readFraction(buffer: Uint8Array, offset: number, fsp: number): number {
  switch (fractionSize(fsp)) {
    case 0:
      return 0;
    case 1:
      return buffer[offset]! * 10_000;
    case 2:
      return readUIntBE(buffer, offset, 2) * 100;
    default:
      return readUIntBE(buffer, offset, 3);
  }
}

function dateText(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** DATE: 3 bytes little-endian, day | month << 5 | year << 9. Zero parts are kept ('0000-00-00'). */
export function decodeDate(buffer: Uint8Array, offset: number): string {
  const v = readUIntLE(buffer, offset, 3);
  return dateText(Math.floor(v / 512), Math.floor(v / 32) % 16, v % 32);
}

/** DATETIME2(fsp): 5 bytes big-endian (sign, year*13+month, day, hour, minute, second), then the fraction. */
export function decodeDatetime2(buffer: Uint8Array, offset: number, fsp: number): string {
  const packed = readUIntBE(buffer, offset, 5) - 0x80_0000_0000;
  const micros = readFraction(buffer, offset + 5, fsp);
  const value = Math.abs(packed);
  const ymd = Math.floor(value / 2 ** 17);
  const hms = value % 2 ** 17;
  const ym = Math.floor(ymd / 32);
  const text =
    `${dateText(Math.floor(ym / 13), ym % 13, ymd % 32)} ` +
    `${pad(Math.floor(hms / 4096), 2)}:${pad(Math.floor(hms / 64) % 64, 2)}:${pad(hms % 64, 2)}` +
    fractionText(micros, fsp);
  return packed < 0 ? `-${text}` : text;
}

/** Days since 1970-01-01 -> civil date (proleptic Gregorian), without Date. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Seconds since the epoch (UTC) and microseconds -> 'YYYY-MM-DD HH:MM:SS[.f]+00:00'; 0 is the zero timestamp. */
export function timestampText(seconds: number, micros: number, fsp: number): string {
  if (seconds === 0 && micros === 0) return `0000-00-00 00:00:00${fractionText(0, fsp)}`;
  const days = Math.floor(seconds / 86_400);
  const rest = seconds - days * 86_400;
  const { year, month, day } = civilFromDays(days);
  return (
    `${dateText(year, month, day)} ${pad(Math.floor(rest / 3600), 2)}:${pad(Math.floor(rest / 60) % 60, 2)}:${pad(rest % 60, 2)}` +
    `${fractionText(micros, fsp)}+00:00`
  );
}

/** TIMESTAMP2(fsp): 4 bytes big-endian seconds since the epoch, then the fraction. Always UTC. */
export function decodeTimestamp2(buffer: Uint8Array, offset: number, fsp: number): string {
  return timestampText(readUIntBE(buffer, offset, 4), readFraction(buffer, offset + 4, fsp), fsp);
}

/** Old TIMESTAMP (before MySQL 5.6): 4 bytes little-endian seconds. */
export function decodeTimestampOld(buffer: Uint8Array, offset: number): string {
  return timestampText(readUIntLE(buffer, offset, 4), 0, 0);
}

/**
 * TIME2(fsp): 3 bytes big-endian (sign, hour, minute, second) with the fraction after, read
 * as one packed value (MySQL's my_time_packed_from_binary): negative times borrow from the
 * integer part when they have a fraction.
 */
export function decodeTime2(buffer: Uint8Array, offset: number, fsp: number): string {
  let packed: number;
  const size = fractionSize(fsp);
  if (size === 3) {
    packed = readUIntBE(buffer, offset, 6) - 0x8000_0000_0000;
  } else {
    let intpart = readUIntBE(buffer, offset, 3) - 0x80_0000;
    let frac = 0;
    if (size === 1) {
      frac = buffer[offset + 3]!;
      if (intpart < 0 && frac) {
        intpart += 1;
        frac -= 0x100;
      }
      frac *= 10_000;
    } else if (size === 2) {
      frac = readUIntBE(buffer, offset + 3, 2);
      if (intpart < 0 && frac) {
        intpart += 1;
        frac -= 0x1_0000;
      }
      frac *= 100;
    }
    packed = intpart * 2 ** 24 + frac;
  }
  const negative = packed < 0;
  const value = Math.abs(packed);
  const hms = Math.floor(value / 2 ** 24);
  const micros = value % 2 ** 24;
  const text = `${pad(Math.floor(hms / 4096) % 1024, 2)}:${pad(Math.floor(hms / 64) % 64, 2)}:${pad(hms % 64, 2)}${fractionText(micros, fsp)}`;
  return negative ? `-${text}` : text;
}

/** Old TIME: 3 bytes little-endian signed, the decimal number HHMMSS. */
export function decodeTimeOld(buffer: Uint8Array, offset: number): string {
  let v = readUIntLE(buffer, offset, 3);
  if (v >= 0x80_0000) v -= 0x100_0000;
  const negative = v < 0;
  v = Math.abs(v);
  const text = `${pad(Math.floor(v / 10_000), 2)}:${pad(Math.floor(v / 100) % 100, 2)}:${pad(v % 100, 2)}`;
  return negative ? `-${text}` : text;
}

/** Old DATETIME: 8 bytes little-endian, the decimal number YYYYMMDDhhmmss. */
export function decodeDatetimeOld(buffer: Buffer, offset: number): string {
  const text = buffer.readBigUInt64LE(offset).toString().padStart(14, '0');
  return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)} ${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}`;
}

/** YEAR: one byte, years since 1900; 0 is the zero year. */
export function decodeYear(buffer: Uint8Array, offset: number): string {
  const v = buffer[offset]!;
  return v === 0 ? '0000' : String(1900 + v);
}

/** Integers of 1, 2, 3, 4 or 8 bytes, little-endian, as exact decimal text. */
export function decodeInteger(buffer: Buffer, offset: number, length: 1 | 2 | 3 | 4 | 8, unsigned: boolean): string {
  if (length === 8) return (unsigned ? buffer.readBigUInt64LE(offset) : buffer.readBigInt64LE(offset)).toString();
  let v = readUIntLE(buffer, offset, length);
  if (!unsigned && v >= 2 ** (length * 8 - 1)) v -= 2 ** (length * 8);
  return String(v);
}

/** BIT(n): big-endian bytes -> the unsigned integer as decimal text (BIT(1) gives '0' or '1'). */
export function bitText(bytes: Uint8Array): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value.toString();
}

/** JS number text with MySQL's exponent spelling ('1e21', not '1e+21'). */
function numberText(value: number): string {
  return String(value).replace('e+', 'e');
}

/** DOUBLE: the shortest text that reads back as the same double. */
export function doubleText(value: number): string {
  return numberText(value);
}

/** FLOAT: the shortest text that reads back as the same single-precision value. */
export function floatText(value: number): string {
  if (!Number.isFinite(value)) return numberText(value);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return numberText(candidate);
  }
  return numberText(value);
}

/** ENUM: the 1-based index of the label; 0 is the empty "error" value. */
export function enumText(index: number, labels: readonly string[]): string | undefined {
  if (index === 0) return '';
  return labels[index - 1];
}

/** SET: a bit per label, in definition order, joined by commas. */
export function setText(bits: bigint, labels: readonly string[]): string | undefined {
  const out: string[] = [];
  for (let i = 0; bits > 0n; i++, bits >>= 1n) {
    if ((bits & 1n) === 0n) continue;
    const label = labels[i];
    if (label === undefined) return undefined;
    out.push(label);
  }
  return out.join(',');
}
