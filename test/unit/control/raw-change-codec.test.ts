import { describe, expect, it } from 'vitest';
import { decodeRawChange, encodeRawChange } from '../../../src/control/index.ts';
import type { SourceColumn } from '../../../src/mapping/types.ts';
import type { RawChange } from '../../../src/ports.ts';

function columns(...list: Array<[string, SourceColumn['kind'], string]>): Map<string, SourceColumn> {
  return new Map(list.map(([name, kind, nativeType]) => [name, { name, kind, nativeType }]));
}

describe('RawChange serialization for the holding stream', () => {
  it('round-trips every field exactly: text, NULL, bytes, unsent values, order, odd column names', () => {
    const row: Record<string, any> = {};
    row['id'] = '42';
    row['amount'] = '12.3400';
    Object.defineProperty(row, '__proto__', { value: 'legacy', enumerable: true, writable: true, configurable: true });
    row['blob'] = new Uint8Array([0, 255, 1, 128]);
    row['empty'] = '';
    row['nothing'] = null;
    row['toast'] = undefined;
    row['ünï 🐘'] = 'x\u0000y';
    const change: RawChange = {
      op: 'u',
      table: 'public.counters',
      position: '0000000001A2B3C4-00000003',
      commitTs: '2026-01-02T03:04:05.678Z',
      capture: 'log',
      row,
      before: { id: '42', amount: '1' },
      keyRow: { id: '42' },
      columns: columns(['id', 'integer', 'int4'], ['amount', 'decimal', 'numeric(10,4)'], ['blob', 'bytes', 'bytea']),
      refetched: ['toast'],
    };
    const decoded = decodeRawChange(encodeRawChange(change));
    expect(decoded).toEqual(change);
    expect(Object.keys(decoded.row!)).toEqual(Object.keys(row));
    expect(Object.hasOwn(decoded.row!, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(decoded.row)).toBe(Object.prototype);
    expect(decoded.row!['blob']).toBeInstanceOf(Uint8Array);
    expect(Object.hasOwn(decoded.row!, 'toast')).toBe(true);
    expect(decoded.row!['toast']).toBeUndefined();
    expect([...decoded.columns.keys()]).toEqual(['id', 'amount', 'blob']);
  });

  it('round-trips a delete, a truncate and a dead-letter change', () => {
    const del: RawChange = { op: 'd', table: 'a.b', position: 'p1', commitTs: null, capture: 'log', row: null, before: null, keyRow: { K: 'k' }, columns: new Map() };
    const truncate: RawChange = { ...del, op: 't', keyRow: null, position: 'p2' };
    const broken: RawChange = { ...del, op: 'c', row: { K: 'k' }, position: 'p3', error: 'cannot decode' };
    for (const change of [del, truncate, broken]) expect(decodeRawChange(encodeRawChange(change))).toEqual(change);
  });
});
