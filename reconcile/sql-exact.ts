/**
 * Whether a mapping is "SQL-exact": every field's mapped value, as normalize.ts canonicalizes
 * it, can be computed by PostgreSQL from the legacy column byte for byte (canonical-sql.ts).
 * Only then may the PostgreSQL source side compute its count and checksum in SQL instead of
 * reading and mapping every row in the bridge.
 *
 * Conservative by design: a checksum that says "equal" where the bridge would map differently
 * hides drift, so anything not listed here (codes, formats, legacy boolean spellings,
 * `nullIf` beyond [""], a zone-less timestamp read in a zone other than UTC, float columns,
 * domains, enums, `json` (not jsonb) columns, `unmapped: keep`, ...) sends the mapping to the
 * scan. Rows the engine may still refuse (a number beyond a JSON-safe integer, an infinite or
 * BC date) are recognized by `mappableSql` and made to differ (see sides/postgres-sql-source.ts).
 */
import type { FieldSpec, Mapping } from '../src/mapping/types.ts';
import { INTEGER_TYPES, PG_HASH_MIN_VERSION } from './sides/canonical-sql.ts';

/** pg_type.typname of the built-in types the rules know, by OID (domains and the rest are unknown). */
export const TYPNAME_BY_OID: ReadonlyMap<number, string> = new Map([
  [16, 'bool'],
  [17, 'bytea'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [114, 'json'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1700, 'numeric'],
  [3802, 'jsonb'],
]);

const NUMERIC = new Set([...INTEGER_TYPES, 'numeric']);
const TEXT = new Set(['text', 'varchar', 'bpchar']);
/** Zone names the engine reads as UTC and PostgreSQL knows as UTC. */
const UTC_ZONES = new Set(['UTC', 'Etc/UTC']);

/**
 * What JavaScript's String.prototype.trim() removes (the engine's `trim: true`): WhiteSpace and
 * LineTerminator of ECMA-262, i.e. TAB, LF, VT, FF, CR, SPACE, NBSP, the Unicode Zs spaces,
 * LS, PS and BOM. The SQL trims exactly these (btrim with this set); the unit test checks the
 * list against the running engine over every code point.
 */
export const JS_TRIM_CODE_POINTS: readonly number[] = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
  0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];

export interface SqlExactInput {
  mapping: Mapping;
  /** The source table's columns: name -> pg_type.typname (undefined type when unknown). */
  columns: ReadonlyMap<string, string | undefined>;
  /** The key columns the run uses (the mapping's key or the primary key), in key order. */
  keyColumns: readonly string[];
  /** The source's `timezone:` (zone of zone-less timestamps for fields without their own). */
  defaultTimezone: string;
  /** SHOW server_encoding / DateStyle / TimeZone / server_version_num of the session that would run the SQL. */
  session?: { serverEncoding: string; dateStyle: string; timeZone: string; versionNum?: number };
}

export type SqlExactVerdict = { exact: true } | { exact: false; reasons: string[] };

function onlyEmptyNullIf(spec: FieldSpec): boolean {
  return spec.nullIf === undefined || spec.nullIf.every((v) => v === '');
}

/** Why this field is not SQL-exact from a column of this type; undefined when it is. */
export function fieldProblem(spec: FieldSpec, typname: string | undefined, defaultTimezone: string): string | undefined {
  const name = `field ${spec.name} (column ${spec.from}${typname ? `, ${typname}` : ''})`;
  if (typname === undefined) return `${name}: column type not known to the SQL rules`;
  if (spec.codes !== undefined) return `${name}: codes`;
  if (spec.default !== undefined) return `${name}: default`;
  if (spec.format !== undefined) return `${name}: format`;
  if (spec.trueValues !== undefined || spec.falseValues !== undefined) return `${name}: trueValues/falseValues`;
  if (!onlyEmptyNullIf(spec)) return `${name}: nullIf other than [""]`;
  switch (spec.type) {
    case 'string':
      return TEXT.has(typname) ? undefined : `${name}: string from a non-text column`;
    case 'integer':
    case 'bigint':
    case 'decimal':
      return NUMERIC.has(typname) ? undefined : `${name}: ${spec.type} from a non-numeric column`;
    case 'boolean':
      return typname === 'bool' ? undefined : `${name}: boolean from a non-boolean column`;
    case 'date':
      return typname === 'date' ? undefined : `${name}: date from a column that is not date`;
    case 'timestamp': {
      if (typname === 'timestamptz') return undefined;
      if (typname !== 'timestamp') return `${name}: timestamp from a column that is not timestamp/timestamptz`;
      const zone = spec.timezone ?? defaultTimezone;
      return UTC_ZONES.has(zone) ? undefined : `${name}: zone-less timestamp read in ${zone} (only UTC is computed in SQL)`;
    }
    case 'json':
      return typname === 'jsonb' ? undefined : `${name}: json from a column that is not jsonb`;
    case 'bytes':
      return typname === 'bytea' ? undefined : `${name}: bytes from a column that is not bytea`;
  }
}

/** Why this key field cannot bound ranges in SQL in the canonical key order; undefined when it can. */
export function keyProblem(spec: FieldSpec, typname: string | undefined): string | undefined {
  const name = `key field ${spec.name} (column ${spec.from})`;
  if (spec.trim) return `${name}: trim`;
  if (spec.nullIf !== undefined && spec.nullIf.length > 0) return `${name}: nullIf`;
  switch (spec.type) {
    case 'integer':
    case 'bigint':
    case 'decimal':
    case 'boolean':
    case 'date':
    case 'timestamp':
      return undefined; // the field rules already tied the column type to the field type
    case 'string':
      return typname === 'text' || typname === 'varchar' ? undefined : `${name}: string key from ${typname} (padding)`;
    default:
      return `${name}: ${spec.type} keys do not order like their columns`;
  }
}

export function sqlExact(input: SqlExactInput): SqlExactVerdict {
  const { mapping, columns, keyColumns, defaultTimezone, session } = input;
  const reasons: string[] = [];
  if (session) {
    if (session.serverEncoding.toUpperCase() !== 'UTF8') reasons.push(`server_encoding ${session.serverEncoding} (the row hash and char_length need UTF8)`);
    if (session.versionNum !== undefined && session.versionNum < PG_HASH_MIN_VERSION) reasons.push(`PostgreSQL ${session.versionNum} has no hashtextextended() (11 or later)`);
    if (!/^ISO\b/i.test(session.dateStyle)) reasons.push(`DateStyle ${session.dateStyle}`);
    if (!UTC_ZONES.has(session.timeZone)) reasons.push(`TimeZone ${session.timeZone}`);
  }
  if (mapping.unmapped === 'keep') reasons.push('unmapped: keep');
  if (mapping.unmapped === 'error') {
    const used = new Set(mapping.fields.map((f) => f.from));
    const unused = [...columns.keys()].filter((c) => !used.has(c));
    if (unused.length > 0) reasons.push(`unmapped: error with unmapped columns ${unused.join(', ')}`);
  }
  if (keyColumns.length === 0) reasons.push('no key columns');
  for (const spec of mapping.fields) {
    if (!columns.has(spec.from)) {
      reasons.push(`field ${spec.name}: no column ${spec.from}`);
      continue;
    }
    const problem = fieldProblem(spec, columns.get(spec.from), defaultTimezone);
    if (problem) reasons.push(problem);
  }
  for (const column of keyColumns) {
    const spec = mapping.fields.find((f) => f.from === column);
    if (spec === undefined) {
      reasons.push(`key column ${column} is not mapped`);
      continue;
    }
    const problem = keyProblem(spec, columns.get(column));
    if (problem) reasons.push(problem);
  }
  return reasons.length === 0 ? { exact: true } : { exact: false, reasons };
}

/** The field's columns as the SQL rules name their types. */
export function typnamesOf(columns: ReadonlyMap<string, { typeOid: number }>): Map<string, string | undefined> {
  return new Map([...columns].map(([name, c]) => [name, TYPNAME_BY_OID.get(c.typeOid)]));
}

export function isIntegerType(typname: string): boolean {
  return INTEGER_TYPES.has(typname);
}
