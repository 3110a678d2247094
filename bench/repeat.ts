// A throughput phase measured several times: the figures reported are medians.
//
// One catch-up of 200,000 rows lasts ~3.5 s. On this shared 2-core machine the same code and
// the raw limits beside it move 15-25 % from one minute to the next (docs/benchmarks.md), so
// one catch-up says as much about the minute as about the bridge. Each repetition measures the
// raw limit and the bridge on the same data, one after the other; the median of each, and the
// median of the per-repetition ratios, are what the table and bench/results.json report, with
// every repetition printed beside them.

/** One repetition of a phase: the bridge's rows/s and the raw limit's, measured the same minute. */
export interface Repetition {
  rowsPerS: number;
  rawRowsPerS: number;
}

export interface Summary<T extends Repetition> {
  /** Median of the bridge's rows/s. */
  rowsPerS: number;
  /** Median of the raw limit's rows/s. */
  rawRowsPerS: number;
  /** Median of the ratios bridge / raw, each within one repetition. */
  ratio: number;
  min: number;
  max: number;
  /** The repetition whose bridge rows/s is the median: its CPU and main-thread figures are printed. */
  middle: T;
  /** Every repetition, in the order run. */
  runs: readonly T[];
}

/** The lower median for an even count, so the figure is always one that was measured. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export function summarize<T extends Repetition>(runs: readonly T[]): Summary<T> {
  if (runs.length === 0) throw new Error('no repetition to summarize');
  const bridge = runs.map((r) => r.rowsPerS);
  const rowsPerS = median(bridge);
  return {
    rowsPerS,
    rawRowsPerS: median(runs.map((r) => r.rawRowsPerS)),
    ratio: median(runs.map((r) => r.rowsPerS / r.rawRowsPerS)),
    min: Math.min(...bridge),
    max: Math.max(...bridge),
    middle: runs.find((r) => r.rowsPerS === rowsPerS)!,
    runs,
  };
}

/** "46659 / 52974 / 53100 rows/s (pg_recvlogical 81000 / 84419 / 85000; ratios 0.58 / 0.63 / 0.62)" */
export function describeRuns(runs: readonly Repetition[], raw: string): string {
  const list = (values: number[]): string => values.join(' / ');
  return (
    `${list(runs.map((r) => Math.round(r.rowsPerS)))} rows/s (${raw} ${list(runs.map((r) => Math.round(r.rawRowsPerS)))}; ` +
    `ratios ${list(runs.map((r) => Number((r.rowsPerS / r.rawRowsPerS).toFixed(2))))})`
  );
}
