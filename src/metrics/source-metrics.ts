/**
 * One source's metric children, bound to its label values once. The pipeline calls
 * `envelope(entity, op)` for every envelope and the publisher `publishAcked` for every ack:
 * two Map lookups and a plain increment, and a bucket search, with no call into prom-client
 * (whose `inc` and `observe` hash the label set on every call, a child's too: ~0.3 and
 * ~0.46 µs). Envelope counts reach the counter when it is read (onEnvelopeCountRead).
 */
import type { Counter, Histogram } from 'prom-client';
import { deadLettersTotal, envelopesTotal, onEnvelopeCountRead, pollPassSeconds, publishLatencySeconds } from './registry.ts';
import type { HistogramSeries } from './series-histogram.ts';

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

/** Envelopes counted for one label set since the counter was last read. */
interface Tally {
  child: CounterChild;
  pending: number;
}

export class SourceMetrics {
  private readonly envelopes = new Map<string, Map<string, Tally>>();
  private readonly deadLetters = new Map<string, CounterChild>();
  private readonly passes = new Map<string, HistogramChild>();
  private readonly publishLatency: HistogramSeries;

  constructor(readonly source: string) {
    this.publishLatency = publishLatencySeconds.series(source);
  }

  /** An envelope (not a dead letter) handed to the publisher. */
  envelope(entity: string, op: string): void {
    let byOp = this.envelopes.get(entity);
    if (byOp === undefined) {
      byOp = new Map();
      this.envelopes.set(entity, byOp);
    }
    let tally = byOp.get(op);
    if (tally === undefined) {
      tally = { child: envelopesTotal.labels(this.source, entity, op), pending: 0 };
      byOp.set(op, tally);
    }
    tally.pending += 1;
  }

  /** Adds the envelopes counted since the last call to the counter (before it is read). */
  flushEnvelopeCounts(): void {
    for (const byOp of this.envelopes.values()) {
      for (const tally of byOp.values()) {
        if (tally.pending === 0) continue;
        tally.child.inc(tally.pending);
        tally.pending = 0;
      }
    }
  }

  deadLetter(entity: string): void {
    let child = this.deadLetters.get(entity);
    if (child === undefined) {
      child = deadLettersTotal.labels(this.source, entity);
      this.deadLetters.set(entity, child);
    }
    child.inc();
  }

  /** The publisher's acknowledgement hook: milliseconds from (last) send to ack. */
  readonly publishAcked = (latencyMs: number): void => {
    this.publishLatency.observe(latencyMs / 1000);
  };

  pollPass(kind: string, durationMs: number): void {
    let child = this.passes.get(kind);
    if (child === undefined) {
      child = pollPassSeconds.labels(this.source, kind);
      this.passes.set(kind, child);
    }
    child.observe(durationMs / 1000);
  }
}

const bySource = new Map<string, SourceMetrics>();
onEnvelopeCountRead(() => {
  for (const metrics of bySource.values()) metrics.flushEnvelopeCounts();
});

/** The (process-wide, reused across attempts) metric children of one source. */
export function sourceMetrics(source: string): SourceMetrics {
  let metrics = bySource.get(source);
  if (metrics === undefined) {
    metrics = new SourceMetrics(source);
    bySource.set(source, metrics);
  }
  return metrics;
}

/** Seconds from the last acknowledged change's source commit to its acknowledgement; null where unknown. */
export function captureLagSeconds(counters: { commitTs?: string | null; committedAt?: string } | undefined): number | null {
  const commitTs = counters?.commitTs;
  if (commitTs === undefined || commitTs === null || counters?.committedAt === undefined) return null;
  return Math.max(0, (Date.parse(counters.committedAt) - Date.parse(commitTs)) / 1000);
}
