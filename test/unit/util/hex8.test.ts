import { describe, expect, it } from 'vitest';
import { hex8 } from '../../../src/util/hex8.ts';

// The change index of every log position: the same text as the expression it replaced, for
// the cached small indexes, the first ones past the cache, and values beyond 8 digits.
const expected = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

describe('hex8', () => {
  it('writes an index as 8 upper-case hex digits, cached or not', () => {
    for (let n = 0; n < 5_000; n++) expect(hex8(n)).toBe(expected(n));
    for (const n of [0, 10, 4095]) expect(hex8(n)).toBe(hex8(n)); // the cached text again
    expect(hex8(10)).toBe('0000000A');
    expect(hex8(4096)).toBe('00001000');
    for (const n of [65_535, 1_000_000, 0xffffffff]) expect(hex8(n)).toBe(expected(n));
  });

  it('writes what the old expression wrote for values outside the cache', () => {
    for (const n of [2 ** 32, 2 ** 40 + 5, -1, 2.5]) expect(hex8(n)).toBe(expected(n));
    expect(hex8(2 ** 32)).toBe('100000000');
  });
});
