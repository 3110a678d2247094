// Client-side key order, only where it equals the database's ORDER BY for sure.
import { describe, expect, it } from 'vitest';
import { compareNumbers, keyComparator } from '../../../capture/poll/key-order.ts';

describe('compareNumbers', () => {
  it('orders decimal texts exactly, beyond doubles', () => {
    const sorted = ['-10.5', '-2', '-0.001', '0', '0.0', '1e-7', '0.5', '2', '10.00001', '9007199254740992', '9007199254740993', 'NaN'];
    const shuffled = [...sorted].reverse();
    shuffled.sort(compareNumbers);
    expect(shuffled.filter((x) => x !== '0.0' && x !== '0')).toEqual(sorted.filter((x) => x !== '0.0' && x !== '0'));
    expect(compareNumbers('0', '-0.000')).toBe(0);
    expect(compareNumbers('9007199254740993', '9007199254740992')).toBe(1);
    expect(compareNumbers('10.5', '9.99')).toBe(1);
    expect(compareNumbers('-10.5', '-9.99')).toBe(-1);
  });
});

describe('keyComparator', () => {
  it('compares composite keys column by column', () => {
    const compare = keyComparator([
      { name: 'route', kind: 'text', nativeType: 'text', ordering: 'text' },
      { name: 'seq', kind: 'integer', nativeType: 'int', ordering: 'numeric' },
    ])!;
    const keys = [['b', '10'], ['a', '2'], ['b', '9'], ['a', '10']];
    expect(keys.sort(compare)).toEqual([['a', '2'], ['a', '10'], ['b', '9'], ['b', '10']]);
  });

  it('orders text by code point (UTF-8 bytes), not by UTF-16 units', () => {
    const compare = keyComparator([{ name: 't', kind: 'text', nativeType: 'text', ordering: 'text' }])!;
    // U+FF5E (BMP, above the surrogates) sorts before U+1F600 by code point; UTF-16 order says the opposite.
    expect(compare(['\uff5e'], ['\u{1f600}'])).toBeLessThan(0);
    expect('\uff5e' < '\u{1f600}').toBe(false);
  });

  it('gives up when a key column has no known order (a linguistic collation)', () => {
    expect(keyComparator([{ name: 't', kind: 'text', nativeType: 'text' }])).toBeUndefined();
  });
});
