/**
 * One source's metric children, bound to its label values once. The pipeline calls
 * `envelope(entity, op)` for every envelope: two Map lookups and an increment, no string
 * building or object allocation per call (prom-client's `labels()` hashes its arguments
 * into a key on every call).
 */
import type { Counter, Histogram } from 'prom-client';
import { deadLettersTotal, envelopesTotal, pollPassSeconds, publishLatencySeconds } from './registry.ts';

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

export class SourceMetrics {
  private readonly envelopes = new Map<string, Map<string, CounterChild>>();
  private readonly deadLetters = new Map<string, CounterChild>();
  private readonly passes = new Map<string, HistogramChild>();
  private readonly publishLatency: HistogramChild;

  constructor(readonly source: string) {
    this.publishLatency = publishLatencySeconds.labels(source);
  }

  /** An envelope (not a dead letter) handed to the publisher. */
  envelope(entity: string, op: string): void {
    let byOp = this.envelopes.get(entity);
    if (byOp === undefined) {
      byOp = new Map();
      this.envelopes.set(entity, byOp);
    }
    let child = byOp.get(op);
    if (child === undefined) {
      child = envelopesTotal.labels(this.source, entity, op);
      byOp.set(op, child);
    }
    child.inc();
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
