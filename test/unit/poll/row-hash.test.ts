// The per-row xxhash: framed values, so different rows never share an encoding.
import { describe, expect, it } from 'vitest';
import { RowHasher } from '../../../capture/poll/row-hash.ts';

describe('RowHasher', () => {
  it('is 16 hex digits and stable', async () => {
    const hasher = await RowHasher.create();
    const h = hasher.hash(['1', 'bridge', null]);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(hasher.hash(['1', 'bridge', null])).toBe(h);
  });

  it('tells apart NULL, empty text, the text "NULL", bytes and shifted boundaries', async () => {
    const hasher = await RowHasher.create();
    const rows = [[null], [''], ['NULL'], [new Uint8Array()], [new TextEncoder().encode('ab')], ['ab'], ['a', 'b'], ['ab', ''], ['', 'ab'], ['a', 'b', null]];
    const hashes = rows.map((r) => hasher.hash(r));
    expect(new Set(hashes).size).toBe(rows.length);
  });
});
