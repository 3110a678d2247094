/**
 * The initial snapshot: each mapped table read in key order, a chunk at a time (keyset
 * pagination, OFFSET 0 ROWS FETCH NEXT n ROWS ONLY after the last key, never a growing OFFSET),
 * under READ COMMITTED and without a lock held between chunks. Its rows carry the CDC max LSN
 * read before the first row (docs/mssql-capture.md: every change after it is streamed again, so
 * each key ends at its latest state).
 */
import type sql from 'mssql';
import type { SourceRow, SourceValue } from '../../src/mapping/types.ts';
import type { RawChange } from '../../src/ports.ts';
import type { SnapshotChunk as GenericSnapshotChunk } from '../snapshot-progress.ts';
import { sourceColumns, type MssqlTable } from './catalog.ts';
import { classifyMssqlError, quoteIdent, quoteTable } from './connection.ts';
import { bindParam } from './request.ts';
import { mssqlValue, selectExpression, type MssqlColumn } from './values.ts';

export type StoredKeyValue = string | { hex: string } | null;
export type SnapshotChunk = GenericSnapshotChunk<StoredKeyValue>;

export function storedKey(value: SourceValue): StoredKeyValue {
  if (value instanceof Uint8Array) return { hex: Buffer.from(value).toString('hex') };
  return value;
}

export function keyValue(value: StoredKeyValue): SourceValue {
  if (value !== null && typeof value === 'object') return Uint8Array.from(Buffer.from(value.hex, 'hex'));
  return value;
}

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
  options: { position: string; commitTs: string; chunkSize: number; afterKey?: StoredKeyValue[]; signal: AbortSignal; where: string },
): AsyncGenerator<SnapshotChunk> {
  const columns = sourceColumns(table);
  const byName = new Map<string, MssqlColumn>(table.columns.map((c) => [c.name, c]));
  let afterKey = options.afterKey;
  for (;;) {
    if (options.signal.aborted) return;
    const request = pool.request();
    if (afterKey) keyColumns.forEach((k, i) => bindParam(request, `a${i}`, byName.get(k)!, keyValue(afterKey![i]!)));
    let rows: Array<Record<string, unknown>>;
    try {
      rows = (await request.query(snapshotChunkSql(table, keyColumns, options.chunkSize, afterKey !== undefined))).recordset;
    } catch (error) {
      throw classifyMssqlError(error, `${options.where} (snapshot of ${table.table})`);
    }
    const changes: RawChange[] = rows.map((raw) => {
      const row: SourceRow = {};
      for (const column of table.columns) row[column.name] = mssqlValue(column, raw[column.name]);
      const keyRow: SourceRow = {};
      for (const k of keyColumns) keyRow[k] = row[k] ?? null;
      return { op: 'r', table: table.table, position: options.position, commitTs: options.commitTs, capture: 'snapshot', row, before: null, keyRow, columns };
    });
    const last = changes[changes.length - 1];
    if (last) afterKey = keyColumns.map((k) => storedKey(last.row![k] ?? null));
    const done = rows.length < options.chunkSize;
    yield { changes, lastKey: afterKey ?? [], done };
    if (done) return;
  }
}
