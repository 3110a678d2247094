/**
 * SQL Server (driver: capture/poll/dialects/mssql.ts). Row text: each column as a quoted
 * literal or the bare word NULL (CONVERT style 126 for dates: ISO 8601, style 2 for binary:
 * hex, style 3 for float: 17 digits, style 2 for money: 4 decimals), joined with ','. Values
 * read back (c0…, w, m) go through CONVERT to text where tedious would lose digits (DECIMAL as a
 * JS number, DATETIME2 as a JS Date cut to milliseconds) or change text (a UTF-8 collated
 * varchar's leading U+FEFF): see readAs(). Row hash: the first 8 bytes of HASHBYTES('MD5', …)
 * as a BIGINT, summed as DECIMAL(38,0) so the sum cannot overflow. Not CHECKSUM_AGG: it is 32
 * bits and XOR-like, so two equal changes cancel out. Key comparisons are spelled out (no
 * row values); limits are OFFSET … FETCH.
 */
import { utf8TextAsNvarchar } from '../../mssql/utf8-text.ts';
import type { PollColumn } from '../types.ts';
import { buildSql, quoteWith, type SqlFlavor } from './builder.ts';

const ident = quoteWith('[', ']');

function baseType(column: PollColumn): string {
  return column.nativeType.replace(/\(.*$/, '').trim().toLowerCase();
}

/** The expression a value is read back as, where the driver would lose digits; undefined: as is. */
export function readAs(column: PollColumn, expression: string): string | undefined {
  const t = baseType(column);
  if (t === 'money' || t === 'smallmoney') return `CONVERT(VARCHAR(30), ${expression}, 2)`;
  switch (column.kind) {
    case 'decimal':
      return `CONVERT(VARCHAR(50), ${expression})`;
    case 'date':
      return `CONVERT(VARCHAR(10), ${expression}, 23)`;
    case 'time':
      return `CONVERT(VARCHAR(16), ${expression})`;
    case 'timestamp':
    case 'timestamptz':
      return `CONVERT(VARCHAR(34), ${expression}, 121)`;
    case 'text':
      // UTF-8 collated char/varchar as NVARCHAR: tedious would drop a leading U+FEFF.
      return utf8TextAsNvarchar(column, expression);
    default:
      return undefined;
  }
}

function asText(column: PollColumn): string {
  const c = ident(column.name);
  const t = baseType(column);
  if (column.kind === 'float') return `CONVERT(NVARCHAR(MAX), ${c}, 3)`;
  if (t === 'money' || t === 'smallmoney') return `CONVERT(NVARCHAR(MAX), ${c}, 2)`;
  if (t === 'image') return `CONVERT(NVARCHAR(MAX), CONVERT(VARCHAR(MAX), CONVERT(VARBINARY(MAX), ${c}), 2))`;
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
  selectColumn: (column) => readAs(column, ident(column.name)) ?? ident(column.name),
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
  // The hint's largest value in the same text as its `w` column (rowversion: hex digits).
  maxOf: (c) =>
    readAs(c, `MAX(${ident(c.name)})`) ??
    (c.kind === 'bytes' ? `CONVERT(VARCHAR(MAX), MAX(${ident(c.name)}), 2)` : `CONVERT(NVARCHAR(MAX), MAX(${ident(c.name)}))`),
};

export const mssqlSql = buildSql(mssqlFlavor);
