import { describe, expect, it } from 'vitest';
import { describeRuns, median, summarize } from '../../../bench/repeat.ts';

// The bench reports the median of its repetitions of a throughput phase: a figure that was
// measured (the lower median for an even count), its raw limit's median, and the median of the
// ratios taken within each repetition (raw and bridge measured the same minute).
describe('bench repetitions', () => {
  it('takes the median, the lower one for an even count', () => {
    expect(median([3])).toBe(3);
    expect(median([52_974, 41_468, 53_100])).toBe(52_974);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(() => median([])).toThrow(/no values/);
  });

  it('summarizes each figure by its own median, and ratios within a repetition', () => {
    const runs = [
      { rowsPerS: 41_468, rawRowsPerS: 75_712, label: 'busy' },
      { rowsPerS: 52_974, rawRowsPerS: 84_419, label: 'a' },
      { rowsPerS: 53_100, rawRowsPerS: 90_000, label: 'b' },
    ];
    const summary = summarize(runs);
    expect(summary.rowsPerS).toBe(52_974);
    expect(summary.rawRowsPerS).toBe(84_419);
    // Ratios 0.548, 0.628, 0.590: the median is b's, not a's rows over the raw median.
    expect(summary.ratio).toBeCloseTo(53_100 / 90_000, 10);
    expect(summary.min).toBe(41_468);
    expect(summary.max).toBe(53_100);
    expect(summary.middle.label).toBe('a');
    expect(summary.runs).toBe(runs);
  });

  it('prints every repetition in the order run', () => {
    expect(
      describeRuns(
        [
          { rowsPerS: 52_974.4, rawRowsPerS: 84_419.2 },
          { rowsPerS: 41_468, rawRowsPerS: 75_712 },
        ],
        'pg_recvlogical',
      ),
    ).toBe('52974 / 41468 rows/s (pg_recvlogical 84419 / 75712; ratios 0.63 / 0.55)');
  });

  it('refuses to summarize nothing', () => {
    expect(() => summarize([])).toThrow(/no repetition/);
  });
});
