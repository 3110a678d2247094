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

  it('gives the hashes stored by earlier versions (a change would report every polled row as updated)', async () => {
    // Computed with the streaming implementation (a TextEncoder buffer and an update per frame).
    const hasher = await RowHasher.create();
    const rows: (string | Uint8Array | null)[][] = [
      ['1', 'bridge', null],
      [null],
      [''],
      [new Uint8Array([0, 255, 7])],
      ['Zürich ✓ 𝄞', 'x'.repeat(5000)],
      ['\ud800 lone'],
      [],
    ];
    expect(rows.map((r) => hasher.hash(r))).toEqual([
      '4ae9d24189babc48',
      '00f4f72fb7a8c648',
      'f3e5687af1878726',
      '3cb7abcfc7f066ce',
      'f974fdf8d5bad0f2',
      'a0f6e4cb475c148e',
      'ef46db3751d8e999',
    ]);
    // A row longer than the reused buffer, then short ones again.
    expect(hasher.hash(['y'.repeat(100_000), 'é'.repeat(20_000)])).toBe('49269a32601191d6');
    expect(hasher.hash(['1', 'bridge', null])).toBe('4ae9d24189babc48');
  });
});
