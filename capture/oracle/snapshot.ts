/**
 * The initial snapshot: each mapped table read in key order AS OF one SCN (a flashback query),
 * a chunk at a time (keyset pagination, FETCH FIRST n ROWS ONLY, never OFFSET). Every chunk
 * is one statement at the same SCN, so the whole snapshot is consistent with it, and a
 * snapshot resumed after a crash reads at the same SCN again (while undo still holds it).
 */
import type oracledb from 'oracledb';
import type { SourceRow } from '../../src/mapping/types.ts';
import type { SnapshotChunk as GenericSnapshotChunk } from '../snapshot-progress.ts';
import { keyValue, keysetSnapshot, type KeysetChunkOptions, type StoredKeyValue } from '../shared-keyset-snapshot.ts';
import type { OracleTable } from './catalog.ts';
import { classifyOracleError, queryArrays, quoteIdent, quoteTable } from './connection.ts';
import { bindExpression, bindValue, oracleValue, selectExpression, type OracleColumn } from './values.ts';

export type SnapshotChunk = GenericSnapshotChunk<StoredKeyValue>;

/**
 * `(k1 > :a) OR (k1 = :b AND k2 > :c) …` with the leading column's bound repeated on its own
 * (`k1 >= :x AND (…)`) so the key index range is used. Binds are numbered from `first`.
 */
export function keysetCondition(keyColumns: OracleColumn[], first: number): { sql: string; order: number[] } {
  const order: number[] = [];
  let n = first;
  const bind = (column: OracleColumn, index: number): string => {
    order.push(index);
    return bindExpression(column, `:${n++}`);
  };
  const names = keyColumns.map((c) => quoteIdent(c.name));
  if (keyColumns.length === 1) return { sql: `${names[0]} > ${bind(keyColumns[0]!, 0)}`, order };
  const leading = `${names[0]} >= ${bind(keyColumns[0]!, 0)}`;
  const alternatives = keyColumns.map((column, i) => {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) parts.push(`${names[j]} = ${bind(keyColumns[j]!, j)}`);
    parts.push(`${names[i]} > ${bind(column, i)}`);
    return parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`;
  });
  return { sql: `${leading} AND (${alternatives.join(' OR ')})`, order };
}

/** The statement for one chunk: binds :1 = the SCN, then the keyset values. */
export function snapshotChunkSql(table: OracleTable, keyColumns: string[], chunkSize: number, after: boolean): { sql: string; order: number[] } {
  const keys = keyColumns.map((k) => table.columns.find((c) => c.name === k)!);
  const condition = after ? keysetCondition(keys, 2) : undefined;
  const select = table.columns.map((c) => selectExpression(c)).join(', ');
  return {
    sql:
      `SELECT ${select} FROM ${quoteTable(table.owner, table.name)} AS OF SCN :1` +
      `${condition ? ` WHERE ${condition.sql}` : ''} ORDER BY ${keys.map((c) => quoteIdent(c.name)).join(', ')} FETCH FIRST ${chunkSize} ROWS ONLY`,
    order: condition?.order ?? [],
  };
}

export async function* snapshotTable(
  connection: oracledb.Connection,
  table: OracleTable,
  keyColumns: string[],
  options: KeysetChunkOptions & { scn: string; where: string },
): AsyncGenerator<SnapshotChunk> {
  yield* keysetSnapshot(table, keyColumns, options, async (afterKey) => {
    const { sql, order } = snapshotChunkSql(table, keyColumns, options.chunkSize, afterKey !== undefined);
    const binds: unknown[] = [options.scn, ...order.map((i) => bindValue(keyValue(afterKey![i]!)))];
    let rows: unknown[][];
    try {
      rows = await queryArrays(connection, sql, binds);
    } catch (error) {
      throw classifyOracleError(error, `${options.where} (snapshot of ${table.table})`);
    }
    return rows.map((raw) => {
      const row: SourceRow = {};
      table.columns.forEach((column, i) => {
        row[column.name] = oracleValue(column, raw[i]);
      });
      return row;
    });
  });
}
