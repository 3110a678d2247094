/**
 * The bridge's Prometheus metrics (GET /metrics; docs/operations.md "Metrics"), in a registry
 * of their own so that nothing else in the process (a library, a test) adds to or reads from
 * prom-client's global one.
 *
 * Counters and histograms are module-level: one process, one set, whatever number of sources.
 * Hot paths use label-bound children cached per label set (source-metrics.ts), never
 * `labels({...})` with an object per event.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesHistogram } from './series-histogram.ts';

export const metricsRegistry = new Registry();

/** Run before the envelope counter is read (source-metrics.ts adds what it tallied since the last read). */
const envelopeCountFlushes = new Set<() => void>();

/** Registers a function that adds pending counts to `envelopesTotal` before each scrape. */
export function onEnvelopeCountRead(flush: () => void): void {
  envelopeCountFlushes.add(flush);
}

/**
 * Envelopes published (acknowledged or not yet), by source, entity and op (c, u, d, r, t).
 * Counted per envelope in plain numbers (source-metrics.ts) and added here when it is read.
 */
export const envelopesTotal = new Counter({
  name: 'hms_sync_envelopes_total',
  help: 'Envelopes handed to the publisher, by source, entity and op',
  labelNames: ['source', 'entity', 'op'] as const,
  registers: [metricsRegistry],
  collect() {
    for (const flush of envelopeCountFlushes) flush();
  },
});

/** Rows sent to the dead-letter subject `<prefix>.<source>.dlq.<entity>`. */
export const deadLettersTotal = new Counter({
  name: 'hms_sync_dead_letters_total',
  help: 'Rows sent to the dead-letter subject, by source and entity',
  labelNames: ['source', 'entity'] as const,
  registers: [metricsRegistry],
});

/**
 * Deliveries to subscribers, by subscriber id and outcome (`delivered`, `failed` for an
 * attempt that will be retried, `dead` once maxAttempts are used up). Incremented by
 * src/subscribers (the runner, once per attempt outcome), not here:
 * `deliveriesTotal.labels(subscriberId, 'delivered').inc()` — cache the child per subscriber
 * and status when it is on a hot path.
 */
export const deliveriesTotal = new Counter({
  name: 'hms_sync_deliveries_total',
  help: 'Subscriber delivery outcomes, by subscriber and status (delivered, failed, dead)',
  labelNames: ['subscriber', 'status'] as const,
  registers: [metricsRegistry],
});

/**
 * From the publish of an envelope to its JetStream acknowledgement (from its last send), by
 * source: observed once per acknowledged envelope, so kept in plain arrays (series-histogram.ts)
 * and formatted by the registry like prom-client's own histograms.
 */
export const publishLatencySeconds = new SeriesHistogram(
  'hms_sync_publish_latency_seconds',
  'Time from publishing an envelope to its JetStream acknowledgement, by source',
  'source',
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
);
metricsRegistry.registerMetric(publishLatencySeconds.asMetric());

/** One polling pass (`full` or `held`), from its first statement to its last batch. */
export const pollPassSeconds = new Histogram({
  name: 'hms_sync_poll_pass_duration_seconds',
  help: 'Duration of a polling pass, by source and pass kind (full, held)',
  labelNames: ['source', 'kind'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [metricsRegistry],
});

/** Set by the slot monitor (slot-monitor.ts); removed when the slot is gone. */
export const slotRetainedBytes = new Gauge({
  name: 'hms_sync_pg_slot_retained_wal_bytes',
  help: 'WAL the PostgreSQL replication slot keeps on the server: pg_current_wal_lsn() - restart_lsn',
  labelNames: ['source', 'slot'] as const,
  registers: [metricsRegistry],
});

export const slotUnconfirmedBytes = new Gauge({
  name: 'hms_sync_pg_slot_unconfirmed_wal_bytes',
  help: 'WAL written since the position the bridge last confirmed: pg_current_wal_lsn() - confirmed_flush_lsn',
  labelNames: ['source', 'slot'] as const,
  registers: [metricsRegistry],
});

/**
 * Values that live elsewhere (the pipeline's counters, the sources' states) are read when
 * Prometheus scrapes, through providers registered by whoever owns them.
 */
export interface SourceGaugeSample {
  source: string;
  /** Seconds from the source commit of the last acknowledged change to its acknowledgement. */
  lagSeconds: number | null;
  state: string;
}

const gaugeProviders = new Set<() => Iterable<SourceGaugeSample>>();

/** Registers a provider of per-source samples; returns its removal. */
export function provideSourceGauges(provider: () => Iterable<SourceGaugeSample>): () => void {
  gaugeProviders.add(provider);
  return () => gaugeProviders.delete(provider);
}

export const SOURCE_STATES = ['starting', 'online', 'lagging', 'offline'] as const;

new Gauge({
  name: 'hms_sync_capture_lag_seconds',
  help: 'Seconds from the source commit of the last acknowledged change to its JetStream acknowledgement, by source',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const provider of gaugeProviders) {
      for (const sample of provider()) if (sample.lagSeconds !== null) this.labels(sample.source).set(sample.lagSeconds);
    }
  },
});

new Gauge({
  name: 'hms_sync_source_state',
  help: 'The state of each source: 1 for the current state, 0 for the others',
  labelNames: ['source', 'state'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const provider of gaugeProviders) {
      for (const sample of provider()) for (const state of SOURCE_STATES) this.labels(sample.source, state).set(sample.state === state ? 1 : 0);
    }
  },
});

let defaultsStarted = false;

/** Process metrics (CPU, memory, event loop lag, GC, handles): once per process, on first use. */
export function ensureDefaultMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: metricsRegistry });
}

/** The exposition text and its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  ensureDefaultMetrics();
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}
