/**
 * SQLite has no hash function of its own: the driver registers `hms_row_hash(…)` (xxhash64 of
 * the values as stored) and the aggregate `hms_hash_sum(…)` (exact sum, as text) on the
 * connection (dialects/sqlite.ts). The database is in-process, so "computed by the database"
 * here means: inside SQLite's own scan, without handing rows to the engine.
 */
import { buildSql, quoteWith, type SqlFlavor } from './builder.ts';

export const SQLITE_ROW_HASH = 'hms_row_hash';
export const SQLITE_HASH_SUM = 'hms_hash_sum';

const ident = quoteWith('"', '"');

export const sqliteFlavor: SqlFlavor = {
  dialect: 'sqlite',
  ident,
  placeholder: () => '?',
  rowHash: (columns) => `${SQLITE_ROW_HASH}(${columns.map((c) => ident(c.name)).join(', ')})`,
  sumOf: (h) => `${SQLITE_HASH_SUM}(${h})`,
  countRows: () => 'count(*)',
  rowValues: true,
  orderAndLimit: (orderBy, limit) => `ORDER BY ${orderBy}${limit === undefined ? '' : ` LIMIT ${limit}`}`,
  maxOf: (c) => `CAST(max(${ident(c.name)}) AS TEXT)`,
};

export const sqliteSql = buildSql(sqliteFlavor);
