import { describe, expect, it } from 'vitest';
import { IndexedSide, checksumOf, type IndexEntry } from '../../../reconcile/indexed-side.ts';
import type { CompareSpec } from '../../../reconcile/types.ts';

const spec: CompareSpec = {
  fields: [{ name: 'id', from: 'id', type: 'integer' }] as unknown as CompareSpec['fields'],
  keyFields: [{ name: 'id', from: 'id', type: 'integer' }] as unknown as CompareSpec['keyFields'],
};
const entry = (id: number, hi: number, lo: number): IndexEntry => ({ key: [String(id)], keyObject: { id }, hi, lo });
const noFetch = async () => [];

describe('IndexedSide', () => {
  it('sorts, and a later duplicate of a key replaces the earlier one', async () => {
    const side = new IndexedSide('s', spec, [entry(3, 0, 3), entry(1, 0, 1), entry(2, 0, 2), entry(1, 0, 100), entry(10, 0, 10)], noFetch);
    expect(side.size).toBe(4);
    expect(side.entriesIn({}).map((e) => [e.key[0], e.lo])).toEqual([
      ['1', 100],
      ['2', 2],
      ['3', 3],
      ['10', 10],
    ]);
    expect(await side.countAndChecksum({})).toEqual(checksumOf([[0, 100], [0, 2], [0, 3], [0, 10]]));
    expect(await side.countAndChecksum({ from: ['2'], to: ['10'] })).toEqual(checksumOf([[0, 2], [0, 3]]));
    expect(side.entry(['1'])?.lo).toBe(100);
  });

  it('carries the 64-bit sum across the 32-bit halves', async () => {
    const side = new IndexedSide('s', spec, [entry(1, 0, 0xffffffff), entry(2, 0xffffffff, 1)], noFetch);
    expect((await side.countAndChecksum({})).checksum).toBe('0000000000000000');
  });
});
