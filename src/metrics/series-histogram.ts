import type { Metric } from 'prom-client';

/** One sample line as prom-client's registry formats it (its own type for this is not exported). */
interface SampleValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A Prometheus histogram with one label, observed on a hot path: each label value's series is
 * a plain array of bucket counts, so an observation is a bucket search and three additions.
 * prom-client's Histogram hashes the label set into a key and looks the series up on every
 * `observe`, a child's too: ~0.46 µs each, once per acknowledged envelope (docs/benchmarks.md).
 *
 * It is registered in the bridge's registry like any prom-client metric (prom-client calls
 * `get()` at scrape time and formats what it returns); the exposition is the same text
 * prom-client's Histogram writes for the same observations (test/unit/metrics/
 * series-histogram.test.ts compares the two).
 */
export class SeriesHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bySeries = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly buckets: readonly number[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`${name}: buckets must increase`);
    }
  }

  /** The series of one label value (made on first use, then the same object). */
  series(labelValue: string): HistogramSeries {
    let series = this.bySeries.get(labelValue);
    if (series === undefined) {
      series = new HistogramSeries(this.buckets);
      this.bySeries.set(labelValue, series);
    }
    return series;
  }

  /** What prom-client's registry formats: cumulative buckets, +Inf, sum and count per series. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: SampleValue[] }> {
    const values: SampleValue[] = [];
    for (const [labelValue, series] of this.bySeries) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.buckets[i]!, [this.labelName]: labelValue }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', [this.labelName]: labelValue }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.labelName]: labelValue }, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.labelName]: labelValue }, value: series.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /**
   * Zeroes every series (prom-client's `registry.resetMetrics()`). prom-client drops its series
   * there; these stay, at zero, because SourceMetrics holds them for the process's life.
   */
  reset(): void {
    for (const series of this.bySeries.values()) series.reset();
  }

  /** For `registry.registerMetric`, whose type names prom-client's own classes. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}

export class HistogramSeries {
  /** Observations per bucket, not cumulative; above the last bound only in `count`. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    // Values on a bound belong to that bucket (le: less than or equal), as in prom-client.
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]! += 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
