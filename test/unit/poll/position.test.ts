// Poll positions sort as plain strings in pass order, then change order, across restarts.
import { describe, expect, it } from 'vitest';
import { nextPassStart, parsePollPosition, pollPosition } from '../../../capture/poll/position.ts';
import { pgPosition } from '../../../src/envelope/envelope.ts';

describe('poll positions', () => {
  it('are fixed width: pass start (13 digits), pass number and change index (8 hex each)', () => {
    expect(pollPosition(1732200000000, 42, 3)).toBe('1732200000000-0000002A-00000003');
    expect(pollPosition(5, 0, 0)).toBe('0000000000005-00000000-00000000');
    expect(parsePollPosition('1732200000000-0000002A-00000003')).toEqual({ startMs: 1732200000000, pass: 42, index: 3 });
    expect(parsePollPosition(pgPosition('0/16B6F28', 1))).toBeUndefined();
    expect(() => pollPosition(-1, 0, 0)).toThrow(RangeError);
    expect(() => pollPosition(1, 2 ** 32, 0)).toThrow(RangeError);
  });

  it('string order equals (start, pass, index) order', () => {
    const samples: Array<[number, number, number]> = [];
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let i = 0; i < 500; i++) samples.push([1_600_000_000_000 + random(10) * 997, random(300), random(70_000)]);
    const byString = [...samples].sort((a, b) => (pollPosition(...a) < pollPosition(...b) ? -1 : 1));
    const byTuple = [...samples].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    expect(byString.map((s) => pollPosition(...s))).toEqual(byTuple.map((s) => pollPosition(...s)));
  });

  it('a later pass sorts after every change of an earlier one, even when the clock steps back or the pass number restarts', () => {
    const first = nextPassStart(10_000, undefined);
    const second = nextPassStart(9_000, first); // clock stepped back
    expect(second).toBe(10_001);
    const lastOfFirst = pollPosition(first, 0xfffffff0, 0xffffffff);
    const firstOfSecond = pollPosition(second, 1, 0); // pass numbers started again (state lost)
    expect(firstOfSecond > lastOfFirst).toBe(true);
    expect(nextPassStart(20_000, 10_001)).toBe(20_000);
  });
});
