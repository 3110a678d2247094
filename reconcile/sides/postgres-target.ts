/**
 * A modern PostgreSQL database as the target, holding the mapped rows the way the
 * `postgres` subscriber keeps them: a table named by the entity (in the connection's
 * search_path), one column per mapped field named like the field, the key fields as its
 * key, and optionally a text column `hms_position` with the position of the envelope that
 * wrote the row (used to recognize changes committed during the run).
 *
 * Here the checksum runs where the data is: one query per range computes count and the sum
 * of row hashes (hashtextextended over the record text, see pg-hash.ts) of the SAME canonical
 * text normalize.ts gives in the bridge (decimal scale trimmed, timestamps in UTC without
 * trailing zeros, trailing blanks dropped...), so only checksums cross the wire until
 * bisection asks for a small range. After a split, one query sums all the parts
 * (summarizeParts); a single integer key gives its bounds (keyBounds) for the pre-split root.
 */
import type pg from 'pg';
import { classifyPgError, connectClient, describeServer, quoteIdent } from '../../capture/postgres/connection.ts';
import { HmsSyncError } from '../../src/errors.ts';
import type { FieldSpec, JsonObject, JsonValue } from '../../src/mapping/types.ts';
import { subRanges } from '../bisect.ts';
import { keyComparator, keyKind, keyKinds, type KeyComparator } from '../normalize.ts';
import {
  bindKeySql,
  canonicalSql,
  checksumFromSqlSum,
  INTEGER_TYPES,
  keySql,
  partSummaries,
  PG_HASH_MIN_VERSION,
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
import type { CompareSpec, Key, KeyBounds, KeyRange, KeyRef, RangeSummary, ReconcileSide, SideRow } from '../types.ts';

export const POSITION_COLUMN = 'hms_position';


export class PostgresTargetSide implements ReconcileSide {
  readonly name = 'postgres';
  private readonly keyParts: KeySql[];
  private readonly compare: KeyComparator;
  /** countAndChecksum and summarizeParts build their queries from this one description. */
  private readonly sql: ChecksumSql;

  private constructor(
    private readonly client: pg.Client,
    private readonly spec: CompareSpec,
    private readonly table: string,
    private readonly columns: Map<string, SqlColumn>,
    private readonly hasPosition: boolean,
  ) {
    this.keyParts = spec.keyFields.map((f) => keySql(f, this.column(f)));
    this.compare = keyComparator(keyKinds(spec));
    this.sql = {
      from: table,
      hash: rowHashSql(spec.fields.map((f) => canonicalSql(f, this.column(f)))),
      keyParts: this.keyParts,
      predicate: (range, params) => this.predicate(range, params),
    };
  }

  static async open(url: string, entity: string, spec: CompareSpec): Promise<PostgresTargetSide> {
    const where = describeServer(url);
    const client = await connectClient(url);
    try {
      const version = Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
      if (version < PG_HASH_MIN_VERSION) {
        throw new HmsSyncError(
          'SOURCE_STATE',
          `reconcile target ${where}: PostgreSQL ${version} has no hashtextextended(), which the target's checksums are computed with (PostgreSQL 11 or later)`,
        );
      }
      const { rows } = await client.query<{ attname: string; typname: string; typcategory: string }>(
        `SELECT a.attname, t.typname, t.typcategory
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
          WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
        [quoteIdent(entity)],
      );
      if (rows.length === 0) {
        throw new HmsSyncError('SOURCE_STATE', `reconcile target ${where}: no table "${entity}" (the target holds one table per entity, named like it)`);
      }
      const columns = new Map(rows.map((r) => [r.attname, { name: r.attname, typname: r.typname, category: r.typcategory }]));
      const missing = spec.fields.filter((f) => !columns.has(f.name)).map((f) => f.name);
      if (missing.length > 0) {
        throw new HmsSyncError('SOURCE_STATE', `reconcile target ${where}: table "${entity}" has no column ${missing.map((m) => `"${m}"`).join(', ')} (one column per mapped field)`);
      }
      return new PostgresTargetSide(client, spec, quoteIdent(entity), columns, columns.has(POSITION_COLUMN));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw classifyPgError(error, where);
    }
  }

  private column(spec: FieldSpec): SqlColumn {
    return this.columns.get(spec.name)!;
  }

  private predicate(range: KeyRange, params: unknown[]): string {
    return rangePredicateSql(this.keyParts, range, params);
  }

  async countAndChecksum(range: KeyRange): Promise<RangeSummary> {
    const params: unknown[] = [];
    const { rows } = await this.client.query<{ n: string; s: string | null }>(rangeSumSql(this.sql, range, params), params);
    return { count: Number(rows[0]!.n), checksum: checksumFromSqlSum(rows[0]!.s) };
  }

  /**
   * All parts of a split in one aggregate over the range (partSumsSql) instead of a query per
   * part. Points out of key order (no splitter gives them) fall back to a query per part, so
   * the answer is always what those queries give.
   */
  async summarizeParts(range: KeyRange, points: readonly Key[]): Promise<RangeSummary[]> {
    if (points.length === 0 || !pointsInside(this.compare, range, points)) {
      const summaries: RangeSummary[] = [];
      for (const part of subRanges(range, points)) summaries.push(await this.countAndChecksum(part));
      return summaries;
    }
    const params: unknown[] = [];
    const { rows } = await this.client.query<PartSumRow>(partSumsSql(this.sql, range, points, params), params);
    return partSummaries(rows, points.length + 1);
  }

  /**
   * min and max of the key when it is one integer column, from the index on it. The whole key
   * space's checksum (no bound, no condition) counts rows with a NULL key, which are in no part
   * of a split (width_bucket of NULL is NULL): with any such row there are no bounds, so
   * bisection starts from that checksum as it would without them.
   */
  async keyBounds(): Promise<KeyBounds | undefined> {
    const key = this.spec.keyFields.length === 1 ? this.spec.keyFields[0]! : undefined;

    if (key === undefined || keyKind(key) !== 'number' || !INTEGER_TYPES.has(this.column(key).typname)) return undefined;
    const c = quoteIdent(this.column(key).name);
    // No rows (so NULL bounds) when a NULL key exists.
    const { rows } = await this.client.query<{ lo: string | null; hi: string | null }>(
      `SELECT min(${c})::text AS lo, max(${c})::text AS hi FROM ${this.table} WHERE NOT EXISTS (SELECT 1 FROM ${this.table} WHERE ${c} IS NULL)`,
    );
    const { lo, hi } = rows[0]!;
    return lo === null || hi === null ? undefined : { min: [lo], max: [hi] };
  }

  private selectList(): string {
    const list = this.spec.fields.map((f) => {
      const column = this.column(f);
      const c = quoteIdent(column.name);
      return column.category === 'N' ? `${c}::text AS ${c}` : `to_jsonb(${c})::text AS ${c}`;
    });
    if (this.hasPosition) list.push(`${quoteIdent(POSITION_COLUMN)}::text AS ${quoteIdent(POSITION_COLUMN)}`);
    return list.join(', ');
  }

  private toRow(raw: Record<string, string | null>): SideRow {
    const values: JsonObject = {};
    for (const f of this.spec.fields) {
      const text = raw[f.name] ?? null;
      values[f.name] = text === null ? null : this.column(f).category === 'N' ? numberValue(f, text) : (JSON.parse(text) as JsonValue);
    }
    const position = this.hasPosition ? raw[POSITION_COLUMN] : null;
    return position ? { values, position } : { values };
  }

  async rows(range: KeyRange): Promise<SideRow[]> {
    const params: unknown[] = [];
    const { rows } = await this.client.query<Record<string, string | null>>(
      `SELECT ${this.selectList()} FROM ${this.table} WHERE ${this.predicate(range, params)}`,
      params,
    );
    return rows.map((r) => this.toRow(r));
  }

  async rowsByKey(keys: readonly KeyRef[]): Promise<SideRow[]> {
    const out: SideRow[] = [];
    const keyTuple = tupleSql(this.keyParts.map((p) => p.expr));
    for (let i = 0; i < keys.length; i += 500) {
      const params: unknown[] = [];
      const list = keys.slice(i, i + 500).map((k) => bindKeySql(this.keyParts, k.key, params));
      const { rows } = await this.client.query<Record<string, string | null>>(
        `SELECT ${this.selectList()} FROM ${this.table} WHERE ${keyTuple} IN (${list.join(', ')})`,
        params,
      );
      out.push(...rows.map((r) => this.toRow(r)));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

function numberValue(spec: FieldSpec, text: string): JsonValue {
  if (spec.type === 'integer') {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  return text;
}
