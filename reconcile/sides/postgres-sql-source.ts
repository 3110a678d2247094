/**
 * The PostgreSQL source with its count and checksum computed IN SQL, for mappings that
 * reconcile/sql-exact.ts admits (every field a plain copy PostgreSQL can canonicalize byte
 * for byte): a query gives a range's count(*) and the sum of the same row hashes normalize.ts
 * gives in the bridge (hashtextextended over the record text of the canonical values, see
 * pg-hash.ts), computed from the legacy columns (canonical-sql.ts, shared with the postgres
 * target); a split computes its key quantiles in SQL too (splitPoints), then bisection asks
 * for its parts' sums (summarizeParts, one pass) while the other side sums its own, and a
 * single integer key gives its bounds (keyBounds) for the pre-split root. Nothing but
 * checksums crosses the wire until bisection asks for a small range; `rows(range)` then reads
 * the range and maps it in the bridge with the engine, so the rows compared are exactly what
 * the bridge emits. Everything runs on the run's connection, inside its REPEATABLE READ
 * snapshot (opened by PostgresSourceSide).
 *
 * Rows the engine may refuse (an integer beyond ±2^53-1, an infinite or BC date...) are
 * recognized in SQL and hashed as a random per-run constant instead: their range then always
 * differs, they are read and mapped in the bridge, and a row that does not map is left out of
 * the comparison and counted as unmappable, exactly as the scan does. Rows whose key is NULL
 * never map (no key): they are left out of every range and counted as unmappable at once.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PgTable } from '../../capture/postgres/catalog.ts';
import { quoteIdent, quoteTable } from '../../capture/postgres/connection.ts';
import { rowMapper, type RowMapper } from '../../src/mapping/engine.ts';
import type { FieldSpec, Mapping } from '../../src/mapping/types.ts';
import { keyComparator, keyKinds, keyKind, type KeyComparator } from '../normalize.ts';
import { JS_TRIM_CODE_POINTS, isIntegerType, TYPNAME_BY_OID } from '../sql-exact.ts';
import type { CompareSpec, Key, KeyBounds, KeyRange, RangeSummary, ReconcileSide, SideRow } from '../types.ts';
import { subRanges } from '../bisect.ts';
import {
  canonicalExprSql,
  checksumFromSqlSum,
  keySql,
  partSummaries,
  partSumsSql,
  pointsInside,
  rangePredicateSql,
  rangeSumSql,
  rowHashSql,
  tupleSql,
  type ChecksumSql,
  type KeySql,
  type PartSumRow,
  type SqlColumn,
} from './canonical-sql.ts';
import { columnsOf, toSourceRead } from './postgres-rows.ts';

/** What the side reports its reads into (the PostgresSourceSide the run holds). */
export interface SourceCounters {
  scanned: number;
  unmappable: number;
  /** Unmappable rows found by rows(): these were counted in the SQL counts (NULL-key rows are not). */
  unmappableCounted: number;
}

const MAX_SAFE = '9007199254740991';
export const TRIM_SET = `E'${JS_TRIM_CODE_POINTS.map((c) => `\\u${c.toString(16).padStart(4, '0')}`).join('')}'`;
const FINITE = '-1e1000 AND 1e1000';

function categoryOf(typname: string): string {
  if (typname === 'int2' || typname === 'int4' || typname === 'int8' || typname === 'numeric') return 'N';
  if (typname === 'text' || typname === 'varchar' || typname === 'bpchar') return 'S';
  return 'U';
}

/** A string the engine trims: valueSql trims it in SQL (btrim, whose set holds the space). */
function trimmedInSql(spec: FieldSpec): boolean {
  return spec.type === 'string' && spec.trim;
}

/** The mapped value of a SQL-exact field as an expression over its column. */
function valueSql(spec: FieldSpec, column: SqlColumn): string {
  const c = quoteIdent(column.name);
  if (trimmedInSql(spec)) return `btrim(${c}::text, ${TRIM_SET})`;
  if (spec.type === 'timestamp' && column.typname === 'timestamp') return `(${c} AT TIME ZONE 'UTC')`;
  return c;
}

/** normalize.ts canonicalFieldText of the field's mapped value, computed from its column. */
function fieldCanonicalSql(spec: FieldSpec, column: SqlColumn): string {
  return canonicalExprSql(spec, valueSql(spec, column), column, trimmedInSql(spec));
}

/**
 * A condition true only for values the engine surely maps (a mirror of its refusals, erring
 * towards false: a false "unsure" costs a row read, nothing else).
 */
function mappableSql(spec: FieldSpec, column: SqlColumn): string | undefined {
  const c = quoteIdent(column.name);
  const range = `${c} BETWEEN -${MAX_SAFE} AND ${MAX_SAFE}`;
  switch (spec.type) {
    case 'integer':
      if (column.typname === 'int2' || column.typname === 'int4') return undefined;
      if (column.typname === 'int8') return `(${c} IS NULL OR ${range})`;
      // numeric: "12.00" maps to 12, "12.5" and NaN do not.
      return `(${c} IS NULL OR (${range} AND ${c} = trunc(${c})))`;
    case 'bigint':
      return isIntegerType(column.typname) ? undefined : `(${c} IS NULL OR (${c} BETWEEN ${FINITE} AND ${c} = trunc(${c})))`;
    case 'decimal':
      // NaN and ±Infinity do not map (NaN sorts above every number in PostgreSQL); a finite
      // value beyond ±1e1000 is merely read and mapped in the bridge.
      return isIntegerType(column.typname) ? undefined : `(${c} IS NULL OR ${c} BETWEEN ${FINITE})`;
    case 'date':
      // The engine takes years 0001-9999 ('YYYY-MM-DD'): not infinity, not BC, not 10000+.
      return `(${c} IS NULL OR ${c} BETWEEN '0001-01-01'::date AND '9999-12-31'::date)`;
    case 'timestamp':
      // Years 0001-9999 of the UTC instant (zone-less values are UTC here).
      return `(${c} IS NULL OR ${c} BETWEEN '0001-01-01 00:00:00+00'::${column.typname} AND '9999-12-31 23:59:59.999999+00'::${column.typname})`;
    default:
      return undefined;
  }
}

/** The canonical key text (normalize.ts canonicalKeyText) of a key field, in SQL. */
function keyTextSql(spec: FieldSpec, column: SqlColumn): string {
  const c = quoteIdent(column.name);
  switch (keyKind(spec)) {
    case 'number':
      return `trim_scale(${c}::numeric)::text`;
    case 'boolean':
    case 'timestamp':
      return canonicalExprSql(spec, valueSql(spec, column), column);
    default:
      return `${c}::text`;
  }
}

export class PostgresSqlSourceSide implements ReconcileSide {
  readonly name = 'source';
  private readonly compare: KeyComparator;
  private readonly from: string;
  private readonly keyParts: KeySql[];
  private readonly keyTexts: string[];
  private readonly hash: string;
  /** countAndChecksum and the parts' sums build their queries from this one description. */
  private readonly sql: ChecksumSql;
  /** Rows without a NULL key column (those never map); 'true' when the key is the primary key. */
  private readonly keyNotNull: string;
  private readonly map: RowMapper;
  /** Summaries of ranges already computed: by countAndChecksum, or as the tiles of a split. */
  private readonly summaries = new Map<string, RangeSummary>();
  private nullKeysCounted: Promise<void> | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** One key column ordered by its own type (not text): splits can sum their parts with width_bucket. */
  private readonly bucketable: boolean;
  /** The one key column when it is an integer column with a number key field: keyBounds answers. */
  private readonly integerKey: string | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly table: PgTable,
    private readonly keyColumns: readonly string[],
    spec: CompareSpec,
    mapping: Mapping,
    timezone: string,
    private readonly counters: SourceCounters,
  ) {
    this.compare = keyComparator(keyKinds(spec));
    this.from = quoteTable(table.schema, table.name);
    const column = (f: FieldSpec): SqlColumn => {
      const typname = TYPNAME_BY_OID.get(table.columns.get(f.from)!.typeOid)!;
      return { name: f.from, typname, category: categoryOf(typname) };
    };
    this.keyParts = spec.keyFields.map((f) => keySql(f, column(f)));
    this.keyTexts = spec.keyFields.map((f) => keyTextSql(f, column(f)));
    this.bucketable = spec.keyFields.length === 1 && keyColumns.length === 1 && this.keyParts[0]!.bucketable;
    const keyField = spec.keyFields[0]!;
    this.integerKey =
      spec.keyFields.length === 1 && keyColumns.length === 1 && keyKind(keyField) === 'number' && isIntegerType(column(keyField).typname) ? keyField.from : undefined;
    const canonical = spec.fields.map((f) => fieldCanonicalSql(f, column(f)));
    const mappable = spec.fields.map((f) => mappableSql(f, column(f))).filter((e) => e !== undefined);
    // A random odd 64-bit value per run for rows the engine may refuse: their range's checksum
    // then differs from any target's (but with probability 2^-64) and they are read.
    const poison = BigInt.asIntN(64, randomBytes(8).readBigUInt64BE() | 1n);
    // Inline (no subquery computing each text once): measured cheaper in PostgreSQL 15.
    this.hash = mappable.length === 0 ? rowHashSql(canonical) : `CASE WHEN ${mappable.join(' AND ')} THEN ${rowHashSql(canonical)} ELSE ${poison}::bigint END`;
    const isPrimaryKey = table.primaryKey.length === keyColumns.length && keyColumns.every((k) => table.primaryKey.includes(k));
    this.keyNotNull = isPrimaryKey ? 'true' : `${tupleSql(keyColumns.map(quoteIdent))} IS NOT NULL`;
    this.sql = { from: this.from, hash: this.hash, keyParts: this.keyParts, predicate: (range, params) => this.predicate(range, params) };
    this.map = rowMapper(mapping, keyColumns, { defaultTimezone: timezone });
  }

  /** One query at a time on the run's connection (bisection asks for several ranges at once). */
  private query<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    const result = this.queue.then(() => this.client.query<R>(text, params));
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private predicate(range: KeyRange, params: unknown[]): string {
    return rangePredicateSql(this.keyParts, range, params, this.keyNotNull === 'true' ? [] : [this.keyNotNull]);
  }

  private rangeId(range: KeyRange): string {
    return JSON.stringify([range.from ?? null, range.to ?? null]);
  }

  /** Rows with a NULL key column: unmappable (once per run; none when the key is the primary key). */
  private countNullKeys(): Promise<void> {
    this.nullKeysCounted ??= (async () => {
      if (this.keyNotNull === 'true') return;
      const { rows } = await this.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.from} WHERE NOT (${this.keyNotNull})`);
      this.counters.unmappable += Number(rows[0]!.n);
    })();
    return this.nullKeysCounted;
  }

  async countAndChecksum(range: KeyRange): Promise<RangeSummary> {
    await this.countNullKeys();
    const id = this.rangeId(range);
    const known = this.summaries.get(id);
    if (known) return known;
    const params: unknown[] = [];
    const { rows } = await this.query<{ n: string; s: string | null }>(rangeSumSql(this.sql, range, params), params);
    const summary = { count: Number(rows[0]!.n), checksum: checksumFromSqlSum(rows[0]!.s) };
    this.summaries.set(id, summary);
    return summary;
  }

  /** The range's rows, read in the snapshot and mapped in the bridge; rows that do not map are left out (and counted). */
  async rows(range: KeyRange): Promise<SideRow[]> {
    const params: unknown[] = [];
    const result = await this.query<Record<string, string | null>>(`SELECT * FROM ${this.from} WHERE ${this.predicate(range, params)}`, params);
    const columns = columnsOf(this.table, result.fields);
    const out: SideRow[] = [];
    for (const raw of result.rows) {
      this.counters.scanned += 1;
      const { row, sourceKey } = toSourceRead(raw, columns, this.keyColumns);
      const mapped = this.map(row, columns);
      if (mapped.ok) out.push({ values: mapped.after, sourceKey });
      else {
        this.counters.unmappable += 1;
        this.counters.unmappableCounted += 1;
      }
    }
    return out;
  }

  /**
   * Key quantiles of the range, computed in SQL: one pass over the range in key order numbers
   * the rows and cuts them into `parts` tiles of about equal size. Where that pass reads whole
   * rows anyway (a composite or text key) and the key is the table's primary key (unique: a
   * tile is exactly the rows between two split points), it sums each tile's row hashes too, so
   * the summarizeParts bisection asks next is answered without another query; otherwise
   * summarizeParts sums the parts in one aggregate, concurrently with the other side's sums.
   */
  async splitPoints(range: KeyRange, parts: number): Promise<Key[]> {
    const count = this.summaries.get(this.rangeId(range))?.count ?? (await this.countAndChecksum(range)).count;
    if (count < 2) return [];
    if (this.bucketable) return this.splitByBuckets(range, parts, count);
    const unique = this.keyNotNull === 'true';
    const params: unknown[] = [];
    const where = this.predicate(range, params);
    params.push(count, parts);
    const n = `$${params.length - 1}::bigint`;
    const p = `$${params.length}::bigint`;
    const keyOrder = this.keyParts.map((k) => k.expr).join(', ');
    // The first row of tile t is row ceil(t * n / parts) (0-based); only there is the key text computed.
    const first = `r = (t * ${n} + ${p} - 1) / ${p}`;
    const { rows } = await this.query<Record<string, string | null>>(
      `SELECT t::int AS t, count(*)::text AS n, ${unique ? `sum(h)::text` : 'NULL'} AS s,
              ${this.keyTexts.map((text, i) => `max(CASE WHEN ${first} THEN ${text} END) AS k${i}`).join(', ')}
         FROM (SELECT *, (r * ${p}) / ${n} AS t
                 FROM (SELECT ${this.keyColumns.map(quoteIdent).join(', ')}, ${unique ? `${this.hash} AS h, ` : ''}row_number() OVER (ORDER BY ${keyOrder}) - 1 AS r
                         FROM ${this.from} WHERE ${where}) numbered) tiled
        GROUP BY t ORDER BY t`,
      params,
    );
    const tiles = rows.map((row) => ({
      count: Number(row.n),
      sum: row.s ?? null,
      key: this.keyTexts.map((_, i) => row[`k${i}`] ?? null),
    }));
    // Points: the first key of every tile but the first, strictly increasing inside the range.
    const points: Key[] = [];
    let consistent = tiles.length > 0 && tiles.reduce((a, t) => a + t.count, 0) === count;
    for (const tile of tiles.slice(1)) {
      const point = tile.key as string[];
      const valid =
        !tile.key.some((k) => k === null) &&
        (range.from === undefined || this.compare(point, range.from) > 0) &&
        (range.to === undefined || this.compare(point, range.to) < 0) &&
        (points.length === 0 || this.compare(points[points.length - 1]!, point) < 0);
      if (valid) points.push(point);
      else consistent = false;
    }
    if (unique && consistent) {
      // Tile i is exactly the rows of [point i, point i+1): remember its summary.
      subRanges(range, points).forEach((sub, i) => this.summaries.set(this.rangeId(sub), { count: tiles[i]!.count, checksum: checksumFromSqlSum(tiles[i]!.sum) }));
    }
    return points;
  }

  /**
   * A single key column that is not text (ordered by its type, no collation): the quantile keys
   * come from a pass over the keys alone (an index-only scan where the key is indexed). The
   * parts' sums are left to summarizeParts (partSumsSql: width_bucket over those same keys,
   * compared exactly as the range predicates compare), which bisection asks of both sides at
   * once: summing them here would keep the other side waiting for a pass over whole rows.
   */
  private async splitByBuckets(range: KeyRange, parts: number, count: number): Promise<Key[]> {
    const indices = new Set<number>();
    for (let p = 1; p < parts; p++) {
      const index = Math.floor((count * p) / parts);
      if (index > 0 && index < count) indices.add(index);
    }
    if (indices.size === 0) return [];
    const key = this.keyParts[0]!;
    const params: unknown[] = [];
    const where = this.predicate(range, params);
    params.push([...indices]);
    const { rows } = await this.query<{ k: string | null }>(
      `SELECT ${this.keyTexts[0]} AS k
         FROM (SELECT ${quoteIdent(this.keyColumns[0]!)}, row_number() OVER (ORDER BY ${key.expr}) - 1 AS i FROM ${this.from} WHERE ${where}) s
        WHERE i = ANY($${params.length}::bigint[]) ORDER BY i`,
      params,
    );
    const points: Key[] = [];
    for (const row of rows) {
      if (row.k === null) continue;
      const point = [row.k];
      if (range.from !== undefined && this.compare(point, range.from) <= 0) continue;
      if (range.to !== undefined && this.compare(point, range.to) >= 0) continue;
      if (points.length > 0 && this.compare(points[points.length - 1]!, point) >= 0) continue;
      points.push(point);
    }
    return points;
  }

  /**
   * The parts of a split (this side's own, or the points the other side or the pre-split root
   * chose): all of them from one aggregate (partSumsSql), remembered; or from memory when a
   * split already summed every part (the primary-key tiles of splitPoints).
   */
  async summarizeParts(range: KeyRange, points: readonly Key[]): Promise<RangeSummary[]> {
    await this.countNullKeys();
    const parts = subRanges(range, points);
    const known = parts.map((part) => this.summaries.get(this.rangeId(part)));
    if (known.every((summary) => summary !== undefined)) return known as RangeSummary[];
    if (points.length === 0 || !pointsInside(this.compare, range, points)) return Promise.all(parts.map((part) => this.countAndChecksum(part)));
    const summaries = await this.partSums(range, points);
    parts.forEach((part, i) => this.summaries.set(this.rangeId(part), summaries[i]!));
    return summaries;
  }

  /**
   * min and max of the integer key over the rows of the whole key space (NULL keys are in no
   * range, and min/max skip them alike), in the run's snapshot: two index lookups where the key
   * is indexed. The column's own text is the canonical key text of an integer.
   */
  async keyBounds(): Promise<KeyBounds | undefined> {
    if (this.integerKey === undefined) return undefined;
    await this.countNullKeys();
    const c = quoteIdent(this.integerKey);
    const params: unknown[] = [];
    const { rows } = await this.query<{ lo: string | null; hi: string | null }>(
      `SELECT min(${c})::text AS lo, max(${c})::text AS hi FROM ${this.from} WHERE ${this.predicate({}, params)}`,
      params,
    );
    const { lo, hi } = rows[0]!;
    return lo === null || hi === null ? undefined : { min: [lo], max: [hi] };
  }

  private async partSums(range: KeyRange, points: readonly Key[]): Promise<RangeSummary[]> {
    const params: unknown[] = [];
    const { rows } = await this.query<PartSumRow>(partSumsSql(this.sql, range, points, params), params);
    return partSummaries(rows, points.length + 1);
  }
}
