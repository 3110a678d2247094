/**
 * The mapped tables as the catalog describes them (sys.columns, the primary key index), and
 * their CDC capture instances (cdc.change_tables), which only a CDC-enabled database has.
 */
import type sql from 'mssql';
import type { Mapping } from '../../src/mapping/types.ts';
import { requireMappedTables } from '../shared-catalog.ts';
import { classifyMssqlError, quoteTable } from './connection.ts';
import { mssqlColumn, type MssqlColumn } from './values.ts';

export interface MssqlTable {
  /** "schema.table" as in the mapping file. */
  table: string;
  schema: string;
  name: string;
  objectId: number;
  columns: MssqlColumn[];
  primaryKey: string[];
}

export interface CaptureInstance {
  table: string;
  name: string;
  /** Column names the change table captures. */
  columns: string[];
  /** Column ordinal in the source table, for the update mask. */
  ordinals: Map<string, number>;
  /** Hex of the instance's start LSN. */
  startLsn: string;
}

/** Binds @s0, @t0, @s1, @t1 … -> a predicate over schema and table names. */
export function tableMatch(count: number, schemaColumn: string, tableColumn: string): string {
  return Array.from({ length: count }, (_, i) => `(${schemaColumn} = @s${i} AND ${tableColumn} = @t${i})`).join(' OR ');
}

export function columnsSql(count: number): string {
  return (
    `SELECT s.name AS schema_name, t.name AS table_name, t.object_id, c.name AS column_name, ty.name AS type_name, ` +
    `c.precision, c.scale, c.max_length, c.collation_name ` +
    `FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id JOIN sys.columns c ON c.object_id = t.object_id ` +
    `JOIN sys.types ty ON ty.user_type_id = c.user_type_id ` +
    `WHERE ${tableMatch(count, 's.name', 't.name')} ORDER BY s.name, t.name, c.column_id`
  );
}

export function primaryKeySql(count: number): string {
  return (
    `SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name ` +
    `FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id ` +
    `JOIN sys.indexes i ON i.object_id = t.object_id AND i.is_primary_key = 1 ` +
    `JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ` +
    `JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id ` +
    `WHERE ${tableMatch(count, 's.name', 't.name')} ORDER BY s.name, t.name, ic.key_ordinal`
  );
}

/** Capture instances of the given tables, newest first (a table can have two during a schema change). */
export const CAPTURE_INSTANCES_SQL =
  `SELECT ct.source_object_id, ct.capture_instance, CONVERT(VARCHAR(20), ct.start_lsn, 2) AS start_lsn, cc.column_name, cc.column_ordinal ` +
  `FROM cdc.change_tables ct JOIN cdc.captured_columns cc ON cc.object_id = ct.object_id ` +
  `ORDER BY ct.create_date DESC, cc.column_ordinal`;

function bindTables(request: sql.Request, mappings: readonly Mapping[]): sql.Request {
  mappings.forEach((m, i) => {
    request.input(`s${i}`, m.schema);
    request.input(`t${i}`, m.tableName);
  });
  return request;
}

export async function loadTables(pool: sql.ConnectionPool, mappings: readonly Mapping[], where: string): Promise<Map<string, MssqlTable>> {
  const out = new Map<string, MssqlTable>();
  if (mappings.length === 0) return out;
  try {
    const columns = await bindTables(pool.request(), mappings).query<{
      schema_name: string;
      table_name: string;
      object_id: number;
      column_name: string;
      type_name: string;
      precision: number;
      scale: number;
      max_length: number;
      collation_name: string | null;
    }>(columnsSql(mappings.length));
    for (const row of columns.recordset) {
      const table = `${row.schema_name}.${row.table_name}`;
      // Names compare case-insensitively under most collations; the mapping's are exact.
      if (!mappings.some((m) => m.table === table)) continue;
      let entry = out.get(table);
      if (!entry) out.set(table, (entry = { table, schema: row.schema_name, name: row.table_name, objectId: row.object_id, columns: [], primaryKey: [] }));
      entry.columns.push(mssqlColumn(row.column_name, row.type_name, row.precision, row.scale, row.max_length, row.collation_name));
    }
    const keys = await bindTables(pool.request(), mappings).query<{ schema_name: string; table_name: string; column_name: string }>(primaryKeySql(mappings.length));
    for (const row of keys.recordset) out.get(`${row.schema_name}.${row.table_name}`)?.primaryKey.push(row.column_name);
  } catch (error) {
    throw classifyMssqlError(error, where);
  }
  requireMappedTables(mappings, out, where, { matching: 'names are matched exactly', quoteTable });
  return out;
}

/** The newest capture instance of each table (tables without one are absent). */
export async function loadCaptureInstances(pool: sql.ConnectionPool, tables: Iterable<MssqlTable>): Promise<Map<string, CaptureInstance>> {
  const byObject = new Map([...tables].map((t) => [t.objectId, t]));
  const rows = await pool
    .request()
    .query<{ source_object_id: number; capture_instance: string; start_lsn: string; column_name: string; column_ordinal: number }>(CAPTURE_INSTANCES_SQL);
  const out = new Map<string, CaptureInstance>();
  for (const row of rows.recordset) {
    const table = byObject.get(row.source_object_id);
    if (!table) continue;
    let instance = out.get(table.table);
    if (!instance) out.set(table.table, (instance = { table: table.table, name: row.capture_instance, columns: [], ordinals: new Map(), startLsn: row.start_lsn }));
    if (instance.name !== row.capture_instance) continue;
    instance.columns.push(row.column_name);
    instance.ordinals.set(row.column_name, row.column_ordinal);
  }
  return out;
}
