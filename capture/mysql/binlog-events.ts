/**
 * Decoding of the row binlog's events: table maps (with the optional metadata of
 * binlog_row_metadata=MINIMAL/FULL), rows events, and GTID events (MySQL and MariaDB forms).
 * Pure: buffers in, plain data out. The layouts follow MySQL's libbinlogevents and MariaDB's
 * log_event.h; docs/mysql-capture.md lists what is decoded how.
 */
import type { SourceColumnKind, SourceValue } from '../../src/mapping/types.ts';
import { decodeTextRange, isBinaryCharset } from './charsets.ts';
import { decodeJsonBinary } from './json-binary.ts';
import {
  bitText,
  decimalBinarySize,
  decodeDate,
  decodeDatetime2,
  decodeDatetimeOld,
  decodeDecimal,
  decodeInteger,
  decodeTime2,
  decodeTimeOld,
  decodeTimestamp2,
  decodeTimestampOld,
  decodeYear,
  doubleText,
  enumText,
  floatText,
  fractionSize,
  setText,
} from './values.ts';

/** Column type codes as the binlog writes them (MySQL's enum_field_types). */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

const T = ColumnType;

export class BinlogDecodeError extends Error {}

/** Little-endian reader over an event body. */
export class Reader {
  offset: number;
  constructor(
    readonly buffer: Buffer,
    offset = 0,
    readonly end = buffer.length,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(length: number): void {
    if (this.offset + length > this.end) {
      throw new BinlogDecodeError(`event ends at byte ${this.end}, ${length} more bytes needed at ${this.offset}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.offset++]!;
  }

  uint(length: number): number {
    this.need(length);
    let value = 0;
    for (let i = length - 1; i >= 0; i--) value = value * 256 + this.buffer[this.offset + i]!;
    this.offset += length;
    return value;
  }

  /** Unsigned little-endian integer of any length, exact. */
  uintBig(length: number): bigint {
    this.need(length);
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.buffer[this.offset + i]!);
    this.offset += length;
    return value;
  }

  u64(): bigint {
    this.need(8);
    const value = this.buffer.readBigUInt64LE(this.offset);
    this.offset += 8;
    return value;
  }

  /** MySQL length-encoded integer. */
  lenenc(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.uint(2);
    if (first === 0xfd) return this.uint(3);
    if (first === 0xfe) return Number(this.u64());
    throw new BinlogDecodeError(`invalid length-encoded integer 0x${first.toString(16)} at ${this.offset - 1}`);
  }

  /** Skips `length` bytes and returns where they start (no allocation). */
  take(length: number): number {
    this.need(length);
    const at = this.offset;
    this.offset += length;
    return at;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const out = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenenc());
  }
}

/** One column as the table map describes it. */
export interface MappedColumnType {
  /** The effective type: STRING columns that are ENUM or SET carry that type here. */
  type: number;
  /** DECIMAL */
  precision?: number;
  scale?: number;
  /** TIME2 / DATETIME2 / TIMESTAMP2 fractional digits. */
  fsp?: number;
  /** CHAR / VARCHAR / BINARY / VARBINARY: maximum length in bytes. */
  maxLength?: number;
  /** BLOB / TEXT / JSON / GEOMETRY: bytes of the length prefix. */
  lengthSize?: number;
  /** BIT(n) */
  bits?: number;
  /** ENUM / SET: bytes of the stored value. */
  packSize?: number;
}

export interface TableMap {
  tableId: number;
  schema: string;
  table: string;
  columns: MappedColumnType[];
  nullable: boolean[];
  /** Optional metadata, where the server wrote it. */
  names?: string[];
  /** Per column: true unsigned, false signed, undefined not numeric / not sent. */
  unsigned?: (boolean | undefined)[];
  /** Per column: collation id of character columns. */
  collations?: (number | undefined)[];
  enumLabels?: (Buffer[] | undefined)[];
  setLabels?: (Buffer[] | undefined)[];
  /** Per column: collation id of ENUM/SET labels. */
  enumSetCollations?: (number | undefined)[];
  primaryKey?: number[];
}

/** Reads only the names: enough to skip tables nobody maps without decoding the rest. */
export function tableMapNames(body: Buffer): { tableId: number; schema: string; table: string } {
  const r = new Reader(body);
  const tableId = r.uint(6);
  r.uint(2);
  const schema = r.bytes(r.u8()).toString('utf8');
  r.u8();
  const table = r.bytes(r.u8()).toString('utf8');
  return { tableId, schema, table };
}

/**
 * Columns the SIGNEDNESS bitmap has a bit for. MariaDB counts YEAR among them (its Field_year
 * is a Field_tiny), MySQL does not.
 */
function isNumeric(type: number, flavor: 'mariadb' | 'mysql'): boolean {
  return (
    (flavor === 'mariadb' && type === T.YEAR) ||
    type === T.TINY ||
    type === T.SHORT ||
    type === T.INT24 ||
    type === T.LONG ||
    type === T.LONGLONG ||
    type === T.FLOAT ||
    type === T.DOUBLE ||
    type === T.NEWDECIMAL ||
    type === T.DECIMAL
  );
}

function isCharacter(type: number): boolean {
  return (
    type === T.STRING ||
    type === T.VAR_STRING ||
    type === T.VARCHAR ||
    type === T.BLOB ||
    type === T.TINY_BLOB ||
    type === T.MEDIUM_BLOB ||
    type === T.LONG_BLOB
  );
}

function readColumnMeta(r: Reader, code: number): MappedColumnType {
  switch (code) {
    case T.FLOAT:
    case T.DOUBLE:
      r.u8();
      return { type: code };
    case T.BLOB:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.GEOMETRY:
    case T.JSON:
      return { type: code, lengthSize: r.u8() };
    case T.VARCHAR:
    case T.VAR_STRING:
      return { type: code, maxLength: r.uint(2) };
    case T.BIT: {
      const bits = r.u8();
      const bytes = r.u8();
      return { type: code, bits: bytes * 8 + bits };
    }
    case T.NEWDECIMAL:
      return { type: code, precision: r.u8(), scale: r.u8() };
    case T.STRING:
    case T.ENUM:
    case T.SET: {
      const b0 = r.u8();
      const b1 = r.u8();
      // The real type; for CHAR longer than 255 bytes two length bits hide in it (inverted).
      if ((b0 & 0x30) !== 0x30) return { type: b0 | 0x30, maxLength: (((b0 & 0x30) ^ 0x30) << 4) | b1 };
      if (b0 === T.ENUM || b0 === T.SET) return { type: b0, packSize: b1 };
      return { type: b0, maxLength: b1 };
    }
    case T.TIMESTAMP2:
    case T.DATETIME2:
    case T.TIME2:
      return { type: code, fsp: r.u8() };
    default:
      return { type: code };
  }
}

const OPT_SIGNEDNESS = 1;
const OPT_DEFAULT_CHARSET = 2;
const OPT_COLUMN_CHARSET = 3;
const OPT_COLUMN_NAME = 4;
const OPT_SET_STR_VALUE = 5;
const OPT_ENUM_STR_VALUE = 6;
const OPT_SIMPLE_PRIMARY_KEY = 8;
const OPT_PRIMARY_KEY_WITH_PREFIX = 9;
const OPT_ENUM_AND_SET_DEFAULT_CHARSET = 10;
const OPT_ENUM_AND_SET_COLUMN_CHARSET = 11;

export function parseTableMap(body: Buffer, flavor: 'mariadb' | 'mysql'): TableMap {
  const r = new Reader(body);
  const tableId = r.uint(6);
  r.uint(2); // flags
  const schema = r.bytes(r.u8()).toString('utf8');
  r.u8();
  const table = r.bytes(r.u8()).toString('utf8');
  r.u8();
  const count = r.lenenc();
  const codes = [...r.bytes(count)];
  const metaLength = r.lenenc();
  const metaEnd = r.offset + metaLength;
  const columns = codes.map((code) => readColumnMeta(r, code));
  r.offset = metaEnd;
  const nullBits = r.bytes(Math.floor((count + 7) / 8));
  const nullable = codes.map((_, i) => (nullBits[i >> 3]! & (1 << (i & 7))) !== 0);
  const map: TableMap = { tableId, schema, table, columns, nullable };

  const numeric = columns.map((c, i) => (isNumeric(c.type, flavor) ? i : -1)).filter((i) => i >= 0);
  const character = columns.map((c, i) => (isCharacter(c.type) ? i : -1)).filter((i) => i >= 0);
  const enumColumns = columns.map((c, i) => (c.type === T.ENUM ? i : -1)).filter((i) => i >= 0);
  const setColumns = columns.map((c, i) => (c.type === T.SET ? i : -1)).filter((i) => i >= 0);
  const enumSetColumns = columns.map((c, i) => (c.type === T.ENUM || c.type === T.SET ? i : -1)).filter((i) => i >= 0);

  const charsetField = (field: Reader, targets: number[], defaults: boolean): (number | undefined)[] => {
    const out = new Array<number | undefined>(count).fill(undefined);
    if (defaults) {
      const fallback = field.lenenc();
      for (const i of targets) out[i] = fallback;
      while (field.remaining > 0) {
        const index = field.lenenc();
        const collation = field.lenenc();
        if (targets[index] !== undefined) out[targets[index]!] = collation;
      }
    } else {
      for (const i of targets) if (field.remaining > 0) out[i] = field.lenenc();
    }
    return out;
  };
  const labelsField = (field: Reader, targets: number[]): (Buffer[] | undefined)[] => {
    const out = new Array<Buffer[] | undefined>(count).fill(undefined);
    for (const i of targets) {
      if (field.remaining <= 0) break;
      const n = field.lenenc();
      const labels: Buffer[] = [];
      for (let k = 0; k < n; k++) labels.push(field.lenencBytes());
      out[i] = labels;
    }
    return out;
  };

  while (r.remaining > 0) {
    const type = r.u8();
    const length = r.lenenc();
    const field = new Reader(body, r.offset, r.offset + length);
    r.offset += length;
    switch (type) {
      case OPT_SIGNEDNESS: {
        const unsigned = new Array<boolean | undefined>(count).fill(undefined);
        numeric.forEach((column, k) => {
          const byte = body[field.offset + (k >> 3)];
          if (byte !== undefined && (k >> 3) < length) unsigned[column] = (byte & (0x80 >> (k & 7))) !== 0;
        });
        map.unsigned = unsigned;
        break;
      }
      case OPT_DEFAULT_CHARSET:
        map.collations = charsetField(field, character, true);
        break;
      case OPT_COLUMN_CHARSET:
        map.collations = charsetField(field, character, false);
        break;
      case OPT_COLUMN_NAME: {
        const names: string[] = [];
        while (field.remaining > 0 && names.length < count) names.push(field.lenencBytes().toString('utf8'));
        if (names.length === count) map.names = names;
        break;
      }
      case OPT_SET_STR_VALUE:
        map.setLabels = labelsField(field, setColumns);
        break;
      case OPT_ENUM_STR_VALUE:
        map.enumLabels = labelsField(field, enumColumns);
        break;
      case OPT_ENUM_AND_SET_DEFAULT_CHARSET:
        map.enumSetCollations = charsetField(field, enumSetColumns, true);
        break;
      case OPT_ENUM_AND_SET_COLUMN_CHARSET:
        map.enumSetCollations = charsetField(field, enumSetColumns, false);
        break;
      case OPT_SIMPLE_PRIMARY_KEY: {
        const key: number[] = [];
        while (field.remaining > 0) key.push(field.lenenc());
        map.primaryKey = key;
        break;
      }
      case OPT_PRIMARY_KEY_WITH_PREFIX: {
        const key: number[] = [];
        while (field.remaining > 0) {
          key.push(field.lenenc());
          field.lenenc();
        }
        map.primaryKey = key;
        break;
      }
      default:
        break; // geometry types, column visibility: not needed
    }
  }
  return map;
}

/** A column ready for decoding row values: its table map type plus what names it and types its text. */
export interface BinlogColumn extends MappedColumnType {
  name: string;
  unsigned: boolean;
  /** Character set of a text column; null for binary data (and for non-text types). */
  charset: string | null;
  enumLabels?: string[];
  setLabels?: string[];
  kind: SourceColumnKind;
  nativeType: string;
  /** Text in utf8 / utf8mb3 / utf8mb4: decoded straight from the event buffer. */
  utf8?: boolean;
}

/** The column kind (src/mapping/types.ts) of a binlog column. */
export function kindOf(column: Pick<BinlogColumn, 'type' | 'charset'>): SourceColumnKind {
  switch (column.type) {
    case T.TINY:
    case T.SHORT:
    case T.INT24:
    case T.LONG:
    case T.LONGLONG:
    case T.YEAR:
    case T.BIT:
      return 'integer';
    case T.NEWDECIMAL:
    case T.DECIMAL:
      return 'decimal';
    case T.FLOAT:
    case T.DOUBLE:
      return 'float';
    case T.DATE:
    case T.NEWDATE:
      return 'date';
    case T.TIME:
    case T.TIME2:
      return 'time';
    case T.DATETIME:
    case T.DATETIME2:
      return 'timestamp';
    case T.TIMESTAMP:
    case T.TIMESTAMP2:
      return 'timestamptz';
    case T.JSON:
      return 'json';
    case T.ENUM:
    case T.SET:
      return 'text';
    case T.GEOMETRY:
      return 'bytes';
    default:
      return isBinaryCharset(column.charset) ? 'bytes' : 'text';
  }
}

/** A type name for messages when information_schema has none for the column. */
export function binlogTypeName(column: MappedColumnType): string {
  const names: Record<number, string> = {
    [T.TINY]: 'tinyint',
    [T.SHORT]: 'smallint',
    [T.INT24]: 'mediumint',
    [T.LONG]: 'int',
    [T.LONGLONG]: 'bigint',
    [T.FLOAT]: 'float',
    [T.DOUBLE]: 'double',
    [T.DATE]: 'date',
    [T.YEAR]: 'year',
    [T.JSON]: 'json',
    [T.ENUM]: 'enum',
    [T.SET]: 'set',
    [T.GEOMETRY]: 'geometry',
  };
  switch (column.type) {
    case T.NEWDECIMAL:
      return `decimal(${column.precision},${column.scale})`;
    case T.TIME:
    case T.TIME2:
      return column.fsp ? `time(${column.fsp})` : 'time';
    case T.DATETIME:
    case T.DATETIME2:
      return column.fsp ? `datetime(${column.fsp})` : 'datetime';
    case T.TIMESTAMP:
    case T.TIMESTAMP2:
      return column.fsp ? `timestamp(${column.fsp})` : 'timestamp';
    case T.BIT:
      return `bit(${column.bits})`;
    case T.VARCHAR:
    case T.VAR_STRING:
      return `varchar(${column.maxLength} bytes)`;
    case T.STRING:
      return `char(${column.maxLength} bytes)`;
    case T.BLOB:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
      return `blob/text (${column.lengthSize}-byte length)`;
    default:
      return names[column.type] ?? `type ${column.type}`;
  }
}

/** Why a value could not be decoded (the change then goes to the dead-letter subject). */
export class ValueProblem {
  constructor(readonly message: string) {}
}

/**
 * Reads one non-null value and advances the reader past it, even when the value cannot be
 * represented. Fixed-size values are read in place (no per-value buffer): a large transaction
 * decodes millions of them.
 */
export function readValue(r: Reader, column: BinlogColumn): SourceValue | ValueProblem {
  const b = r.buffer;
  switch (column.type) {
    case T.TINY:
      return decodeInteger(b, r.take(1), 1, column.unsigned);
    case T.SHORT:
      return decodeInteger(b, r.take(2), 2, column.unsigned);
    case T.INT24:
      return decodeInteger(b, r.take(3), 3, column.unsigned);
    case T.LONG:
      return decodeInteger(b, r.take(4), 4, column.unsigned);
    case T.LONGLONG:
      return decodeInteger(b, r.take(8), 8, column.unsigned);
    case T.FLOAT:
      return floatText(b.readFloatLE(r.take(4)));
    case T.DOUBLE:
      return doubleText(b.readDoubleLE(r.take(8)));
    case T.NEWDECIMAL:
      return decodeDecimal(b, r.take(decimalBinarySize(column.precision!, column.scale!)), column.precision!, column.scale!);
    case T.DATE:
    case T.NEWDATE:
      return decodeDate(b, r.take(3));
    case T.TIME:
      return decodeTimeOld(b, r.take(3));
    case T.TIME2:
      return decodeTime2(b, r.take(3 + fractionSize(column.fsp ?? 0)), column.fsp ?? 0);
    case T.DATETIME:
      return decodeDatetimeOld(b, r.take(8));
    case T.DATETIME2:
      return decodeDatetime2(b, r.take(5 + fractionSize(column.fsp ?? 0)), column.fsp ?? 0);
    case T.TIMESTAMP:
      return decodeTimestampOld(b, r.take(4));
    case T.TIMESTAMP2:
      return decodeTimestamp2(b, r.take(4 + fractionSize(column.fsp ?? 0)), column.fsp ?? 0);
    case T.YEAR:
      return decodeYear(b, r.take(1));
    case T.BIT:
      return bitText(r.bytes(Math.floor(((column.bits ?? 0) + 7) / 8)));
    case T.ENUM: {
      const index = r.uint(column.packSize ?? 1);
      if (!column.enumLabels) return new ValueProblem(`column ${column.name}: ENUM labels unknown (index ${index})`);
      const text = enumText(index, column.enumLabels);
      return text ?? new ValueProblem(`column ${column.name}: ENUM index ${index} is not a label of ${column.nativeType}`);
    }
    case T.SET: {
      const size = column.packSize ?? 1;
      const at = r.take(size);
      let bits = 0n;
      for (let i = size - 1; i >= 0; i--) bits = (bits << 8n) | BigInt(b[at + i]!);
      if (!column.setLabels) return new ValueProblem(`column ${column.name}: SET labels unknown (bits ${bits})`);
      return setText(bits, column.setLabels) ?? new ValueProblem(`column ${column.name}: SET bits ${bits} name no label of ${column.nativeType}`);
    }
    case T.VARCHAR:
    case T.VAR_STRING:
    case T.STRING: {
      const length = r.uint((column.maxLength ?? 0) > 255 ? 2 : 1);
      if (column.utf8) return b.toString('utf8', r.take(length), r.offset);
      if (isBinaryCharset(column.charset)) {
        const bytes = r.bytes(length);
        // BINARY(n) is padded with zero bytes to n; the binlog drops the padding, a query keeps it.
        if (column.type === T.STRING && column.maxLength !== undefined && bytes.length < column.maxLength) {
          const padded = new Uint8Array(column.maxLength);
          padded.set(bytes);
          return padded;
        }
        return Uint8Array.from(bytes);
      }
      return textValue(b, r.take(length), r.offset, column);
    }
    case T.BLOB:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB: {
      const length = r.uint(column.lengthSize ?? 2);
      if (column.utf8) return b.toString('utf8', r.take(length), r.offset);
      if (isBinaryCharset(column.charset)) return Uint8Array.from(r.bytes(length));
      return textValue(b, r.take(length), r.offset, column);
    }
    case T.JSON: {
      const bytes = r.bytes(r.uint(column.lengthSize ?? 4));
      try {
        return decodeJsonBinary(bytes);
      } catch (error) {
        return new ValueProblem(`column ${column.name}: binary JSON cannot be decoded (${(error as Error).message})`);
      }
    }
    case T.GEOMETRY:
      return Uint8Array.from(r.bytes(r.uint(column.lengthSize ?? 4)));
    default:
      throw new BinlogDecodeError(`column ${column.name}: binlog type ${column.type} is not supported`);
  }
}

/** `buffer[start..end)` as text in the column's character set (read in place: no view made for latin1). */
function textValue(buffer: Buffer, start: number, end: number, column: BinlogColumn): SourceValue | ValueProblem {
  return decodeTextRange(buffer, start, end, column.charset!) ?? new ValueProblem(`column ${column.name}: character set ${column.charset} is not supported`);
}

/** One row image: column name -> value; a column absent from the image is absent here. */
export interface RowImage {
  values: Record<string, SourceValue>;
  /** Columns the image does not carry (binlog_row_image not FULL). */
  missing?: string[];
  errors?: string[];
}

export interface RowsEvent {
  tableId: number;
  /** insert, update or delete */
  kind: 'write' | 'update' | 'delete';
  rows: Array<{ before?: RowImage; after?: RowImage }>;
}

const ROWS_KIND: Record<number, RowsEvent['kind']> = {
  23: 'write',
  24: 'update',
  25: 'delete',
  30: 'write',
  31: 'update',
  32: 'delete',
};

/** The table id of a rows event, to find its table map before decoding the rows. */
export function rowsTableId(body: Buffer): number {
  return new Reader(body).uint(6);
}

function readImage(r: Reader, columns: BinlogColumn[], present: Buffer): RowImage {
  const presentCount = columns.reduce((n, _, i) => n + ((present[i >> 3]! >> (i & 7)) & 1), 0);
  const nulls = r.bytes(Math.floor((presentCount + 7) / 8));
  const image: RowImage = { values: {} };
  let k = 0;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    if (((present[i >> 3]! >> (i & 7)) & 1) === 0) {
      (image.missing ??= []).push(column.name);
      continue;
    }
    const isNull = ((nulls[k >> 3]! >> (k & 7)) & 1) === 1;
    k += 1;
    if (isNull) {
      image.values[column.name] = null;
      continue;
    }
    const value = readValue(r, column);
    if (value instanceof ValueProblem) (image.errors ??= []).push(value.message);
    else image.values[column.name] = value;
  }
  return image;
}

export function parseRowsEvent(code: number, body: Buffer, columns: BinlogColumn[]): RowsEvent {
  const kind = ROWS_KIND[code];
  if (!kind) throw new BinlogDecodeError(`event type ${code} is not a rows event`);
  const r = new Reader(body);
  const tableId = r.uint(6);
  r.uint(2); // flags
  if (code >= 30) {
    const extra = r.uint(2);
    r.bytes(extra - 2);
  }
  const count = r.lenenc();
  if (count !== columns.length) {
    throw new BinlogDecodeError(`rows event has ${count} columns, its table map ${columns.length}`);
  }
  const bitmapSize = Math.floor((count + 7) / 8);
  const present = r.bytes(bitmapSize);
  const present2 = kind === 'update' ? r.bytes(bitmapSize) : present;
  const rows: RowsEvent['rows'] = [];
  while (r.remaining > 0) {
    if (kind === 'write') rows.push({ after: readImage(r, columns, present) });
    else if (kind === 'delete') rows.push({ before: readImage(r, columns, present) });
    else {
      const before = readImage(r, columns, present);
      rows.push({ before, after: readImage(r, columns, present2) });
    }
  }
  return { tableId, kind, rows };
}

/** A transaction's GTID event. */
export interface GtidEvent {
  /** "domain-server-seq" (MariaDB) or "uuid:gno" (MySQL); undefined for anonymous transactions. */
  gtid?: string;
  domain?: number;
  serverId?: number;
  seq?: bigint;
  /** MariaDB: a single statement outside BEGIN..COMMIT (DDL) follows, with no commit event. */
  standalone: boolean;
  /** Commit time in microseconds since the epoch, where the event carries it (MySQL 8). */
  commitMicros?: bigint;
}

const MARIADB_FL_STANDALONE = 1;

export function parseMariadbGtid(body: Buffer, serverId: number): GtidEvent {
  const r = new Reader(body);
  const seq = r.u64();
  const domain = r.uint(4);
  const flags = r.u8();
  return { gtid: `${domain}-${serverId}-${seq}`, domain, serverId, seq, standalone: (flags & MARIADB_FL_STANDALONE) !== 0 };
}

export function parseMysqlGtid(body: Buffer, anonymous: boolean): GtidEvent {
  const r = new Reader(body);
  r.u8(); // flags
  const sid = r.bytes(16).toString('hex');
  const gno = r.u64();
  const event: GtidEvent = { standalone: false };
  if (!anonymous) {
    event.gtid = `${sid.slice(0, 8)}-${sid.slice(8, 12)}-${sid.slice(12, 16)}-${sid.slice(16, 20)}-${sid.slice(20)}:${gno}`;
  }
  // logical clock (type 2, last_committed, sequence_number), then the commit timestamps.
  if (r.remaining >= 17 && r.u8() === 2) {
    r.bytes(16);
    if (r.remaining >= 7) {
      // immediate_commit_timestamp; its top bit says original_commit_timestamp follows (replicated
      // transactions): that one is when the transaction committed at its origin.
      const immediate = r.uintBig(7);
      const hasOriginal = (immediate & (1n << 55n)) !== 0n;
      const micros = immediate & ((1n << 55n) - 1n);
      event.commitMicros = hasOriginal && r.remaining >= 7 ? r.uintBig(7) & ((1n << 55n) - 1n) : micros;
    }
  }
  return event;
}
