/**
 * Pure chunk logic: what changed between a chunk's stored row hashes and the rows read now,
 * and how rows are cut into chunks.
 */
import type { Op } from '../../src/envelope/envelope.ts';
import type { SourceValue } from '../../src/mapping/types.ts';
import { decodeKey, encodeKey, keyId, type StoredKey } from './key-codec.ts';
import type { ChunkEntry } from './state.ts';
import type { KeyValues } from './types.ts';

export interface ReadRow {
  key: KeyValues;
  id: string;
  /** xxhash of the canonical values (row-hash.ts). */
  hash: string;
  values: SourceValue[];
  dbHash: bigint;
}

export interface StoredRow {
  key: KeyValues;
  hash: string;
}

export type StoredRows = Map<string, StoredRow>;

export interface Detected {
  op: Extract<Op, 'c' | 'u' | 'd' | 'r'>;
  id: string;
  key: KeyValues;
  /** The row as read (c, u, r); absent for d. */
  row?: ReadRow;
}

export function entryToRows(entry: ChunkEntry | undefined): StoredRows | undefined {
  if (!entry) return undefined;
  const rows: StoredRows = new Map();
  for (const [stored, hash] of entry.rows) {
    const key = decodeKey(stored);
    rows.set(keyId(key), { key, hash });
  }
  return rows;
}

export function rowsToEntry(rows: StoredRows): ChunkEntry {
  return { rows: [...rows.values()].map((r) => [encodeKey(r.key), r.hash] as [StoredKey, string]) };
}

/**
 * Rows read over a whole chunk range against what was stored for it: inserts and updates in
 * key order, then deletes. `stored` undefined (no state) makes every row an `r`.
 */
export function diffChunk(read: readonly ReadRow[], stored: StoredRows | undefined): Detected[] {
  if (!stored) return read.map((row) => ({ op: 'r', id: row.id, key: row.key, row }));
  const out: Detected[] = [];
  const seen = new Set<string>();
  for (const row of read) {
    seen.add(row.id);
    const before = stored.get(row.id);
    if (!before) out.push({ op: 'c', id: row.id, key: row.key, row });
    else if (before.hash !== row.hash) out.push({ op: 'u', id: row.id, key: row.key, row });
  }
  for (const [id, before] of stored) if (!seen.has(id)) out.push({ op: 'd', id, key: before.key });
  return out;
}

/** Rows found by key (a hint query, a held key read again): no row means nothing, not a delete. */
export function diffFound(read: readonly ReadRow[], stored: StoredRows): Detected[] {
  const out: Detected[] = [];
  for (const row of read) {
    const before = stored.get(row.id);
    if (!before) out.push({ op: 'c', id: row.id, key: row.key, row });
    else if (before.hash !== row.hash) out.push({ op: 'u', id: row.id, key: row.key, row });
  }
  return out;
}

/** Stored rows after sending `sent`: their new hash, or gone for a delete. */
export function applySent(stored: StoredRows, sent: readonly Detected[]): void {
  for (const change of sent) {
    if (change.op === 'd') stored.delete(change.id);
    else stored.set(change.id, { key: change.key, hash: change.row!.hash });
  }
}

/** Bytes a row takes in a chunk entry (JSON). */
export function entryRowBytes(row: { key: KeyValues; hash: string }): number {
  return JSON.stringify([encodeKey(row.key), row.hash]).length + 1;
}

/**
 * Cuts rows (in key order) into chunks of at most `maxRows` rows whose entries stay under
 * `maxBytes`; every chunk gets at least one row.
 */
export function cutChunks<R extends { key: KeyValues; hash: string }>(rows: readonly R[], maxRows: number, maxBytes: number): R[][] {
  const chunks: R[][] = [];
  let current: R[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = entryRowBytes(row);
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function sumHashes(rows: readonly { dbHash: bigint }[]): bigint {
  let sum = 0n;
  for (const row of rows) sum += row.dbHash;
  return sum;
}
