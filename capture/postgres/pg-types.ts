import type { SourceColumnKind, SourceValue } from '../../src/mapping/types.ts';

/**
 * Built-in type OIDs -> the mapping engine's column kinds. pgoutput's relation message
 * carries only the OID for built-in types (typeName is null), so this table is the source
 * of truth; anything not listed (enums, domains, arrays, ranges) keeps its text form.
 */
const KIND_BY_OID = new Map<number, SourceColumnKind>([
  [16, 'boolean'],
  [17, 'bytes'],
  [18, 'text'],
  [19, 'text'],
  [20, 'integer'],
  [21, 'integer'],
  [23, 'integer'],
  [25, 'text'],
  [26, 'integer'],
  [114, 'json'],
  [700, 'float'],
  [701, 'float'],
  [1042, 'text'],
  [1043, 'text'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1700, 'decimal'],
  [2950, 'text'],
  [3802, 'json'],
]);

export function kindForOid(oid: number): SourceColumnKind {
  return KIND_BY_OID.get(oid) ?? 'other';
}

/**
 * The server's text output -> canonical SourceValue. Sessions run with DateStyle=ISO and
 * TimeZone=UTC (see connection.ts), so timestamps arrive as "YYYY-MM-DD HH:MM:SS[.f]" and
 * timestamptz with an explicit "+00" offset: nothing passes through a JS Date.
 */
export function pgTextToSourceValue(kind: SourceColumnKind, text: string | null): SourceValue {
  if (text === null) return null;
  switch (kind) {
    case 'boolean':
      return text === 't' ? 'true' : text === 'f' ? 'false' : text;
    case 'bytes':
      return byteaToBytes(text);
    default:
      return text;
  }
}

/** bytea hex output ("\x0a1b"); the escape format is not used since PostgreSQL 9.0's default. */
export function byteaToBytes(text: string): Uint8Array {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  return Buffer.from(text, 'latin1');
}
