/**
 * Oracle (driver: capture/poll/dialects/oracle.ts). Row text: each column as a quoted literal
 * or the bare word NULL, joined with ','; dates and timestamps through an explicit format (the
 * type's own fraction digits) so NLS settings do not matter. A LOB column (CLOB, NCLOB, BLOB)
 * enters the row text as its length and the MD5 of its first 2000 characters (1000 bytes of a
 * BLOB): TO_CHAR of a longer LOB fails, and STANDARD_HASH takes no LOB. A change past that
 * prefix that keeps the length is not seen by the checksum (reconciliation finds it). Row hash: the first 64 bits of
 * STANDARD_HASH(…, 'MD5') (12c+) as an unsigned NUMBER, summed exactly (NUMBER keeps 38
 * digits). ORA_HASH would do with 32 bits only. The row text is a VARCHAR2: rows wider than
 * 4000 bytes (32767 with MAX_STRING_SIZE=EXTENDED) need a narrower mapping.
 * Oracle has no row-value `>`, so key comparisons are spelled out.
 */
import type { PollColumn } from '../types.ts';
import { temporalFormat } from '../../oracle/values.ts';
import { buildSql, quoteWith, type SqlFlavor } from './builder.ts';

const ident = quoteWith('"', '"');

function lob(column: PollColumn): 'text' | 'bytes' | undefined {
  const t = column.nativeType.toUpperCase();
  if (t === 'CLOB' || t === 'NCLOB') return 'text';
  if (t === 'BLOB') return 'bytes';
  return undefined;
}

function asText(column: PollColumn): string {
  const c = ident(column.name);
  const large = lob(column);
  if (large === 'text') return `DBMS_LOB.GETLENGTH(${c}) || ':' || RAWTOHEX(STANDARD_HASH(TO_CHAR(DBMS_LOB.SUBSTR(${c}, 2000, 1)), 'MD5'))`;
  if (large === 'bytes') return `DBMS_LOB.GETLENGTH(${c}) || ':' || RAWTOHEX(STANDARD_HASH(DBMS_LOB.SUBSTR(${c}, 1000, 1), 'MD5'))`;
  const format = temporalFormat(column.nativeType);
  if (format && (column.kind === 'timestamp' || column.kind === 'timestamptz')) return `TO_CHAR(${c}, '${format}')`;
  switch (column.kind) {
    case 'date':
      return `TO_CHAR(${c}, 'YYYY-MM-DD')`;
    case 'timestamp':
      return column.nativeType.toUpperCase().startsWith('DATE')
        ? `TO_CHAR(${c}, 'YYYY-MM-DD HH24:MI:SS')`
        : `TO_CHAR(${c}, 'YYYY-MM-DD HH24:MI:SS.FF6')`;
    case 'timestamptz':
      return `TO_CHAR(${c}, 'YYYY-MM-DD HH24:MI:SS.FF6TZH:TZM')`;
    case 'bytes':
      return `RAWTOHEX(${c})`;
    default:
      return `TO_CHAR(${c})`;
  }
}

function literalOrNull(column: PollColumn): string {
  const text = asText(column);
  return `NVL2(${ident(column.name)}, '''' || REPLACE(${text}, '''', '''''') || '''', 'NULL')`;
}

export const oracleFlavor: SqlFlavor = {
  dialect: 'oracle',
  ident,
  placeholder: (n) => `:${n}`,
  selectColumn: (column) => (['date', 'timestamp', 'timestamptz'].includes(column.kind) ? asText(column) : ident(column.name)),
  rowHash: (columns) =>
    `TO_NUMBER(SUBSTR(RAWTOHEX(STANDARD_HASH(${columns.map(literalOrNull).join(" || ',' || ")}, 'MD5')), 1, 16), 'XXXXXXXXXXXXXXXX')`,
  sumOf: (h) => `TO_CHAR(NVL(SUM(${h}), 0))`,
  countRows: () => 'COUNT(*)',
  rowValues: false,
  orderAndLimit: (orderBy, limit) => `ORDER BY ${orderBy}${limit === undefined ? '' : ` FETCH FIRST ${limit} ROWS ONLY`}`,
  maxOf: (c) => asText(c).replace(ident(c.name), `MAX(${ident(c.name)})`),
};

export const oracleSql = buildSql(oracleFlavor);
