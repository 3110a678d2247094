/**
 * PostgreSQL: the row hash is 64 bits over the row's record text (`ROW(a, b)::text` tells NULL
 * from '' and quotes separators, so it is injective), summed exactly as numeric. Sessions run
 * with fixed DateStyle, TimeZone and extra_float_digits (capture/postgres/connection.ts), so
 * the text, and the hash, do not depend on the server's defaults.
 *
 * From PostgreSQL 11 the hash is hashtextextended(), 2.5 times cheaper than md5 on the server
 * (docs/polling.md); before 11 it is the first 64 bits of md5. Both are deterministic for a
 * given server; a changed hash (an upgrade to 11) only costs one re-read of every chunk, no
 * envelopes (the row xxhashes do not change).
 */
import { buildSql, quoteWith, type SqlFlavor } from './builder.ts';

export const postgresFlavor: SqlFlavor = {
  dialect: 'postgres',
  ident: quoteWith('"', '"'),
  placeholder: (n) => `$${n}`,
  rowHash: (columns) =>
    `('x' || substr(md5(ROW(${columns.map((c) => postgresFlavor.ident(c.name)).join(', ')})::text), 1, 16))::bit(64)::bigint`,
  sumOf: (h) => `coalesce(sum(${h}), 0)::text`,
  countRows: () => 'count(*)',
  rowValues: true,
  orderAndLimit: (orderBy, limit) => `ORDER BY ${orderBy}${limit === undefined ? '' : ` LIMIT ${limit}`}`,
  maxOf: (c) => `max(${postgresFlavor.ident(c.name)})::text`,
};

export const postgresSql = buildSql(postgresFlavor);

export const postgresFastFlavor: SqlFlavor = {
  ...postgresFlavor,
  rowHash: (columns) => `hashtextextended(ROW(${columns.map((c) => postgresFlavor.ident(c.name)).join(', ')})::text, 0)`,
};

/** For servers from PostgreSQL 11 (server_version_num >= 110000). */
export const postgresFastSql = buildSql(postgresFastFlavor);
