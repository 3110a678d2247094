import { ColumnType, binlogTypeName, kindOf, type BinlogColumn, type TableMap } from './binlog-events.ts';
import type { MysqlColumn } from './catalog.ts';
import { decodeText } from './charsets.ts';

/** Whether the table map leaves something to information_schema (names, charsets or labels). */
export function needsInformationSchema(map: TableMap): boolean {
  return (
    !map.names ||
    !map.collations ||
    map.columns.some((c, i) => (c.type === ColumnType.ENUM && !map.enumLabels?.[i]) || (c.type === ColumnType.SET && !map.setLabels?.[i]))
  );
}

function isTextual(type: number): boolean {
  return (
    type === ColumnType.STRING ||
    type === ColumnType.VARCHAR ||
    type === ColumnType.VAR_STRING ||
    type === ColumnType.BLOB ||
    type === ColumnType.TINY_BLOB ||
    type === ColumnType.MEDIUM_BLOB ||
    type === ColumnType.LONG_BLOB
  );
}

/** Whether a binlog column type can be the information_schema column (same family). */
export function compatible(type: number, dataType: string): boolean {
  const T = ColumnType;
  const families: Record<string, number[]> = {
    tinyint: [T.TINY],
    smallint: [T.SHORT],
    mediumint: [T.INT24],
    int: [T.LONG],
    integer: [T.LONG],
    bigint: [T.LONGLONG],
    float: [T.FLOAT],
    double: [T.DOUBLE],
    real: [T.DOUBLE],
    decimal: [T.NEWDECIMAL, T.DECIMAL],
    numeric: [T.NEWDECIMAL, T.DECIMAL],
    date: [T.DATE, T.NEWDATE],
    time: [T.TIME, T.TIME2],
    datetime: [T.DATETIME, T.DATETIME2],
    timestamp: [T.TIMESTAMP, T.TIMESTAMP2],
    year: [T.YEAR],
    bit: [T.BIT],
    char: [T.STRING],
    binary: [T.STRING],
    varchar: [T.VARCHAR, T.VAR_STRING],
    varbinary: [T.VARCHAR, T.VAR_STRING],
    tinytext: [T.BLOB, T.TINY_BLOB],
    text: [T.BLOB],
    mediumtext: [T.BLOB, T.MEDIUM_BLOB],
    longtext: [T.BLOB, T.LONG_BLOB],
    tinyblob: [T.BLOB, T.TINY_BLOB],
    blob: [T.BLOB],
    mediumblob: [T.BLOB, T.MEDIUM_BLOB],
    longblob: [T.BLOB, T.LONG_BLOB],
    json: [T.JSON, T.BLOB],
    enum: [T.ENUM],
    set: [T.SET],
  };
  const family = families[dataType.toLowerCase()];
  return family === undefined || family.includes(type);
}

/**
 * The columns of a table map, ready to decode rows: names, signedness, character sets and
 * ENUM/SET labels from the map's own metadata (binlog_row_metadata=FULL) where it has them,
 * else from information_schema (`info`, the table as it is now). Without names in the map, a
 * table whose columns no longer fit the logged change gets `error` (its rows are
 * dead-lettered) and placeholder names `@1`, `@2`… so the raw row still shows the values.
 */
export function resolveColumns(
  map: TableMap,
  info: MysqlColumn[] | undefined,
  options: { table: string; collations: ReadonlyMap<number, string>; rowMetadata: string },
): { columns: BinlogColumn[]; error?: string } {
  const charsetOf = (collation: number | undefined): string | undefined => (collation === undefined ? undefined : options.collations.get(collation));
  let error: string | undefined;
  if (!map.names) {
    const mismatch =
      !info || info.length !== map.columns.length
        ? `the table has ${info?.length ?? 0} columns now, the logged change ${map.columns.length}`
        : map.columns.map((c, i) => (compatible(c.type, info[i]!.dataType) ? undefined : `${info[i]!.name} is ${info[i]!.columnType} now`)).find(Boolean);
    if (mismatch) {
      error =
        `the columns of ${options.table} changed since this change was logged (${mismatch}) and the binlog carries no column names ` +
        `(binlog_row_metadata=${options.rowMetadata}); a DBA can run: SET GLOBAL binlog_row_metadata = FULL;`;
    }
  }
  const byName = new Map((info ?? []).map((c) => [c.name, c]));
  const columns = map.columns.map((type, i): BinlogColumn => {
    const name = map.names?.[i] ?? (error ? `@${i + 1}` : info![i]!.name);
    const known = byName.get(name);
    // information_schema describes the table as it is now: used only for a column of the same type family.
    const same = known !== undefined && compatible(type.type, known.dataType) ? known : undefined;
    const charset = isTextual(type.type) ? (charsetOf(map.collations?.[i]) ?? (same ? same.charset : error ? 'utf8mb4' : null)) : null;
    const labelCharset = charsetOf(map.enumSetCollations?.[i]) ?? 'utf8mb4';
    const labels = (list: Buffer[] | undefined): string[] | undefined => list?.map((b) => decodeText(b, labelCharset) ?? b.toString('utf8'));
    const column: BinlogColumn = {
      ...type,
      name,
      unsigned: map.unsigned?.[i] ?? same?.unsigned ?? false,
      charset,
      kind: 'text',
      nativeType: same ? same.columnType : binlogTypeName(type),
    };
    const enumLabels = type.type === ColumnType.ENUM ? (labels(map.enumLabels?.[i]) ?? same?.labels) : undefined;
    const setLabels = type.type === ColumnType.SET ? (labels(map.setLabels?.[i]) ?? same?.labels) : undefined;
    if (enumLabels) column.enumLabels = enumLabels;
    if (setLabels) column.setLabels = setLabels;
    // MariaDB's JSON is LONGTEXT: information_schema still says json where the server knows it.
    column.kind = same?.kind === 'json' ? 'json' : kindOf(column);
    if (charset !== null && /^utf8(mb[34])?$/.test(charset)) column.utf8 = true;
    return column;
  });
  return error ? { columns, error } : { columns };
}
