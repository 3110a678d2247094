/**
 * Oracle column types -> the canonical text forms of src/mapping/types.ts, the same from a
 * snapshot query, a poll query and LogMiner. Nothing passes through a JS float (NUMBER is read
 * as the driver's exact text, or as the text LogMiner prints) and nothing through a JS Date or
 * the machine's time zone (DATE and TIMESTAMP are selected through TO_CHAR with a fixed format;
 * LogMiner prints them in the session's NLS formats, which connection.ts fixes).
 */
import type { SourceColumnKind, SourceValue } from '../../src/mapping/types.ts';
import { float32Text, float64Text } from '../shared-float-text.ts';
import { quoteIdent } from './quote.ts';

/** A column as ALL_TAB_COLUMNS describes it. */
export interface OracleColumn {
  name: string;
  /** DATA_TYPE: 'NUMBER', 'VARCHAR2', 'TIMESTAMP(6) WITH TIME ZONE', … */
  dataType: string;
  precision: number | null;
  scale: number | null;
  kind: SourceColumnKind;
  /** For messages: 'NUMBER(10,2)', 'VARCHAR2', 'TIMESTAMP(6)'. */
  nativeType: string;
  /** CLOB, NCLOB, BLOB, LONG: LogMiner's MINE_VALUE cannot return them; they are read back by key. */
  lob: boolean;
}

/** Fraction digits of a TIMESTAMP(n) type name (6 when the name carries none). */
export function timestampScale(dataType: string): number {
  const m = /^TIMESTAMP\((\d)\)/i.exec(dataType);
  return m ? Number(m[1]) : 6;
}

export function kindForOracleType(dataType: string, precision: number | null, scale: number | null): SourceColumnKind {
  const t = dataType.toUpperCase();
  if (t === 'NUMBER') return scale === 0 ? 'integer' : 'decimal';
  if (t === 'FLOAT' || t === 'INTEGER' || t === 'DECIMAL') return t === 'INTEGER' ? 'integer' : 'decimal';
  if (t === 'BINARY_FLOAT' || t === 'BINARY_DOUBLE') return 'float';
  // An Oracle DATE holds a time of day too (to the second): a zone-less timestamp.
  if (t === 'DATE') return 'timestamp';
  if (t.startsWith('TIMESTAMP')) return /WITH (LOCAL )?TIME ZONE/.test(t) ? 'timestamptz' : 'timestamp';
  if (['VARCHAR2', 'NVARCHAR2', 'CHAR', 'NCHAR', 'CLOB', 'NCLOB', 'LONG', 'VARCHAR', 'ROWID', 'UROWID'].includes(t)) return 'text';
  if (t === 'RAW' || t === 'BLOB' || t === 'LONG RAW') return 'bytes';
  if (t === 'JSON') return 'json';
  void precision;
  return 'other';
}

export function oracleColumn(name: string, dataType: string, precision: number | null, scale: number | null): OracleColumn {
  const t = dataType.toUpperCase();
  const nativeType =
    t === 'NUMBER' && precision !== null ? `NUMBER(${precision}${scale !== null && scale !== 0 ? `,${scale}` : scale === 0 ? ',0' : ''})` : dataType;
  return {
    name,
    dataType,
    precision,
    scale,
    kind: kindForOracleType(dataType, precision, scale),
    nativeType,
    lob: ['CLOB', 'NCLOB', 'BLOB', 'LONG', 'LONG RAW'].includes(t),
  };
}

/** TO_CHAR format of a DATE or TIMESTAMP type: the same digits the type holds. */
export function temporalFormat(dataType: string): string | undefined {
  const t = dataType.toUpperCase();
  if (t === 'DATE') return 'YYYY-MM-DD HH24:MI:SS';
  if (!t.startsWith('TIMESTAMP')) return undefined;
  const scale = timestampScale(t);
  const base = scale === 0 ? 'YYYY-MM-DD HH24:MI:SS' : `YYYY-MM-DD HH24:MI:SS.FF${scale}`;
  // TIMESTAMP WITH LOCAL TIME ZONE prints in the session's zone (UTC): the offset is added in convert().
  return /WITH TIME ZONE/.test(t) && !/LOCAL/.test(t) ? `${base}TZH:TZM` : base;
}

/** The expression a query selects a column as: temporal types through TO_CHAR, INTERVAL as text, the rest as is. */
export function selectExpression(column: Pick<OracleColumn, 'name' | 'dataType'>, alias?: string): string {
  const c = quoteIdent(column.name);
  const format = temporalFormat(column.dataType);
  let expression = c;
  if (format) expression = `TO_CHAR(${c}, '${format}')`;
  else if (/^INTERVAL/i.test(column.dataType)) expression = `TO_CHAR(${c})`;
  return alias === undefined ? (expression === c ? c : `${expression} AS ${c}`) : `${expression} AS ${quoteIdent(alias)}`;
}

/**
 * NUMBER text as Oracle prints it (TO_CHAR, LogMiner: '.5', '-.5', '1.0E+40') or as the thin
 * driver decodes it -> plain decimal text ('0.5', '-0.5', '10000…'), exact: an exponent is
 * applied by moving the point in the digit string, never through a JS number.
 */
export function numberText(text: string): string {
  let t = text.trim();
  if (t === '~' || /^-?inf/i.test(t)) return t.startsWith('-') ? '-Infinity' : 'Infinity';
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m) return t;
  const sign = m[1] === '-' ? '-' : '';
  let int = m[2] ?? '';
  let frac = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  if (exp > 0) {
    frac = frac.padEnd(exp, '0');
    int += frac.slice(0, exp);
    frac = frac.slice(exp);
  } else if (exp < 0) {
    int = int.padStart(-exp + 1, '0');
    frac = int.slice(int.length + exp) + frac;
    int = int.slice(0, int.length + exp);
  }
  if (m[4]) frac = frac.replace(/0+$/, '');
  int = int.replace(/^0+(?=\d)/, '') || '0';
  t = frac === '' ? int : `${int}.${frac}`;
  return sign && /[1-9]/.test(t) ? `-${t}` : t;
}

/**
 * A timestamp as TO_CHAR or LogMiner prints it ('2024-03-10 06:59:59.123456789', with '+02:00'
 * or ' +02:00' for WITH TIME ZONE) -> canonical text with exactly the column's fraction digits.
 */
export function timestampText(text: string, dataType: string): string {
  const t = dataType.toUpperCase();
  const m = /^(-?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d*))?\s*([+-]\d{1,2}:\d{2})?$/.exec(text.trim());
  if (!m) return text;
  const scale = t === 'DATE' ? 0 : timestampScale(t);
  const fraction = scale === 0 ? '' : '.' + (m[2] ?? '').padEnd(9, '0').slice(0, scale);
  let offset = '';
  if (/LOCAL TIME ZONE/.test(t)) offset = '+00:00';
  else if (/WITH TIME ZONE/.test(t)) {
    const o = m[3] ?? '+00:00';
    const [h, mm] = o.slice(1).split(':');
    offset = `${o[0]}${h!.padStart(2, '0')}:${mm}`;
  }
  return `${m[1]}${fraction}${offset}`;
}

/** RAW as LogMiner prints it: hex digits, or HEXTORAW('…'). */
function hexBytes(text: string): Uint8Array {
  const m = /^HEXTORAW\('([0-9A-Fa-f]*)'\)$/.exec(text.trim());
  const hex = m ? m[1]! : text.trim();
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * A value as the driver returns it (with connection.ts's fetchTypeHandler and the select
 * expressions above) or as LogMiner's MINE_VALUE prints it -> the canonical SourceValue.
 * A JS Date means a query forgot TO_CHAR: refused rather than converted through the local
 * time zone.
 */
export function oracleValue(column: Pick<OracleColumn, 'kind' | 'dataType' | 'name'>, raw: unknown): SourceValue {
  if (raw === null || raw === undefined) return null;
  if (raw instanceof Date) {
    throw new TypeError(`${column.name} (${column.dataType}) came back as a JS Date; it must be selected through TO_CHAR (values.ts selectExpression)`);
  }
  if (raw instanceof Uint8Array) return column.kind === 'bytes' ? Uint8Array.from(raw) : Buffer.from(raw).toString('utf8');
  const t = column.dataType.toUpperCase();
  if (typeof raw === 'number') {
    if (t === 'BINARY_FLOAT') return float32Text(raw);
    if (t === 'BINARY_DOUBLE') return float64Text(raw);
    // Only PLS_INTEGER-like values arrive as numbers; NUMBER is fetched as text.
    return Number.isInteger(raw) ? String(raw) : float64Text(raw);
  }
  if (typeof raw === 'bigint') return raw.toString();
  const text = String(raw);
  switch (column.kind) {
    case 'integer':
    case 'decimal':
      return numberText(text);
    case 'float':
      return t === 'BINARY_FLOAT' ? float32Text(Number(text.replace(/^(-?)\./, '$10.'))) : float64Text(Number(text.replace(/^(-?)\./, '$10.')));
    case 'timestamp':
    case 'timestamptz':
      return timestampText(text, column.dataType);
    case 'bytes':
      return hexBytes(text);
    case 'text':
      // Oracle stores '' as NULL; a zero-length text can only be NULL.
      return text === '' ? null : text;
    default:
      return text;
  }
}

/**
 * A bind placeholder for a value of this column given as canonical text: DATE and TIMESTAMP
 * through an explicit format (never the session's implicit conversion), the rest as is.
 */
export function bindExpression(column: Pick<OracleColumn, 'dataType'>, placeholder: string): string {
  const t = column.dataType.toUpperCase();
  if (t === 'DATE') return `TO_DATE(${placeholder}, 'YYYY-MM-DD HH24:MI:SS')`;
  if (t.startsWith('TIMESTAMP')) {
    if (/WITH TIME ZONE/.test(t) || /LOCAL TIME ZONE/.test(t)) return `TO_TIMESTAMP_TZ(${placeholder}, 'YYYY-MM-DD HH24:MI:SS.FFTZH:TZM')`;
    return `TO_TIMESTAMP(${placeholder}, 'YYYY-MM-DD HH24:MI:SS.FF')`;
  }
  return placeholder;
}

/** A canonical key value -> what the driver binds (bytes as a Buffer, text as is). */
export function bindValue(value: SourceValue): string | Buffer | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return Buffer.from(value);
  return value;
}
