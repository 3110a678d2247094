/**
 * A RawChange as bytes, for the holding stream of paused tables: decoded, it is the same
 * change (same position, same row values byte for byte), so the envelope made from it on
 * resume carries the id and position it would have had without the pause.
 *
 * Rows and the column map are written as entry lists, not JSON objects: that keeps their
 * order and a column called "__proto__" exactly. A value is a string, null, `{ "b": base64 }`
 * for bytes, or `{ "u": 1 }` for a value the source did not send (an unchanged TOAST column).
 */
import type { Op, CaptureMethod } from '../envelope/envelope.ts';
import type { SourceColumn, SourceRow, SourceValue } from '../mapping/types.ts';
import type { RawChange } from '../ports.ts';

type EncodedValue = string | null | { b: string } | { u: 1 };
type EncodedRow = Array<[string, EncodedValue]>;

interface EncodedChange {
  v: 1;
  op: Op;
  table: string;
  position: string;
  commitTs: string | null;
  capture: CaptureMethod;
  row: EncodedRow | null;
  before: EncodedRow | null;
  keyRow: EncodedRow | null;
  columns: Array<[string, SourceColumn]>;
  refetched?: string[];
  error?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeRow(row: SourceRow | null): EncodedRow | null {
  if (row === null) return null;
  return Object.keys(row).map((column) => {
    const value = row[column] as SourceValue | undefined;
    if (value === undefined) return [column, { u: 1 }];
    if (value instanceof Uint8Array) return [column, { b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') }];
    return [column, value];
  });
}

function decodeRow(row: EncodedRow | null): SourceRow | null {
  if (row === null) return null;
  const out: SourceRow = {};
  for (const [column, value] of row) {
    let decoded: SourceValue | undefined;
    if (value === null || typeof value === 'string') decoded = value;
    else if ('b' in value) decoded = new Uint8Array(Buffer.from(value.b, 'base64'));
    else decoded = undefined;
    // defineProperty: a plain assignment to "__proto__" would set the prototype instead.
    Object.defineProperty(out, column, { value: decoded, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function encodeRawChange(change: RawChange): Uint8Array {
  const encoded: EncodedChange = {
    v: 1,
    op: change.op,
    table: change.table,
    position: change.position,
    commitTs: change.commitTs,
    capture: change.capture,
    row: encodeRow(change.row),
    before: encodeRow(change.before),
    keyRow: encodeRow(change.keyRow),
    columns: [...change.columns].map(([name, column]) => [name, { name: column.name, kind: column.kind, nativeType: column.nativeType }]),
    ...(change.refetched !== undefined ? { refetched: [...change.refetched] } : {}),
    ...(change.error !== undefined ? { error: change.error } : {}),
  };
  return encoder.encode(JSON.stringify(encoded));
}

export function decodeRawChange(bytes: Uint8Array): RawChange {
  const encoded = JSON.parse(decoder.decode(bytes)) as EncodedChange;
  if (encoded.v !== 1) throw new Error(`held change of unknown version ${String(encoded.v)}`);
  return {
    op: encoded.op,
    table: encoded.table,
    position: encoded.position,
    commitTs: encoded.commitTs,
    capture: encoded.capture,
    row: decodeRow(encoded.row),
    before: decodeRow(encoded.before),
    keyRow: decodeRow(encoded.keyRow),
    columns: new Map(encoded.columns),
    ...(encoded.refetched !== undefined ? { refetched: encoded.refetched } : {}),
    ...(encoded.error !== undefined ? { error: encoded.error } : {}),
  };
}
