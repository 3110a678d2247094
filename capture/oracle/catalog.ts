/**
 * The mapped tables as the data dictionary describes them (ALL_TAB_COLUMNS, ALL_CONSTRAINTS):
 * columns in COLUMN_ID order, primary key columns in key order. ALL_* views list only what the
 * account may see, so a table without a SELECT grant is reported as missing, with the GRANT.
 */
import type oracledb from 'oracledb';
import type { Mapping } from '../../src/mapping/types.ts';
import { requireMappedTables } from '../shared-catalog.ts';
import { classifyOracleError, queryArrays, quoteTable } from './connection.ts';
import { oracleColumn, type OracleColumn } from './values.ts';

export interface OracleTable {
  /** "OWNER.TABLE" as in the mapping file. */
  table: string;
  owner: string;
  name: string;
  columns: OracleColumn[];
  primaryKey: string[];
}

/** The statement that lists the columns of the given owner/table pairs (binds :1, :2, … in pairs). */
export function columnsSql(count: number): string {
  const match = Array.from({ length: count }, (_, i) => `(OWNER = :${2 * i + 1} AND TABLE_NAME = :${2 * i + 2})`).join(' OR ');
  return (
    `SELECT OWNER, TABLE_NAME, COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE FROM ALL_TAB_COLUMNS ` +
    `WHERE (${match}) AND HIDDEN_COLUMN = 'NO' ORDER BY OWNER, TABLE_NAME, COLUMN_ID`
  );
}

export function primaryKeySql(count: number): string {
  const match = Array.from({ length: count }, (_, i) => `(c.OWNER = :${2 * i + 1} AND c.TABLE_NAME = :${2 * i + 2})`).join(' OR ');
  return (
    `SELECT c.OWNER, c.TABLE_NAME, cc.COLUMN_NAME FROM ALL_CONSTRAINTS c ` +
    `JOIN ALL_CONS_COLUMNS cc ON cc.OWNER = c.OWNER AND cc.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND cc.TABLE_NAME = c.TABLE_NAME ` +
    `WHERE c.CONSTRAINT_TYPE = 'P' AND (${match}) ORDER BY c.OWNER, c.TABLE_NAME, cc.POSITION`
  );
}

export async function loadTables(connection: oracledb.Connection, mappings: readonly Mapping[], where: string): Promise<Map<string, OracleTable>> {
  const out = new Map<string, OracleTable>();
  if (mappings.length === 0) return out;
  const binds = mappings.flatMap((m) => [m.schema, m.tableName]);
  let columns: Array<[string, string, string, string, string | null, string | null]>;
  let keys: Array<[string, string, string]>;
  try {
    columns = await queryArrays(connection, columnsSql(mappings.length), binds);
    keys = await queryArrays(connection, primaryKeySql(mappings.length), binds);
  } catch (error) {
    throw classifyOracleError(error, where);
  }
  for (const [owner, name, column, dataType, precision, scale] of columns) {
    const table = `${owner}.${name}`;
    let entry = out.get(table);
    if (!entry) out.set(table, (entry = { table, owner, name, columns: [], primaryKey: [] }));
    entry.columns.push(oracleColumn(column, dataType, precision === null ? null : Number(precision), scale === null ? null : Number(scale)));
  }
  for (const [owner, name, column] of keys) out.get(`${owner}.${name}`)?.primaryKey.push(column);
  requireMappedTables(mappings, out, where, { matching: 'names are matched exactly, upper case unless created quoted', quoteTable });
  return out;
}
