/**
 * The initial snapshot: each mapped table read in key order, a chunk at a time (keyset
 * pagination, OFFSET 0 ROWS FETCH NEXT n ROWS ONLY after the last key, never a growing OFFSET),
 * under READ COMMITTED and without a lock held between chunks. Its rows carry the CDC max LSN
 * read before the first row (docs/mssql-capture.md: every change after it is streamed again, so
 * each key ends at its latest state).
 */
import type sql from 'mssql';
import type { SourceRow } from '../../src/mapping/types.ts';
import type { SnapshotChunk as GenericSnapshotChunk } from '../snapshot-progress.ts';
import { keyValue, keysetSnapshot, type KeysetChunkOptions, type StoredKeyValue } from '../shared-keyset-snapshot.ts';
import type { MssqlTable } from './catalog.ts';
import { classifyMssqlError, quoteIdent, quoteTable } from './connection.ts';
import { bindParam } from './request.ts';
import { mssqlValue, selectExpression, type MssqlColumn } from './values.ts';

export type SnapshotChunk = GenericSnapshotChunk<StoredKeyValue>;

/**
 * `[k1] >= @a0 AND ([k1] > @a0 OR ([k1] = @a0 AND [k2] > @a1))`: the key continuation, with
 * the leading column's bound on its own so an index seek is used; @aN is the N-th key value.
 */
export function keysetCondition(keyColumns: string[]): string {
  const names = keyColumns.map(quoteIdent);
  if (names.length === 1) return `${names[0]} > @a0`;
  const alternatives = names.map((name, i) => {
    const parts = names.slice(0, i).map((n, j) => `${n} = @a${j}`);
    parts.push(`${name} > @a${i}`);
    return parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
  });
  return `${names[0]} >= @a0 AND (${alternatives.join(' OR ')})`;
}

export function snapshotChunkSql(table: MssqlTable, keyColumns: string[], chunkSize: number, after: boolean): string {
  return (
    `SELECT ${table.columns.map((c) => selectExpression(c)).join(', ')} FROM ${quoteTable(table.schema, table.name)}` +
    `${after ? ` WHERE ${keysetCondition(keyColumns)}` : ''} ORDER BY ${keyColumns.map(quoteIdent).join(', ')} OFFSET 0 ROWS FETCH NEXT ${chunkSize} ROWS ONLY`
  );
}

export async function* snapshotTable(
  pool: sql.ConnectionPool,
  table: MssqlTable,
  keyColumns: string[],
  options: KeysetChunkOptions & { where: string },
): AsyncGenerator<SnapshotChunk> {
  const byName = new Map<string, MssqlColumn>(table.columns.map((c) => [c.name, c]));
  yield* keysetSnapshot(table, keyColumns, options, async (afterKey) => {
    const request = pool.request();
    if (afterKey) keyColumns.forEach((k, i) => bindParam(request, `a${i}`, byName.get(k)!, keyValue(afterKey[i]!)));
    let rows: Array<Record<string, unknown>>;
    try {
      rows = (await request.query(snapshotChunkSql(table, keyColumns, options.chunkSize, afterKey !== undefined))).recordset;
    } catch (error) {
      throw classifyMssqlError(error, `${options.where} (snapshot of ${table.table})`);
    }
    return rows.map((raw) => {
      const row: SourceRow = {};
      for (const column of table.columns) row[column.name] = mssqlValue(column, raw[column.name]);
      return row;
    });
  });
}
