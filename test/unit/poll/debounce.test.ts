// The debounce window: held from first sight, sent by the first decision at or after the
// window's end, dropped when the key no longer differs; forced changes go at once.
import { describe, expect, it } from 'vitest';
import { Debouncer } from '../../../capture/poll/debounce.ts';

describe('Debouncer', () => {
  it('holds a change for the window from when it was first seen, then sends it', () => {
    const d = new Debouncer(1000);
    expect(d.decide('k', ['1'], 7, 10_000)).toBe(false);
    expect(d.nextDeadline()).toBe(11_000);
    expect(d.decide('k', ['1'], 7, 10_400)).toBe(false); // seen again: the window does not restart
    expect(d.nextDeadline()).toBe(11_000);
    expect(d.due(10_999)).toEqual([]);
    expect(d.due(11_000).map(([id]) => id)).toEqual(['k']);
    expect(d.decide('k', ['1'], 7, 11_000)).toBe(true);
    expect(d.size).toBe(0);
    expect(d.nextDeadline()).toBeUndefined();
    // The next change opens a new window.
    expect(d.decide('k', ['1'], 7, 11_100)).toBe(false);
    expect(d.nextDeadline()).toBe(12_100);
  });

  it('sends at once with no window, or when forced', () => {
    expect(new Debouncer(0).decide('k', ['1'], 1, 5)).toBe(true);
    const d = new Debouncer(5000);
    expect(d.decide('a', ['a'], 1, 0)).toBe(false);
    expect(d.decide('a', ['a'], 1, 1, true)).toBe(true);
    expect(d.isHeld('a')).toBe(false);
  });

  it('drops a key that went back to what was sent, and tracks the chunk that holds it', () => {
    const d = new Debouncer(1000);
    d.decide('a', ['a'], 1, 0);
    d.decide('b', ['b'], 2, 0);
    d.decide('b', ['b'], 3, 10); // the chunk was cut in two meanwhile
    expect(d.inChunk(1).map(([id]) => id)).toEqual(['a']);
    expect(d.inChunk(3).map(([id]) => id)).toEqual(['b']);
    d.resolve('a');
    expect(d.isHeld('a')).toBe(false);
    expect(d.size).toBe(1);
  });
});
