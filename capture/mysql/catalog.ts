import type mysql from 'mysql2/promise';
import { HmsSyncError } from '../../src/errors.ts';
import type { Mapping, SourceColumn, SourceColumnKind } from '../../src/mapping/types.ts';
import { classifyMysqlError, queryRows } from './connection.ts';

export interface MysqlColumn extends SourceColumn {
  ordinal: number;
  /** information_schema DATA_TYPE ('decimal', 'varchar', …). */
  dataType: string;
  /** information_schema COLUMN_TYPE ('decimal(12,2)', "enum('a','b')", 'bigint(20) unsigned'). */
  columnType: string;
  /** Character set of text columns; null for binary and non-text columns. */
  charset: string | null;
  unsigned: boolean;
  /** ENUM / SET labels, in definition order. */
  labels?: string[];
}

export interface MysqlTable {
  /** "database.table" as in the catalog (and in the mapping file's `table`). */
  table: string;
  schema: string;
  name: string;
  /** In ordinal order. */
  columns: MysqlColumn[];
  byName: Map<string, MysqlColumn>;
  primaryKey: string[];
}

/** The column kind (src/mapping/types.ts) for an information_schema column. */
export function kindForDataType(dataType: string, charset: string | null): SourceColumnKind {
  switch (dataType.toLowerCase()) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
    case 'year':
    case 'bit':
      return 'integer';
    case 'decimal':
    case 'numeric':
      return 'decimal';
    case 'float':
    case 'double':
    case 'real':
      return 'float';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'datetime':
      return 'timestamp';
    case 'timestamp':
      return 'timestamptz';
    case 'json':
      return 'json';
    case 'enum':
    case 'set':
      return 'text';
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return charset === null || charset === 'binary' ? 'bytes' : 'text';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
      return 'bytes';
    default:
      // MariaDB's inet4/inet6/uuid and anything newer: the server's own text.
      return 'other';
  }
}

/** "enum('a','it''s')" -> ["a", "it's"] */
export function parseLabels(columnType: string): string[] | undefined {
  const m = /^(?:enum|set)\((.*)\)$/is.exec(columnType);
  if (!m) return undefined;
  const labels: string[] = [];
  const body = m[1]!;
  let i = 0;
  while (i < body.length) {
    if (body[i] !== "'") {
      i++;
      continue;
    }
    let label = '';
    i++;
    for (; i < body.length; i++) {
      if (body[i] === "'" && body[i + 1] === "'") {
        label += "'";
        i++;
      } else if (body[i] === '\\' && i + 1 < body.length) {
        label += body[++i];
      } else if (body[i] === "'") break;
      else label += body[i];
    }
    labels.push(label);
    i++;
  }
  return labels;
}

interface ColumnRow {
  TABLE_SCHEMA: string;
  TABLE_NAME: string;
  COLUMN_NAME: string;
  ORDINAL_POSITION: string;
  DATA_TYPE: string;
  COLUMN_TYPE: string;
  CHARACTER_SET_NAME: string | null;
}

export function columnFromRow(row: ColumnRow): MysqlColumn {
  const dataType = row.DATA_TYPE.toLowerCase();
  const labels = dataType === 'enum' || dataType === 'set' ? parseLabels(row.COLUMN_TYPE) : undefined;
  return {
    name: row.COLUMN_NAME,
    ordinal: Number(row.ORDINAL_POSITION),
    dataType,
    columnType: row.COLUMN_TYPE,
    charset: row.CHARACTER_SET_NAME,
    unsigned: /\bunsigned\b/i.test(row.COLUMN_TYPE),
    kind: kindForDataType(dataType, row.CHARACTER_SET_NAME),
    nativeType: row.COLUMN_TYPE,
    ...(labels ? { labels } : {}),
  };
}

/** Columns of some tables from information_schema, keyed "database.table". Names are matched exactly. */
export async function readColumns(connection: mysql.Connection, tables: Array<{ schema: string; name: string }>): Promise<Map<string, MysqlColumn[]>> {
  const out = new Map<string, MysqlColumn[]>();
  if (tables.length === 0) return out;
  // information_schema compares names case-insensitively; the exact match is made here.
  const rows = await queryRows<ColumnRow>(
    connection,
    `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME
       FROM information_schema.COLUMNS
      WHERE ${tables.map(() => '(TABLE_SCHEMA = ? AND TABLE_NAME = ?)').join(' OR ')}
      ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    tables.flatMap((t) => [t.schema, t.name]),
  );
  const wanted = new Set(tables.map((t) => `${t.schema}.${t.name}`));
  for (const row of rows) {
    const key = `${row.TABLE_SCHEMA}.${row.TABLE_NAME}`;
    if (!wanted.has(key)) continue;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(columnFromRow(row));
  }
  return out;
}

/** The mapped tables' columns and primary keys; a missing table is an error naming its mapping file. */
export async function loadTables(connection: mysql.Connection, mappings: readonly Mapping[], where: string): Promise<Map<string, MysqlTable>> {
  try {
    const columns = await readColumns(
      connection,
      mappings.map((m) => ({ schema: m.schema, name: m.tableName })),
    );
    const missing = mappings.filter((m) => !columns.has(m.table));
    if (missing.length > 0) {
      throw new HmsSyncError(
        'SOURCE_STATE',
        missing
          .map(
            (m) =>
              `${m.file}: table ${m.table} not found in ${where} (names are matched exactly, case included; ` +
              `a table the account may not SELECT from is not listed either)`,
          )
          .join('; '),
        { retryable: true },
      );
    }
    const keys = await queryRows<{ TABLE_SCHEMA: string; TABLE_NAME: string; COLUMN_NAME: string }>(
      connection,
      `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
        WHERE INDEX_NAME = 'PRIMARY' AND (${mappings.map(() => '(TABLE_SCHEMA = ? AND TABLE_NAME = ?)').join(' OR ')})
        ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX`,
      mappings.flatMap((m) => [m.schema, m.tableName]),
    );
    const tables = new Map<string, MysqlTable>();
    for (const mapping of mappings) {
      const list = columns.get(mapping.table)!;
      tables.set(mapping.table, {
        table: mapping.table,
        schema: mapping.schema,
        name: mapping.tableName,
        columns: list,
        byName: new Map(list.map((c) => [c.name, c])),
        primaryKey: [],
      });
    }
    for (const row of keys) tables.get(`${row.TABLE_SCHEMA}.${row.TABLE_NAME}`)?.primaryKey.push(row.COLUMN_NAME);
    return tables;
  } catch (error) {
    throw classifyMysqlError(error, where);
  }
}

/** The mapping's key columns, defaulting to the primary key; checked against the table. */
export function resolveKeyColumns(mapping: Mapping, table: MysqlTable): string[] {
  const key = mapping.key ?? table.primaryKey;
  if (key.length === 0) {
    throw new HmsSyncError('MAPPING', `${mapping.file}: table ${mapping.table} has no primary key; name its key columns with "key:"`);
  }
  for (const column of key) {
    if (!table.byName.has(column)) {
      throw new HmsSyncError('MAPPING', `${mapping.file}: key column ${column} is not a column of ${mapping.table}`);
    }
  }
  return key;
}

/** Collation id -> character set name, from the server itself (the table map names collations by id). */
export async function readCollations(connection: mysql.Connection): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  const rows = await queryRows<{ ID: string | null; CHARACTER_SET_NAME: string | null }>(
    connection,
    'SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS',
  );
  for (const row of rows) if (row.ID !== null && row.CHARACTER_SET_NAME !== null) map.set(Number(row.ID), row.CHARACTER_SET_NAME);
  // MariaDB 10.10+ lists the ids of its UCA 14 collations for each character set here.
  const extra = await queryRows<{ ID: string | null; CHARACTER_SET_NAME: string | null }>(
    connection,
    'SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY WHERE ID IS NOT NULL',
  ).catch(() => []);
  for (const row of extra) if (row.ID !== null && row.CHARACTER_SET_NAME !== null) map.set(Number(row.ID), row.CHARACTER_SET_NAME);
  map.set(63, 'binary');
  return map;
}
