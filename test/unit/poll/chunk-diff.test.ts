// Chunk diffs: new keys are c, other hashes u, missing keys d, no state at all r; chunks are
// cut by rows and by entry bytes; the stored rows follow what was sent.
import { describe, expect, it } from 'vitest';
import { applySent, cutChunks, diffChunk, diffFound, entryToRows, rowsToEntry, sumHashes, type ReadRow, type StoredRows } from '../../../capture/poll/chunk-diff.ts';
import { keyId } from '../../../capture/poll/key-codec.ts';

function row(key: string, hash: string, dbHash = 1n): ReadRow {
  return { key: [key], id: keyId([key]), hash, values: [key], dbHash };
}

function stored(entries: Array<[string, string]>): StoredRows {
  return new Map(entries.map(([k, h]) => [keyId([k]), { key: [k], hash: h }]));
}

describe('diffChunk', () => {
  it('finds inserts and updates in key order, then deletes', () => {
    const before = stored([['a', '1'], ['b', '2'], ['c', '3'], ['e', '5']]);
    const read = [row('a', '1'), row('b', '9'), row('d', '4'), row('e', '5')];
    expect(diffChunk(read, before).map((d) => `${d.op} ${d.key[0]}`)).toEqual(['u b', 'c d', 'd c']);
  });

  it('sends every row as r when there is no state', () => {
    expect(diffChunk([row('a', '1'), row('b', '2')], undefined).map((d) => d.op)).toEqual(['r', 'r']);
  });

  it('finds nothing in an unchanged chunk', () => {
    expect(diffChunk([row('a', '1')], stored([['a', '1']]))).toEqual([]);
  });

  it('diffFound never calls a key missing from the read a delete', () => {
    const before = stored([['a', '1'], ['b', '2']]);
    expect(diffFound([row('b', '3'), row('z', '1')], before).map((d) => `${d.op} ${d.key[0]}`)).toEqual(['u b', 'c z']);
  });
});

describe('applySent and entries', () => {
  it('records the new hash of c/u/r and forgets d', () => {
    const before = stored([['a', '1'], ['b', '2']]);
    const sent = diffChunk([row('a', '7'), row('c', '3')], before);
    applySent(before, sent);
    expect([...before.values()].map((r) => `${r.key[0]}=${r.hash}`).sort()).toEqual(['a=7', 'c=3']);
  });

  it('round-trips through the JSON entry, bytes keys included', () => {
    const rows: StoredRows = new Map([
      [keyId([new Uint8Array([1, 2])]), { key: [new Uint8Array([1, 2])], hash: 'ab' }],
      [keyId(['x', null]), { key: ['x', null], hash: 'cd' }],
    ]);
    const back = entryToRows(JSON.parse(JSON.stringify(rowsToEntry(rows))))!;
    expect([...back.keys()]).toEqual([...rows.keys()]);
    expect(back.get(keyId([new Uint8Array([1, 2])]))!.key[0]).toEqual(new Uint8Array([1, 2]));
    expect(entryToRows(undefined)).toBeUndefined();
  });
});

describe('cutChunks', () => {
  it('cuts by row count', () => {
    const rows = 'abcdefg'.split('').map((k) => row(k, '0123456789abcdef'));
    expect(cutChunks(rows, 3, 1 << 20).map((c) => c.map((r) => r.key[0]).join(''))).toEqual(['abc', 'def', 'g']);
  });

  it('cuts by entry bytes so that every chunk entry fits in a KV value', () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(`key-${i}-${'x'.repeat(50)}`, '0123456789abcdef'));
    const chunks = cutChunks(rows, 1000, 250);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(JSON.stringify(rowsToEntry(new Map(chunk.map((r) => [r.id, r])))).length).toBeLessThanOrEqual(250 + 20);
    expect(chunks.flat()).toHaveLength(10);
  });

  it('always puts at least one row in a chunk', () => {
    expect(cutChunks([row('a'.repeat(500), 'h')], 10, 10)).toHaveLength(1);
  });

  it('sums database hashes exactly beyond 2^64', () => {
    const big = 2n ** 64n - 1n;
    expect(sumHashes([{ dbHash: big }, { dbHash: big }, { dbHash: -5n }])).toBe(2n * big - 5n);
  });
});
