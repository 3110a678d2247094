/**
 * SQL Server column types -> the canonical text forms of src/mapping/types.ts, the same from a
 * snapshot, a poll query and a CDC change function. DECIMAL, NUMERIC, MONEY and every date/time
 * type are converted to text by the server (CONVERT with a fixed style), so nothing passes
 * through a JS number or a JS Date; BIGINT arrives as text from tedious; binary types as bytes.
 */
import type { SourceColumnKind, SourceValue } from '../../src/mapping/types.ts';
import { float32Text, float64Text } from '../shared-float-text.ts';
import { quoteIdent } from './connection.ts';
import { utf8TextAsNvarchar } from './utf8-text.ts';

export interface MssqlColumn {
  name: string;
  /** sys.types name: 'decimal', 'datetime2', 'nvarchar', 'timestamp' (rowversion) … */
  dataType: string;
  precision: number;
  scale: number;
  /** max_length in bytes (-1 for MAX). */
  maxLength: number;
  kind: SourceColumnKind;
  nativeType: string;
  /** text, ntext, image, xml and the (MAX) types: CDC may leave them out of an update. */
  lob: boolean;
  /** The collation of a character column. */
  collation?: string | null;
}

export function kindForMssqlType(dataType: string): SourceColumnKind {
  switch (dataType.toLowerCase()) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
      return 'integer';
    case 'decimal':
    case 'numeric':
    case 'money':
    case 'smallmoney':
      return 'decimal';
    case 'float':
    case 'real':
      return 'float';
    case 'bit':
      return 'boolean';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'datetime':
    case 'datetime2':
    case 'smalldatetime':
      return 'timestamp';
    case 'datetimeoffset':
      return 'timestamptz';
    case 'char':
    case 'varchar':
    case 'nchar':
    case 'nvarchar':
    case 'text':
    case 'ntext':
    case 'uniqueidentifier':
    case 'xml':
    case 'sysname':
      return 'text';
    case 'binary':
    case 'varbinary':
    case 'image':
    case 'timestamp':
    case 'rowversion':
      return 'bytes';
    default:
      return 'other';
  }
}

export function mssqlColumn(name: string, dataType: string, precision: number, scale: number, maxLength: number, collation: string | null = null): MssqlColumn {
  const t = dataType.toLowerCase();
  let nativeType = t;
  if (t === 'decimal' || t === 'numeric') nativeType = `${t}(${precision},${scale})`;
  else if (['varchar', 'char', 'varbinary', 'binary'].includes(t)) nativeType = `${t}(${maxLength === -1 ? 'max' : maxLength})`;
  else if (['nvarchar', 'nchar'].includes(t)) nativeType = `${t}(${maxLength === -1 ? 'max' : maxLength / 2})`;
  else if (['datetime2', 'datetimeoffset', 'time'].includes(t)) nativeType = `${t}(${scale})`;
  else if (t === 'timestamp') nativeType = 'rowversion';
  return {
    name,
    dataType: t,
    precision,
    scale,
    maxLength,
    kind: kindForMssqlType(t),
    nativeType,
    lob: ['text', 'ntext', 'image', 'xml'].includes(t) || maxLength === -1,
    collation,
  };
}

/**
 * The expression a query selects a column as: DECIMAL/NUMERIC as their exact text, MONEY with
 * its 4 decimals (style 2), date/time types in ODBC canonical form (style 121, 'yyyy-mm-dd
 * hh:mi:ss.fffffff', as many fraction digits as the type has), DATE as style 23.
 */
export function selectExpression(
  column: Pick<MssqlColumn, 'name' | 'dataType'> & Partial<Pick<MssqlColumn, 'nativeType' | 'collation'>>,
  alias: string = column.name,
): string {
  const c = quoteIdent(column.name);
  let expression: string | undefined;
  switch (column.dataType.toLowerCase()) {
    case 'char':
    case 'varchar':
    case 'text':
      expression = utf8TextAsNvarchar(column, c);
      break;
    case 'decimal':
    case 'numeric':
      expression = `CONVERT(VARCHAR(50), ${c})`;
      break;
    case 'money':
    case 'smallmoney':
      expression = `CONVERT(VARCHAR(30), ${c}, 2)`;
      break;
    case 'date':
      expression = `CONVERT(VARCHAR(10), ${c}, 23)`;
      break;
    case 'time':
      expression = `CONVERT(VARCHAR(16), ${c})`;
      break;
    case 'datetime':
    case 'datetime2':
    case 'smalldatetime':
    case 'datetimeoffset':
      expression = `CONVERT(VARCHAR(34), ${c}, 121)`;
      break;
    case 'sql_variant':
    case 'hierarchyid':
      expression = `CONVERT(NVARCHAR(4000), ${c})`;
      break;
  }
  if (expression === undefined) return alias === column.name ? c : `${c} AS ${quoteIdent(alias)}`;
  return `${expression} AS ${quoteIdent(alias)}`;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A JS Date from tedious (useUTC: true: its UTC fields are the stored wall clock) -> 'YYYY-MM-DD HH:MM:SS.mmm'. */
export function utcDateText(date: Date, kind: SourceColumnKind): string {
  const day = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  if (kind === 'date') return day;
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}`;
  if (kind === 'time') return time;
  return `${day} ${time}${kind === 'timestamptz' ? '+00:00' : ''}`;
}

/** '2024-03-10 06:59:59.1234567 +02:00' (style 121 of datetimeoffset) -> '2024-03-10 06:59:59.1234567+02:00'. */
export function offsetText(text: string): string {
  return text.replace(/\s+([+-]\d{2}:\d{2})$/, '$1');
}

/**
 * A value as tedious returns it for the select expressions above -> the canonical SourceValue.
 */
export function mssqlValue(column: Pick<MssqlColumn, 'kind' | 'dataType' | 'name'>, raw: unknown): SourceValue {
  if (raw === null || raw === undefined) return null;
  if (raw instanceof Date) return utcDateText(raw, column.kind);
  if (raw instanceof Uint8Array) return column.kind === 'bytes' || column.kind === 'other' ? Uint8Array.from(raw) : Buffer.from(raw).toString('utf8');
  if (typeof raw === 'boolean') return raw ? 'true' : 'false';
  if (typeof raw === 'bigint') return raw.toString();
  if (typeof raw === 'number') {
    if (column.dataType === 'real') return float32Text(raw);
    if (column.kind === 'boolean') return raw === 0 ? 'false' : 'true';
    return float64Text(raw);
  }
  const text = String(raw);
  switch (column.kind) {
    case 'timestamptz':
      return offsetText(text);
    case 'boolean':
      return text === '1' || text.toLowerCase() === 'true' ? 'true' : 'false';
    case 'bytes':
      return Uint8Array.from(Buffer.from(text.replace(/^0x/i, ''), 'hex'));
    default:
      return text;
  }
}

/** A canonical key or hint value -> what `mssql` binds (bytes and rowversion hex as a Buffer). */
export function bindValue(kind: SourceColumnKind, value: SourceValue): string | Buffer | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (kind === 'bytes') return Buffer.from(value.replace(/^0x/i, ''), 'hex');
  return value;
}

/**
 * The `mssql` parameter type for a value compared with a column of this type: VARCHAR for
 * varchar/char columns (an NVARCHAR parameter would convert the column and lose its index
 * seek), VARBINARY for binary ones, NVARCHAR otherwise (the server converts the text to the
 * column's type: numbers exactly, dates in ymd order).
 */
export function paramType(dataType: string): 'varchar' | 'varbinary' | 'nvarchar' {
  const t = dataType.toLowerCase();
  if (t === 'varchar' || t === 'char' || t === 'text') return 'varchar';
  if (t === 'binary' || t === 'varbinary' || t === 'timestamp' || t === 'rowversion' || t === 'image') return 'varbinary';
  return 'nvarchar';
}
