// The legacy rows exactly as the database stores them (CHAR padding and all), read once after
// the seed, so the demo can print a snapshot envelope next to the row it came from.
import type pg from 'pg';
import { quoteIdent } from '../servers/index.ts';
import { qualified, type LegacyTable } from './legacy-schema.ts';

/** int2, int4, int8, numeric: printed bare; everything else quoted as an SQL literal. */
const NUMERIC_TYPES = new Set([20, 21, 23, 1700]);

/** Every value as PostgreSQL's own text output: no Date conversion, no trimming. */
const asText = { getTypeParser: () => (value: string) => value };

export type StoredRows = Map<string, Map<string, string[]>>;

/** table name -> key (trimmed key values joined by '|') -> `COLUMN=value` pairs. */
export async function readStoredRows(client: pg.Client, tables: readonly LegacyTable[]): Promise<StoredRows> {
  const stored: StoredRows = new Map();
  for (const table of tables) {
    const result = await client.query<Record<string, string | null>>({
      text: `SELECT ${table.columns.map(quoteIdent).join(', ')} FROM ${qualified(table)}`,
      types: asText,
    });
    const rows = new Map<string, string[]>();
    for (const row of result.rows) {
      const key = table.keyColumns.map((c) => (row[c] ?? '').trimEnd()).join('|');
      rows.set(
        key,
        result.fields.map(({ name, dataTypeID }) => {
          const value = row[name];
          if (value === null || value === undefined) return `${name}=NULL`;
          return NUMERIC_TYPES.has(dataTypeID) ? `${name}=${value}` : `${name}='${value.replaceAll("'", "''")}'`;
        }),
      );
    }
    stored.set(table.name, rows);
  }
  return stored;
}

/** The stored-rows key of an envelope's `key` (its values in key order). */
export function envelopeKey(key: Record<string, unknown> | null): string {
  return key === null ? '' : Object.values(key).map(String).join('|');
}
