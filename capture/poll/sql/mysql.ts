/**
 * MySQL / MariaDB: the row hash is the first 64 bits of MD5 over `CONCAT_WS(',', QUOTE(a), …)`
 * (QUOTE escapes quotes and backslashes and spells NULL as the bare word NULL, so the text is
 * injective), summed exactly (SUM of BIGINT UNSIGNED is DECIMAL). Not MD5(GROUP_CONCAT(…)):
 * GROUP_CONCAT cuts its result at group_concat_max_len (1 MB by default) with only a warning,
 * and a cut text stops seeing changes past the cut. Not BIT_XOR(CRC32(…)): 32 bits is too few
 * for years of passes over millions of rows. A sum also lets the engine add stored chunk sums
 * into a group's sum, so one query can clear many chunks.
 *
 * Key comparisons are spelled out (`a >= x AND (a > x OR (a = x AND b > y))`): MariaDB's
 * planner does not use an index range for row-value comparisons.
 */
import { buildSql, quoteWith, type SqlFlavor } from './builder.ts';

const ident = quoteWith('`', '`');

export const mysqlFlavor: SqlFlavor = {
  dialect: 'mysql',
  ident,
  placeholder: () => '?',
  rowHash: (columns) =>
    `CAST(CONV(SUBSTRING(MD5(CONCAT_WS(',', ${columns.map((c) => `QUOTE(${ident(c.name)})`).join(', ')})), 1, 16), 16, 10) AS UNSIGNED)`,
  sumOf: (h) => `CAST(COALESCE(SUM(${h}), 0) AS CHAR)`,
  countRows: () => 'COUNT(*)',
  rowValues: false,
  orderAndLimit: (orderBy, limit) => `ORDER BY ${orderBy}${limit === undefined ? '' : ` LIMIT ${limit}`}`,
  maxOf: (c) => `CAST(MAX(${ident(c.name)}) AS CHAR)`,
};

export const mysqlSql = buildSql(mysqlFlavor);
