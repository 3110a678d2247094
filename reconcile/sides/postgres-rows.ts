/**
 * Reading PostgreSQL source rows for reconciliation and resync, in the capture's canonical
 * text form (capture/postgres/pg-types.ts), so they map exactly as the bridge maps them.
 */
import type pg from 'pg';
import { quoteIdent, quoteTable } from '../../capture/postgres/connection.ts';
import type { PgTable } from '../../capture/postgres/catalog.ts';
import { kindForOid, pgTextToSourceValue } from '../../capture/postgres/pg-types.ts';
import type { SourceColumn, SourceRow, SourceValue } from '../../src/mapping/types.ts';

export interface SourceRead {
  row: SourceRow;
  columns: ReadonlyMap<string, SourceColumn>;
  /** The key columns' values as input text (what a query by key binds). */
  sourceKey: string[];
}

/** A captured key value back to the text PostgreSQL accepts as input for its column. */
export function keyInputText(value: SourceValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  return value;
}

export function columnsOf(table: PgTable, fields: readonly { name: string; dataTypeID: number }[]): Map<string, SourceColumn> {
  const columns = new Map<string, SourceColumn>();
  for (const field of fields) {
    const known = table.columns.get(field.name);
    columns.set(field.name, { name: field.name, kind: kindForOid(field.dataTypeID), nativeType: known?.nativeType ?? `oid ${field.dataTypeID}` });
  }
  return columns;
}

export function toSourceRead(raw: Record<string, string | null>, columns: ReadonlyMap<string, SourceColumn>, keyColumns: readonly string[]): SourceRead {
  const row: SourceRow = {};
  for (const [name, column] of columns) row[name] = pgTextToSourceValue(column.kind, raw[name] ?? null);
  return { row, columns, sourceKey: keyColumns.map((k) => keyInputText(row[k])) };
}

const KEYS_PER_QUERY = 500;

/** The rows of these keys (key column input text, in key order), in whatever transaction the client is in. */
export async function readRowsByKey(client: pg.Client, table: PgTable, keyColumns: readonly string[], keys: readonly string[][]): Promise<SourceRead[]> {
  const out: SourceRead[] = [];
  const keyList = keyColumns.map(quoteIdent).join(', ');
  for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
    const chunk = keys.slice(i, i + KEYS_PER_QUERY);
    const params: string[] = [];
    const tuples = chunk.map((key) => `(${key.map((value) => (params.push(value), `$${params.length}`)).join(', ')})`);
    const result = await client.query<Record<string, string | null>>(
      `SELECT * FROM ${quoteTable(table.schema, table.name)} WHERE (${keyList}) IN (${tuples.join(', ')})`,
      params,
    );
    const columns = columnsOf(table, result.fields);
    for (const raw of result.rows) out.push(toSourceRead(raw, columns, keyColumns));
  }
  return out;
}
