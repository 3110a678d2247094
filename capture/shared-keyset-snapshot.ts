/**
 * One table of a log source's initial snapshot, read in key order a chunk at a time (keyset
 * pagination after the last key read, never a growing OFFSET), as the Oracle, SQL Server and
 * MySQL captures read it. Each source writes its own chunk statement and converts its own
 * values; the paging, the `r` changes and the last key kept in the offsets bucket are shared.
 */
import type { SourceColumn, SourceRow, SourceValue } from '../src/mapping/types.ts';
import type { RawChange } from '../src/ports.ts';
import { sourceColumns } from './shared-catalog.ts';
import type { SnapshotChunk } from './snapshot-progress.ts';

/** A key value as stored in the offsets bucket: text, or bytes as hex. */
export type StoredKeyValue = string | { hex: string } | null;

export function storedKey(value: SourceValue): StoredKeyValue {
  if (value instanceof Uint8Array) return { hex: Buffer.from(value).toString('hex') };
  return value;
}

export function keyValue(value: StoredKeyValue): SourceValue {
  if (value !== null && typeof value === 'object') return Uint8Array.from(Buffer.from(value.hex, 'hex'));
  return value;
}

/** How a source's snapshot reads one table: at which position, how many rows a chunk, after which key. */
export interface KeysetChunkOptions {
  position: string;
  commitTs: string;
  chunkSize: number;
  /** The last key a restarted snapshot recorded: the table continues after it. */
  afterKey?: StoredKeyValue[] | undefined;
  signal: AbortSignal;
}

/**
 * Chunks of one table (`table.table`: "schema.table" as in the mapping file) until a chunk comes
 * back shorter than `chunkSize` (that one is `done`). `readChunk` reads up to `chunkSize` rows in
 * key order after `afterKey` (from the first row when undefined), as canonical values. Every row
 * becomes an `r` change at the snapshot's position; each chunk carries its last key, where the
 * next chunk, or a snapshot restarted from the offsets bucket, continues.
 */
export async function* keysetSnapshot(
  table: { table: string; columns: ReadonlyArray<SourceColumn> },
  keyColumns: string[],
  options: KeysetChunkOptions,
  readChunk: (afterKey: StoredKeyValue[] | undefined) => Promise<SourceRow[]>,
): AsyncGenerator<SnapshotChunk<StoredKeyValue>> {
  const columns = sourceColumns(table);
  const { position, commitTs } = options;
  let afterKey = options.afterKey;
  for (;;) {
    if (options.signal.aborted) return;
    const rows = await readChunk(afterKey);
    const changes: RawChange[] = rows.map((row) => {
      const keyRow: SourceRow = {};
      for (const k of keyColumns) keyRow[k] = row[k] ?? null;
      return { op: 'r', table: table.table, position, commitTs, capture: 'snapshot', row, before: null, keyRow, columns };
    });
    const last = rows[rows.length - 1];
    if (last) afterKey = keyColumns.map((k) => storedKey(last[k] ?? null));
    const done = rows.length < options.chunkSize;
    yield { changes, lastKey: afterKey ?? [], done };
    if (done) return;
  }
}
