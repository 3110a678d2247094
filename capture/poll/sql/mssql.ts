/**
 * SQL Server (SQL only; the driver comes with the SQL Server capture issue). Row text: each
 * column as a quoted literal or the bare word NULL (CONVERT style 126 for dates: ISO 8601,
 * style 2 for binary: hex), joined with ','. Row hash: the first 8 bytes of HASHBYTES('MD5', …)
 * as a BIGINT, summed as DECIMAL(38,0) so the sum cannot overflow. Not CHECKSUM_AGG: it is 32
 * bits and XOR-like, so two equal changes cancel out. Key comparisons are spelled out (no
 * row values); limits are OFFSET … FETCH.
 */
import type { PollColumn } from '../types.ts';
import { buildSql, quoteWith, type SqlFlavor } from './builder.ts';

const ident = quoteWith('[', ']');

function asText(column: PollColumn): string {
  const c = ident(column.name);
  switch (column.kind) {
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return `CONVERT(NVARCHAR(MAX), ${c}, 126)`;
    case 'bytes':
      return `CONVERT(NVARCHAR(MAX), CONVERT(VARCHAR(MAX), ${c}, 2))`;
    default:
      return `CONVERT(NVARCHAR(MAX), ${c})`;
  }
}

export const mssqlFlavor: SqlFlavor = {
  dialect: 'mssql',
  ident,
  placeholder: (n) => `@p${n}`,
  rowHash: (columns) => {
    const parts = columns.map((c) => `COALESCE(N'''' + REPLACE(${asText(c)}, N'''', N'''''') + N'''', N'NULL')`);
    // CONCAT takes at least two arguments.
    const text = parts.length === 1 ? `${parts[0]}, N''` : parts.join(", N',', ");
    return `CAST(SUBSTRING(HASHBYTES('MD5', CONCAT(${text})), 1, 8) AS BIGINT)`;
  },
  sumOf: (h) => `CAST(COALESCE(SUM(CAST(${h} AS DECIMAL(38, 0))), 0) AS VARCHAR(40))`,
  countRows: () => 'COUNT_BIG(*)',
  rowValues: false,
  orderAndLimit: (orderBy, limit) => `ORDER BY ${orderBy}${limit === undefined ? '' : ` OFFSET 0 ROWS FETCH NEXT ${limit} ROWS ONLY`}`,
  maxOf: (c) => asText(c).replace(ident(c.name), `MAX(${ident(c.name)})`),
};

export const mssqlSql = buildSql(mssqlFlavor);
