import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/config/index.ts';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['1s500ms', 1500],
    ['1d', 86_400_000],
    ['0s', 0],
  ])('%s -> %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5', '5x', '', 'ms', '1.5s', '-5s', '5 s', '30m1h', 's5', '1h 30m'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
