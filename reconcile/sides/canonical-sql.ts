/**
 * The canonical text of a mapped value, computed in PostgreSQL: the SQL twin of normalize.ts
 * canonicalFieldText / canonicalKeyText / rowText / rowHash, byte for byte. Shared by the
 * postgres target (a column holding the mapped value) and the PostgreSQL source when its
 * mapping is SQL-exact (an expression reproducing the mapped value from the legacy column,
 * see reconcile/sql-exact.ts).
 *
 * A value on which SQL and normalize.ts disagree costs a row read (the range's checksums
 * differ, its rows are compared in the bridge), never a wrong report; but a mapping that SQL
 * reproduces wrongly would, so only what sql-exact.ts admits is computed this way for a source.
 */
import { quoteIdent } from '../../capture/postgres/connection.ts';
import type { FieldSpec } from '../../src/mapping/types.ts';
import { emptyIsNull, keyKind } from '../normalize.ts';

/** A column as the catalog describes it. */
export interface SqlColumn {
  name: string;
  /** pg_type.typname: int4, numeric, text, bpchar, timestamptz, bytea... */
  typname: string;
  /** pg_type.typcategory: N numeric, S string, B boolean, D date/time, U user (json, bytea)... */
  category: string;
}

export const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/**
 * SQL giving normalize.ts's canonicalFieldText for `expr`, an expression holding the mapped
 * value of this field in the column's type (`column` says which: numeric or text, bytea or not).
 */
export function canonicalExprSql(spec: FieldSpec, expr: string, column: Pick<SqlColumn, 'typname' | 'category'>): string {
  const c = expr;
  switch (spec.type) {
    case 'string': {
      const text = `rtrim(${c}::text, ' ')`;
      return emptyIsNull(spec) ? `NULLIF(${text}, '')` : text;
    }
    case 'integer':
    case 'bigint':
    case 'decimal':
      return column.category === 'N'
        ? `trim_scale(${c}::numeric)::text`
        : `trim_scale(NULLIF(btrim(${c}::text), '')::numeric)::text`;
    case 'boolean':
      return `CASE lower(${c}::text) WHEN 't' THEN 'true' WHEN 'true' THEN 'true' WHEN 'f' THEN 'false' WHEN 'false' THEN 'false' ELSE ${c}::text END`;
    case 'date':
      return `CASE WHEN ${c}::text ~ '^\\d{4}-\\d{2}-\\d{2}($|[T ])' THEN left(${c}::text, 10) ELSE ${c}::text END`;
    case 'timestamp':
      return `(regexp_replace(to_char(${c}::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z')`;
    case 'json':
      return `${c}::jsonb::text`;
    case 'bytes':
      return column.typname === 'bytea' ? `translate(encode(${c}, 'base64'), E'\\n', '')` : `regexp_replace(${c}::text, '\\s+', '', 'g')`;
  }
}

/** SQL giving normalize.ts's canonicalFieldText for a column holding this field's mapped value. */
export function canonicalSql(spec: FieldSpec, column: SqlColumn): string {
  return canonicalExprSql(spec, quoteIdent(column.name), column);
}

/**
 * The row hash in SQL: the same as normalize.ts rowHash(rowText(...)), as a signed bigint.
 * Each part is `<char_length>:<text>`, or `~` for NULL (the concatenation is NULL then).
 */
export function rowHashSql(parts: readonly string[]): string {
  const tokens = parts.map((e) => `coalesce(char_length(${e})::text || ':' || (${e}), '~')`);
  return `('x' || substr(md5(concat_ws(',', ${tokens.join(', ')})), 1, 16))::bit(64)::bigint`;
}

/** A key field as an expression ordered like keyComparator, and the cast of a bound value. */
export function keySql(spec: FieldSpec, column: SqlColumn): { expr: string; cast: string } {
  const c = quoteIdent(column.name);
  switch (keyKind(spec)) {
    case 'number':
      if (INTEGER_TYPES.has(column.typname)) return { expr: c, cast: 'int8' };
      return { expr: column.category === 'N' ? c : `${c}::numeric`, cast: 'numeric' };
    case 'boolean':
      return { expr: `${c}::boolean`, cast: 'boolean' };
    case 'timestamp':
      if (column.typname === 'timestamptz' || column.typname === 'timestamp') return { expr: c, cast: column.typname };
      return { expr: `${c}::timestamptz`, cast: 'timestamptz' };
    default:
      if (spec.type === 'date' && column.typname === 'date') return { expr: c, cast: 'date' };
      return { expr: column.category === 'S' ? `${c} COLLATE "C"` : `${c}::text COLLATE "C"`, cast: 'text' };
  }
}

/** `ROW(a, b)` for several expressions, the expression itself for one. */
export function tupleSql(exprs: readonly string[]): string {
  return exprs.length === 1 ? exprs[0]! : `ROW(${exprs.join(', ')})`;
}

const TWO_64 = 1n << 64n;

/** A SQL sum of signed 64-bit row hashes (numeric text, or null for none) as the checksum's 16 hex digits. */
export function checksumFromSqlSum(sum: string | null): string {
  const value = BigInt(sum ?? '0');
  return (((value % TWO_64) + TWO_64) % TWO_64).toString(16).padStart(16, '0');
}
