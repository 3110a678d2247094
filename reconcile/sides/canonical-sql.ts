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
import { subRanges } from '../bisect.ts';
import { emptyIsNull, keyKind, type KeyComparator } from '../normalize.ts';
import type { Key, KeyRange, RangeSummary } from '../types.ts';

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
 * `trimmed`: the expression is a string already trimmed in SQL (no trailing space to drop).
 */
export function canonicalExprSql(spec: FieldSpec, expr: string, column: Pick<SqlColumn, 'typname' | 'category'>, trimmed = false): string {
  const c = expr;
  switch (spec.type) {
    case 'string': {
      const text = withoutTrailingSpacesSql(c, column.typname, trimmed);
      return emptyIsNull(spec) ? `NULLIF(${text}, '')` : text;
    }
    case 'integer':
    case 'bigint':
    case 'decimal':
      // An integer's text is already the canonical decimal: no numeric round trip a row.
      if (INTEGER_TYPES.has(column.typname)) return `${c}::text`;
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

/**
 * The text of a string value without its trailing spaces (U+0020 only, normalize.ts's
 * TRAILING_BLANKS), as `rtrim(x::text, ' ')` gives it but cheaper where that can be seen from the
 * type: rtrim walks the whole string a character at a time (UTF8: ~200 ns a 64-character value,
 * a sixth of a 1M-row checksum query), so a text or varchar value goes through it only when it
 * ends in a space (LIKE, under "C" so that no collation can refuse it, matches from the end
 * byte by byte); a bpchar's cast to text already drops its trailing spaces, and a value trimmed
 * in SQL has none.
 */
function withoutTrailingSpacesSql(c: string, typname: string, trimmed: boolean): string {
  if (trimmed || typname === 'bpchar') return `${c}::text`;
  if (typname !== 'text' && typname !== 'varchar') return `rtrim(${c}::text, ' ')`;
  const text = `${c}::text`;
  return `CASE WHEN ${text} COLLATE "C" LIKE '% ' THEN rtrim(${text}, ' ') ELSE ${text} END`;
}

/** SQL giving normalize.ts's canonicalFieldText for a column holding this field's mapped value. */
export function canonicalSql(spec: FieldSpec, column: SqlColumn): string {
  return canonicalExprSql(spec, quoteIdent(column.name), column);
}

/** server_version_num from which PostgreSQL has hashtextextended(). */
export const PG_HASH_MIN_VERSION = 110000;

/**
 * The row hash in SQL: the same as normalize.ts rowHash(rowText(...)), as a signed bigint:
 * `hashtextextended` (PostgreSQL 11 and later) of the row of canonical texts as record_out
 * prints it (NULL as nothing, "" for empty, quoted where needed), each expression evaluated
 * once. "C" so no collation can change the bytes hashed.
 */
export function rowHashSql(parts: readonly string[]): string {
  return `hashtextextended(ROW(${parts.join(', ')})::text COLLATE "C", 0)`;
}

/** A key field in SQL: an expression ordered like keyComparator, and the cast of a bound value. */
export interface KeySql {
  expr: string;
  cast: string;
  /**
   * The expression is of the cast's own type (or an integer type narrower than int8), not text:
   * it compares with bound values by that type's one ordering, so width_bucket over `cast`
   * values places a key exactly where the range predicates do. Not text, whose order is the
   * expression's COLLATE "C"; not a float column compared with numeric bounds (the operator
   * then converts one side, and width_bucket might convert the other).
   */
  bucketable: boolean;
}

/** A key field as an expression ordered like keyComparator, and the cast of a bound value. */
export function keySql(spec: FieldSpec, column: SqlColumn): KeySql {
  const c = quoteIdent(column.name);
  switch (keyKind(spec)) {
    case 'number':
      if (INTEGER_TYPES.has(column.typname)) return { expr: c, cast: 'int8', bucketable: true };
      if (column.category === 'N') return { expr: c, cast: 'numeric', bucketable: column.typname === 'numeric' };
      return { expr: `${c}::numeric`, cast: 'numeric', bucketable: true };
    case 'boolean':
      return { expr: `${c}::boolean`, cast: 'boolean', bucketable: true };
    case 'timestamp':
      if (column.typname === 'timestamptz' || column.typname === 'timestamp') return { expr: c, cast: column.typname, bucketable: true };
      return { expr: `${c}::timestamptz`, cast: 'timestamptz', bucketable: true };
    default:
      if (spec.type === 'date' && column.typname === 'date') return { expr: c, cast: 'date', bucketable: true };
      return { expr: column.category === 'S' ? `${c} COLLATE "C"` : `${c}::text COLLATE "C"`, cast: 'text', bucketable: false };
  }
}

/** `ROW(a, b)` for several expressions, the expression itself for one. */
export function tupleSql(exprs: readonly string[]): string {
  return exprs.length === 1 ? exprs[0]! : `ROW(${exprs.join(', ')})`;
}

/** A key as bound parameters, each cast like its key part (pushed onto params). */
export function bindKeySql(keyParts: readonly KeySql[], key: Key, params: unknown[]): string {
  return tupleSql(key.map((value, i) => (params.push(value), `$${params.length}::${keyParts[i]!.cast}`)));
}

/**
 * A side's WHERE condition for a key range: `conditions` (what the side always requires) and
 * the key tuple from `range.from` (inclusive) to `range.to` (exclusive); 'true' for none.
 */
export function rangePredicateSql(keyParts: readonly KeySql[], range: KeyRange, params: unknown[], conditions: readonly string[] = []): string {
  const keyTuple = tupleSql(keyParts.map((p) => p.expr));
  const all = [...conditions];
  if (range.from !== undefined) all.push(`${keyTuple} >= ${bindKeySql(keyParts, range.from, params)}`);
  if (range.to !== undefined) all.push(`${keyTuple} < ${bindKeySql(keyParts, range.to, params)}`);
  return all.length === 0 ? 'true' : all.join(' AND ');
}

const TWO_64 = 1n << 64n;

/** A SQL sum of signed 64-bit row hashes (numeric text, or null for none) as the checksum's 16 hex digits. */
export function checksumFromSqlSum(sum: string | null): string {
  const value = BigInt(sum ?? '0');
  return (((value % TWO_64) + TWO_64) % TWO_64).toString(16).padStart(16, '0');
}

/**
 * What a side's count-and-checksum query is made of. countAndChecksum and the parts' sums of a
 * split are both built from it (rangeSumSql, partSumsSql), so a part's summary is computed
 * over the same rows with the same hash as a query of that part alone.
 */
export interface ChecksumSql {
  /** The FROM item. */
  from: string;
  /** The row hash (rowHashSql or an expression around it). */
  hash: string;
  keyParts: readonly KeySql[];
  /** The side's WHERE condition for a range (also what rows(range) reads), binding into params. */
  predicate(range: KeyRange, params: unknown[]): string;
}

/** A range's count and sum of row hashes: one row `n`, `s` (RangeSummary via checksumFromSqlSum). */
export function rangeSumSql(sql: ChecksumSql, range: KeyRange, params: unknown[]): string {
  return `SELECT count(*)::text AS n, sum(${sql.hash})::text AS s FROM ${sql.from} WHERE ${sql.predicate(range, params)}`;
}

/** A row of partSumsSql: part b (null: in no part) with its count and sum of row hashes. */
export interface PartSumRow {
  b: number | null;
  n: string;
  s: string | null;
}

/**
 * One aggregate giving the count and hash sum of every part subRanges(range, points) cuts the
 * range into, grouped by the part's index `b`: one pass over the range instead of a query per
 * part. A single key whose expression has its bounds' own type (KeySql.bucketable) is placed by
 * width_bucket over the points (bucket b: point b-1 <= key < point b); anything else (text under
 * COLLATE "C", composite keys) by a CASE taking the first part whose range predicate holds,
 * that predicate being the side's own predicate(part) word for word: a part's rows are then
 * exactly the rows a query of the part alone selects, also where a composite key has a NULL in
 * it (comparing ROW(a, NULL) with a bound may be true, false or NULL). Rows in no part (a NULL
 * key where the range is unbounded) get b NULL.
 *
 * Exact only for points in key order strictly inside the range (see pointsInside): the parts
 * must not overlap, or a row would count in the first only.
 */
export function partSumsSql(sql: ChecksumSql, range: KeyRange, points: readonly Key[], params: unknown[]): string {
  const where = sql.predicate(range, params);
  const key = sql.keyParts[0]!;
  let part: string;
  if (sql.keyParts.length === 1 && key.bucketable) {
    params.push(points.map((p) => p[0]!));
    part = `width_bucket(${key.expr}::${key.cast}, $${params.length}::${key.cast}[])`;
  } else {
    const whens = subRanges(range, points).map((sub, b) => `WHEN ${sql.predicate(sub, params)} THEN ${b}`);
    part = `CASE ${whens.join(' ')} END`;
  }
  // OFFSET 0 keeps the planner from pulling the subquery up. Grouped directly, it sorted the
  // rows with every column the hash reads, spilling to disk past a few 10k rows (PostgreSQL 15,
  // 62.5k rows: 1.5x a plain sum of the range); fenced, it groups (part, hash) pairs, as fast as
  // the plain sum there, and faster than the direct grouping at 1M rows too (though without
  // parallel workers, which a plain sum of 1M rows gets on idle cores).
  return `SELECT b, count(*)::text AS n, sum(h)::text AS s
            FROM (SELECT ${part} AS b, ${sql.hash} AS h FROM ${sql.from} WHERE ${where} OFFSET 0) parts
           GROUP BY b`;
}

/** The parts' summaries in order from partSumsSql's rows: a part without rows has count 0; rows in no part are left out. */
export function partSummaries(rows: readonly PartSumRow[], parts: number): RangeSummary[] {
  const byPart = new Map(rows.filter((r) => r.b !== null).map((r) => [Number(r.b), r]));
  return Array.from({ length: parts }, (_, b) => {
    const row = byPart.get(b);
    return { count: row ? Number(row.n) : 0, checksum: checksumFromSqlSum(row?.s ?? null) };
  });
}

/** Points strictly increasing and strictly inside the range: parts that do not overlap. */
export function pointsInside(compare: KeyComparator, range: KeyRange, points: readonly Key[]): boolean {
  return points.every(
    (point, i) =>
      (i === 0 ? range.from === undefined || compare(range.from, point) < 0 : compare(points[i - 1]!, point) < 0) &&
      (range.to === undefined || compare(point, range.to) < 0),
  );
}
