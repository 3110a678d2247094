// The publish-latency histogram kept in plain arrays writes the same exposition text as
// prom-client's Histogram for the same observations: buckets (values on a bound included),
// +Inf, sum and count, per label value, and after a reset.
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesHistogram } from '../../../src/metrics/series-histogram.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'lat_seconds', help: 'Latency, by source', labelNames: ['source'] as const, buckets: BUCKETS, registers: [theirs] });
  const histogram = new SeriesHistogram('lat_seconds', 'Latency, by source', 'source', BUCKETS);
  ours.registerMetric(histogram.asMetric());
  return { theirs, ours, reference, histogram };
}

describe('SeriesHistogram', () => {
  it('writes what prom-client writes for the same observations, series by series', async () => {
    const { theirs, ours, reference, histogram } = pair();
    const values = [0, 0.0005, 0.0004, 0.003, 0.005, 0.0051, 0.1, 0.7, 5, 6, 120, 0.0049999];
    for (const [i, value] of values.entries()) {
      const source = i % 3 === 0 ? 'legacy' : 'billing';
      reference.labels(source).observe(value);
      histogram.series(source).observe(value);
    }
    for (let i = 0; i < 1000; i++) {
      const value = (i % 97) / 1000;
      reference.labels('legacy').observe(value);
      histogram.series('legacy').observe(value);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('lat_seconds_bucket{le="0.005",source="legacy"}');
    expect(text).toContain('lat_seconds_count{source="billing"} 8');
  });

  it('writes nothing for a metric never observed, and zeroes after a reset as prom-client does', async () => {
    const { theirs, ours, reference, histogram } = pair();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const series = histogram.series('legacy');
    series.observe(0.02);
    reference.labels('legacy').observe(0.02);
    ours.resetMetrics();
    theirs.resetMetrics();
    series.observe(0.3);
    reference.labels('legacy').observe(0.3);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('refuses buckets that do not increase', () => {
    expect(() => new SeriesHistogram('x', 'x', 'source', [1, 1])).toThrow(/buckets must increase/);
  });
});
