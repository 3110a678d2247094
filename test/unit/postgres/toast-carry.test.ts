// The TOAST carry: large values remembered per key so an update that leaves them out can be
// completed exactly; small rows cost no key while nothing is carried.
import { describe, expect, it } from 'vitest';
import { ToastCarry } from '../../../capture/postgres/toast-carry.ts';

const big = (c: string): string => c.repeat(1_000);

describe('toast carry', () => {
  it('builds no key for rows without a large value while nothing is carried', () => {
    const carry = new ToastCarry(1_000_000);
    let keys = 0;
    carry.remember({ id: '1', note: 'short' }, () => (keys++, 't\u00001'));
    expect(keys).toBe(0);
    expect(carry.empty).toBe(true);
    carry.remember({ id: '2', doc: big('a') }, () => (keys++, 't\u00002'));
    expect(keys).toBe(1);
    expect(carry.empty).toBe(false);
    // Now that something is carried, a small row's key is built to forget what it held.
    carry.remember({ id: '3', note: 'short' }, () => (keys++, 't\u00003'));
    expect(keys).toBe(2);
  });

  it('recalls the last large values of a key, forgets them when the key changes to small values, and evicts the least recently used', () => {
    const carry = new ToastCarry(2_500);
    carry.remember({ id: '1', doc: big('a'), note: 'x' }, () => 'k1');
    expect(carry.recall('k1', ['doc'])).toEqual({ doc: big('a') });
    expect(carry.recall('k1', ['doc', 'note'])).toBeUndefined(); // note was never large: not carried
    carry.remember({ id: '1', doc: big('b') }, () => 'k1');
    expect(carry.recall('k1', ['doc'])).toEqual({ doc: big('b') });
    carry.remember({ id: '1', doc: null }, () => 'k1');
    expect(carry.recall('k1', ['doc'])).toBeUndefined();
    expect(carry.empty).toBe(true);

    carry.remember({ id: '1', doc: big('a') }, () => 'k1');
    carry.remember({ id: '2', doc: big('b') }, () => 'k2');
    expect(carry.recall('k1', ['doc'])).toEqual({ doc: big('a') }); // k1 now the most recently used
    carry.remember({ id: '3', doc: big('c') }, () => 'k3'); // 3,000 bytes > 2,500: k2 goes
    expect(carry.recall('k2', ['doc'])).toBeUndefined();
    expect(carry.recall('k1', ['doc'])).toEqual({ doc: big('a') });
    expect(carry.recall('k3', ['doc'])).toEqual({ doc: big('c') });
    carry.forget('k1');
    carry.forget('k3');
    expect(carry.empty).toBe(true);
  });
});
