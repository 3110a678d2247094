/**
 * Key values in the poll state (JSON in NATS KV) and as map keys: text stays text, bytes
 * become { b: base64 }, NULL stays null.
 */
import type { SourceRow, SourceValue } from '../../src/mapping/types.ts';
import type { KeyValues } from './types.ts';

export type StoredValue = string | null | { b: string };
export type StoredKey = StoredValue[];

export function encodeKey(key: KeyValues): StoredKey {
  return key.map((v) => (v instanceof Uint8Array ? { b: Buffer.from(v).toString('base64') } : v));
}

export function decodeKey(stored: StoredKey): KeyValues {
  return stored.map((v) => (v !== null && typeof v === 'object' ? new Uint8Array(Buffer.from(v.b, 'base64')) : v));
}

/** A string that is equal for equal keys and different for different ones. */
export function keyId(key: KeyValues): string {
  return JSON.stringify(encodeKey(key));
}

export function keyOf(values: readonly SourceValue[], keyIndexes: readonly number[]): KeyValues {
  return keyIndexes.map((i) => values[i] ?? null);
}

export function keyRow(keyColumns: readonly string[], key: KeyValues): SourceRow {
  const row: SourceRow = {};
  keyColumns.forEach((column, i) => (row[column] = key[i] ?? null));
  return row;
}
