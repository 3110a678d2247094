import { describe, expect, it } from 'vitest';
import {
  ProgressMeter,
  captureLagSeconds,
  deliveriesTotal,
  metricsRegistry,
  progressText,
  provideSourceGauges,
  renderMetrics,
  sourceMetrics,
} from '../../../src/metrics/index.ts';

/** The value of one sample line in the exposition text, or undefined. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('metrics exposition', () => {
  it('counts envelopes by source, entity and op, and dead letters by source and entity', async () => {
    const m = sourceMetrics('unit_src');
    m.envelope('crew', 'c');
    m.envelope('crew', 'c');
    m.envelope('crew', 'u');
    m.envelope('bridge', 'd');
    m.deadLetter('crew');
    expect(sourceMetrics('unit_src')).toBe(m); // children are reused across attempts
    const { contentType, body } = await renderMetrics();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE hms_sync_envelopes_total counter');
    expect(sample(body, 'hms_sync_envelopes_total{source="unit_src",entity="crew",op="c"}')).toBe(2);
    expect(sample(body, 'hms_sync_envelopes_total{source="unit_src",entity="crew",op="u"}')).toBe(1);
    expect(sample(body, 'hms_sync_envelopes_total{source="unit_src",entity="bridge",op="d"}')).toBe(1);
    expect(sample(body, 'hms_sync_dead_letters_total{source="unit_src",entity="crew"}')).toBe(1);
    // Counted in plain numbers and added when read: a second read adds only what came since.
    m.envelope('crew', 'c');
    const again = (await renderMetrics()).body;
    expect(sample(again, 'hms_sync_envelopes_total{source="unit_src",entity="crew",op="c"}')).toBe(3);
    expect(sample(again, 'hms_sync_envelopes_total{source="unit_src",entity="crew",op="u"}')).toBe(1);
    expect(sample((await renderMetrics()).body, 'hms_sync_envelopes_total{source="unit_src",entity="crew",op="c"}')).toBe(3);
  });

  it('observes publish latency and poll passes in seconds, in histograms', async () => {
    const m = sourceMetrics('unit_hist');
    m.publishAcked(3);
    m.publishAcked(40);
    m.pollPass('full', 1500);
    const { body } = await renderMetrics();
    expect(sample(body, 'hms_sync_publish_latency_seconds_count{source="unit_hist"}')).toBe(2);
    expect(sample(body, 'hms_sync_publish_latency_seconds_sum{source="unit_hist"}')).toBeCloseTo(0.043, 6);
    expect(sample(body, 'hms_sync_publish_latency_seconds_bucket{le="0.005",source="unit_hist"}')).toBe(1);
    expect(sample(body, 'hms_sync_poll_pass_duration_seconds_count{source="unit_hist",kind="full"}')).toBe(1);
    expect(sample(body, 'hms_sync_poll_pass_duration_seconds_bucket{le="2.5",source="unit_hist",kind="full"}')).toBe(1);
  });

  it('reads lag and state from providers at scrape time, and drops them once removed', async () => {
    const remove = provideSourceGauges(() => [{ source: 'unit_gauge', state: 'lagging', lagSeconds: 1.25 }]);
    let { body } = await renderMetrics();
    expect(sample(body, 'hms_sync_capture_lag_seconds{source="unit_gauge"}')).toBe(1.25);
    expect(sample(body, 'hms_sync_source_state{source="unit_gauge",state="lagging"}')).toBe(1);
    expect(sample(body, 'hms_sync_source_state{source="unit_gauge",state="online"}')).toBe(0);
    remove();
    ({ body } = await renderMetrics());
    expect(body).not.toContain('source="unit_gauge"');
  });

  it('exports deliveriesTotal for src/subscribers, and the default process metrics', async () => {
    deliveriesTotal.labels('unit-sub', 'delivered').inc(3);
    const { body } = await renderMetrics();
    expect(sample(body, 'hms_sync_deliveries_total{subscriber="unit-sub",status="delivered"}')).toBe(3);
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
    // Its own registry: nothing lands in prom-client's global one.
    expect(metricsRegistry.getSingleMetric('hms_sync_envelopes_total')).toBeDefined();
  });

  it('escapes label values (an entity or subscriber id is data)', async () => {
    deliveriesTotal.labels('we"ird\\sub', 'dead').inc();
    const { body } = await renderMetrics();
    expect(body).toContain('hms_sync_deliveries_total{subscriber="we\\"ird\\\\sub",status="dead"} 1');
  });
});

describe('capture lag', () => {
  it('is the time from source commit to acknowledgement, null where the source gives no commit time', () => {
    expect(captureLagSeconds({ commitTs: '2026-01-01T00:00:00.000Z', committedAt: '2026-01-01T00:00:02.500Z' })).toBe(2.5);
    expect(captureLagSeconds({ commitTs: null, committedAt: '2026-01-01T00:00:02.500Z' })).toBeNull();
    expect(captureLagSeconds(undefined)).toBeNull();
  });
});

describe('progress', () => {
  it('tells rows done of the total, the rate and the time left, and logs at most every few seconds', () => {
    let now = 1_000_000;
    const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const log = { info: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) } as never;
    const meter = new ProgressMeter({ task: 'snapshot', source: 'fhwa', table: 'public.crews', total: 10_000, log, now: () => now });
    now += 1_000;
    meter.update(1_000);
    expect(lines).toHaveLength(0);
    now += 4_000;
    meter.update(5_000);
    expect(meter.view()).toMatchObject({ task: 'snapshot', source: 'fhwa', table: 'public.crews', done: 5_000, total: 10_000, ratePerS: 1_000, etaS: 5 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({ event: 'progress', done: 5_000, total: 10_000, ratePerS: 1_000, etaS: 5 });
    expect(lines[0]!.message).toBe('snapshot fhwa public.crews: 5,000 / 10,000 rows (50%), 1,000 rows/s, about 5 s left');
    now += 1_000;
    meter.update(6_000);
    expect(lines).toHaveLength(1);
    meter.finish();
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields).toMatchObject({ event: 'progress', etaS: 0 });
  });

  it('has no ETA without a total', () => {
    expect(progressText({ task: 'reconcile', source: 's', table: 't', phase: 'source', done: 10, total: null, ratePerS: 5, etaS: null, startedAt: '' })).toBe(
      'reconcile s t (source): 10 rows, 5 rows/s',
    );
  });
});
