import type pg from 'pg';
import type { SourceColumn, SourceRow } from '../../src/mapping/types.ts';
import type { RawChange } from '../../src/ports.ts';
import { kindForOid, pgTextToSourceValue } from './pg-types.ts';
import { quoteIdent, quoteTable } from './connection.ts';
import type { PgTable } from './catalog.ts';
import type { SnapshotChunk as GenericSnapshotChunk } from '../snapshot-progress.ts';

export type SnapshotChunk = GenericSnapshotChunk<string>;

/**
 * Reads one table in key order, a chunk at a time (keyset pagination: each chunk is one
 * indexed range query, never OFFSET), inside whatever transaction the client is in.
 * Every row becomes an `r` change at the snapshot's position.
 */
export async function* snapshotTable(
  client: pg.Client,
  table: PgTable,
  keyColumns: string[],
  options: { position: string; commitTs: string; chunkSize: number; afterKey?: string[]; signal: AbortSignal },
): AsyncGenerator<SnapshotChunk> {
  const keyList = keyColumns.map(quoteIdent).join(', ');
  const from = quoteTable(table.schema, table.name);
  let afterKey = options.afterKey;
  for (;;) {
    if (options.signal.aborted) return;
    const where = afterKey ? `WHERE (${keyList}) > (${keyColumns.map((_, i) => `$${i + 1}`).join(', ')})` : '';
    const params = afterKey ? [...afterKey, options.chunkSize] : [options.chunkSize];
    const result = await client.query<Record<string, string | null>>(
      `SELECT * FROM ${from} ${where} ORDER BY ${keyList} LIMIT $${params.length}`,
      params,
    );
    const columns = new Map<string, SourceColumn>();
    for (const field of result.fields) {
      const known = table.columns.get(field.name);
      columns.set(field.name, {
        name: field.name,
        kind: kindForOid(field.dataTypeID),
        nativeType: known?.nativeType ?? `oid ${field.dataTypeID}`,
      });
    }
    const changes: RawChange[] = result.rows.map((raw) => {
      const row: SourceRow = {};
      for (const [name, column] of columns) row[name] = pgTextToSourceValue(column.kind, raw[name] ?? null);
      const keyRow: SourceRow = {};
      for (const k of keyColumns) keyRow[k] = row[k] ?? null;
      return {
        op: 'r',
        table: table.table,
        position: options.position,
        commitTs: options.commitTs,
        capture: 'snapshot',
        row,
        before: null,
        keyRow,
        columns,
      };
    });
    const last = result.rows[result.rows.length - 1];
    if (last) afterKey = keyColumns.map((k) => last[k] as string);
    const done = result.rows.length < options.chunkSize;
    yield { changes, lastKey: afterKey ?? [], done };
    if (done) return;
  }
}
