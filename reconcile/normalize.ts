/**
 * Normalization: one canonical text per mapped value, so that the same value held in
 * different shapes compares equal ("12.30" and 12.3, "…:00.000Z" and "…:00Z", "AB   " from
 * a CHAR column and "AB" from a varchar, "" and NULL where the mapping makes "" NULL) and
 * only real differences reach the review queue.
 *
 * The rules are per mapping field type, because the mapping is what says what a value
 * means. A value that does not parse as its type keeps its plain text (it then differs
 * from any well-formed value, which is what a reviewer should see).
 *
 * The PostgreSQL target computes the same texts in SQL (sides/postgres-target.ts); a value
 * on which the two disagree costs a needless row read, never a wrong report, because rows
 * are always compared with these functions.
 */
import { normalizeDecimal } from '../src/mapping/numbers.ts';
import type { FieldSpec, JsonObject, JsonValue } from '../src/mapping/types.ts';
import type { CompareSpec, Key, KeyKind } from './types.ts';
import { pgHashText } from './pg-hash.ts';

const TRAILING_BLANKS = / +$/;
const DATE_PREFIX = /^(\d{4}-\d{2}-\d{2})(?:$|[T ])/;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** "12.300" -> "12.3", "12.000" -> "12", "-0.00" -> "0"; undefined if not a decimal. */
export function canonicalDecimal(text: string): string | undefined {
  const normalized = normalizeDecimal(text.trim());
  if (normalized === undefined) return undefined;
  let out = normalized;
  if (out.includes('.')) out = out.replace(/0+$/, '').replace(/\.$/, '');
  return out === '-0' ? '0' : out;
}

/**
 * An instant as "YYYY-MM-DDTHH:MM:SS[.fraction]Z" in UTC with the fraction's trailing zeros
 * dropped. Zone-less text is taken as UTC (the envelope's timestamps are UTC).
 */
export function canonicalTimestamp(text: string): string | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (m === null) return undefined;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  let date = m[1]!;
  let time = m[2]!;
  const zone = m[4];
  if (zone !== undefined && zone !== 'Z' && !/^[+-]00(:?00)?$/.test(zone)) {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
    const ms = Date.parse(`${date}T${time}Z`) - offsetMinutes * 60_000;
    if (Number.isNaN(ms)) return undefined;
    const iso = new Date(ms).toISOString();
    date = iso.slice(0, 10);
    time = iso.slice(11, 19);
  }
  return `${date}T${time}${fraction === '' ? '' : '.' + fraction}Z`;
}

/**
 * JSON text in the form PostgreSQL prints jsonb (keys ordered by length then bytes, ", " and
 * ": " separators), so a jsonb target column can be hashed in SQL to the same text.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(', ')}]`;
  const keys = Object.keys(value).sort((a, b) => {
    const la = Buffer.byteLength(a);
    const lb = Buffer.byteLength(b);
    return la !== lb ? la - lb : Buffer.compare(Buffer.from(a), Buffer.from(b));
  });
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${canonicalJson(value[k]!)}`).join(', ')}}`;
}

function plainText(value: JsonValue): string {
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function bytesText(value: JsonValue): string {
  const text = plainText(value);
  // A bytea column read as text ("\x0a1b") or JSON ("\\x0a1b"): hex -> base64.
  if (/^\\x[0-9a-fA-F]*$/.test(text)) return Buffer.from(text.slice(2), 'hex').toString('base64');
  return text.replace(/\s+/g, '');
}

function booleanText(value: JsonValue): string {
  if (typeof value === 'boolean') return String(value);
  const text = plainText(value).trim().toLowerCase();
  if (text === 't' || text === 'true') return 'true';
  if (text === 'f' || text === 'false') return 'false';
  return plainText(value);
}

/** Whether the mapping makes an empty string NULL for this field (`nullIf: [""]`). */
export function emptyIsNull(spec: FieldSpec): boolean {
  return spec.nullIf?.includes('') ?? false;
}

/** The canonical text of one mapped value (null for NULL). */
export function canonicalFieldText(spec: FieldSpec, value: JsonValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  switch (spec.type) {
    case 'string': {
      if (typeof value === 'object') return canonicalJson(value);
      // Trailing blanks: a CHAR(n) column pads, the copy of it may not.
      const text = plainText(value).replace(TRAILING_BLANKS, '');
      return text === '' && emptyIsNull(spec) ? null : text;
    }
    case 'integer':
    case 'bigint':
    case 'decimal': {
      if (typeof value === 'string' && value === '' && emptyIsNull(spec)) return null;
      const text = typeof value === 'number' ? numberText(value) : plainText(value);
      return canonicalDecimal(text) ?? text;
    }
    case 'boolean':
      return booleanText(value);
    case 'date': {
      const text = plainText(value).trim();
      return DATE_PREFIX.exec(text)?.[1] ?? text;
    }
    case 'timestamp': {
      const text = plainText(value);
      return canonicalTimestamp(text) ?? text;
    }
    case 'json': {
      if (typeof value === 'string') {
        // A json target column read as text.
        try {
          return canonicalJson(JSON.parse(value) as JsonValue);
        } catch {
          return canonicalJson(value);
        }
      }
      return canonicalJson(value);
    }
    case 'bytes':
      return bytesText(value);
  }
}

function numberText(value: number): string {
  // Exponent forms ("1e+21") are expanded by canonicalDecimal.
  return Number.isFinite(value) ? String(value) : String(value);
}

/** How a key field orders, from its mapping type. */
export function keyKind(spec: FieldSpec): KeyKind {
  switch (spec.type) {
    case 'integer':
    case 'bigint':
    case 'decimal':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'timestamp':
      return 'timestamp';
    default:
      return 'text';
  }
}

/**
 * The canonical text of a key value. Unlike values, key strings are taken exactly (no
 * trailing-blank or NULL folding): a key is an identity, and two rows whose keys differ
 * only in blanks are two rows.
 */
export function canonicalKeyText(spec: FieldSpec, value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  switch (keyKind(spec)) {
    case 'number': {
      const text = typeof value === 'number' ? String(value) : plainText(value);
      return canonicalDecimal(text) ?? text;
    }
    case 'boolean':
      return booleanText(value);
    case 'timestamp':
      return canonicalTimestamp(plainText(value)) ?? plainText(value);
    default:
      return spec.type === 'date' ? (DATE_PREFIX.exec(plainText(value))?.[1] ?? plainText(value)) : plainText(value);
  }
}

export function rowKey(spec: CompareSpec, values: JsonObject): Key {
  return spec.keyFields.map((f) => canonicalKeyText(f, values[f.name]));
}

/** The key object of a row: the key fields' values in key order (the envelope's `key`). */
export function keyObjectOf(spec: CompareSpec, values: JsonObject): JsonObject {
  const key: JsonObject = {};
  for (const f of spec.keyFields) key[f.name] = values[f.name] ?? null;
  return key;
}

export function canonicalRow(spec: CompareSpec, values: JsonObject): (string | null)[] {
  return spec.fields.map((f) => canonicalFieldText(f, values[f.name]));
}

/** What makes PostgreSQL's record_out quote a field: `"`, `\\`, `(`, `)`, `,` and the ASCII spaces. */
const RECORD_QUOTE = /["\\(),\t\n\v\f\r ]/;

/**
 * The text a row hash is taken of: the canonical texts as PostgreSQL prints a row of them
 * (`ROW(...)::text`, record_out): `(a,b,c)`, NULL as nothing, the empty string as `""`, a field
 * holding a quote, backslash, parenthesis, comma or space in double quotes with `"` and `\`
 * doubled. Unambiguous (it parses back), and PostgreSQL builds it in one pass.
 */
export function rowText(canonical: readonly (string | null)[]): string {
  let out = '(';
  for (let i = 0; i < canonical.length; i++) {
    if (i > 0) out += ',';
    const text = canonical[i];
    if (text === null || text === undefined) continue;
    if (text === '') out += '""';
    else if (!RECORD_QUOTE.test(text)) out += text;
    else out += `"${text.replace(/["\\]/g, '$&$&')}"`;
  }
  return out + ')';
}

/**
 * The row hash: PostgreSQL's `hashtextextended(text, 0)` of the row text (pg-hash.ts), as two
 * unsigned 32-bit halves, so a side summing it in SQL and a side summing it here agree.
 */
export function rowHash(text: string): [hi: number, lo: number] {
  return pgHashText(text);
}

export function hashRow(spec: CompareSpec, values: JsonObject): [hi: number, lo: number] {
  return rowHash(rowText(canonicalRow(spec, values)));
}

// ---- key order ------------------------------------------------------------------------

/**
 * UTF-16 code units compare like code points except for surrogates against U+E000..U+FFFF;
 * shifting both groups fixes that, so strings order like UTF-8 bytes (PostgreSQL's
 * COLLATE "C").
 */
function fixUnit(c: number): number {
  if (c >= 0xe000) return c - 0x800;
  if (c >= 0xd800) return c + 0x2000;
  return c;
}

export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixUnit(x) - fixUnit(y);
  }
  return a.length - b.length;
}

/** Exact comparison of two canonical decimal texts ("-12.5", "3", "0.001"). */
export function compareDecimalText(a: string, b: string): number {
  if (a === b) return 0;
  const negA = a.startsWith('-');
  const negB = b.startsWith('-');
  if (negA !== negB) return negA ? -1 : 1;
  const magnitude = compareMagnitude(negA ? a.slice(1) : a, negB ? b.slice(1) : b);
  return negA ? -magnitude : magnitude;
}

function compareMagnitude(a: string, b: string): number {
  const pa = a.indexOf('.');
  const pb = b.indexOf('.');
  if (pa < 0 && pb < 0) {
    // Integers (the usual key): longer is larger, equal lengths compare digit by digit.
    if (a.length !== b.length) return a.length - b.length;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const [ia = '', fa = ''] = a.split('.');
  const [ib = '', fb = ''] = b.split('.');
  if (ia.length !== ib.length) return ia.length - ib.length;
  if (ia !== ib) return ia < ib ? -1 : 1;
  const width = Math.max(fa.length, fb.length);
  const x = fa.padEnd(width, '0');
  const y = fb.padEnd(width, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

function compareTimestampText(a: string, b: string): number {
  // "YYYY-MM-DDTHH:MM:SS[.f]Z": the seconds part is fixed width, the fraction is not.
  const sa = a.slice(0, 19);
  const sb = b.slice(0, 19);
  if (sa !== sb) return sa < sb ? -1 : 1;
  const fa = a.slice(20).replace(/Z$/, '');
  const fb = b.slice(20).replace(/Z$/, '');
  const width = Math.max(fa.length, fb.length);
  const x = fa.padEnd(width, '0');
  const y = fb.padEnd(width, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

export function comparePart(kind: KeyKind, a: string, b: string): number {
  switch (kind) {
    case 'number':
      return compareDecimalText(a, b);
    case 'timestamp':
      return compareTimestampText(a, b);
    case 'boolean':
      return a === b ? 0 : a === 'false' ? -1 : 1;
    default:
      return compareCodePoints(a, b);
  }
}

export type KeyComparator = (a: Key, b: Key) => number;

/** Lexicographic order of keys, each part by its field's kind. */
export function keyComparator(kinds: readonly KeyKind[]): KeyComparator {
  if (kinds.length === 1) {
    const kind = kinds[0]!;
    return (a, b) => comparePart(kind, a[0]!, b[0]!);
  }
  return (a, b) => {
    for (let i = 0; i < kinds.length; i++) {
      const c = comparePart(kinds[i]!, a[i]!, b[i]!);
      if (c !== 0) return c;
    }
    return 0;
  };
}

export function keyKinds(spec: CompareSpec): KeyKind[] {
  return spec.keyFields.map(keyKind);
}

export function inRange(compare: KeyComparator, range: { from?: Key; to?: Key }, key: Key): boolean {
  return (range.from === undefined || compare(key, range.from) >= 0) && (range.to === undefined || compare(key, range.to) < 0);
}

/** A map key for a Key. */
export function keyId(key: Key): string {
  return JSON.stringify(key);
}
