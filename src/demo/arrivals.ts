// What the demo's consumer has read from the stream so far: envelopes by entity and op, dead
// letters, status changes, and the end-to-end latency of every change (source commit -> read).
import type { Op } from '../envelope/index.ts';
import { LatencyHistogram } from './latency.ts';
import type { StreamEvent } from './stream-watch.ts';

export type OpCounts = Record<Op, number>;

export function zeroOps(): OpCounts {
  return { r: 0, c: 0, u: 0, d: 0, t: 0 };
}

export class Arrivals {
  readonly byEntity = new Map<string, OpCounts>();
  readonly deadLetterSubjects = new Set<string>();
  deadLetters = 0;
  envelopes = 0;
  /** Every change since the start. */
  readonly latency = new LatencyHistogram();
  #window = new LatencyHistogram();

  /** `entities` fixes the display order; others are added as they arrive. */
  constructor(entities: readonly string[]) {
    for (const entity of entities) this.byEntity.set(entity, zeroOps());
  }

  record(event: StreamEvent): void {
    if (event.kind === 'status') return;
    if (event.kind === 'dead-letter') {
      this.deadLetters += 1;
      this.deadLetterSubjects.add(event.subject);
      return;
    }
    const { envelope } = event;
    this.envelopes += 1;
    let counts = this.byEntity.get(envelope.entity);
    if (!counts) this.byEntity.set(envelope.entity, (counts = zeroOps()));
    counts[envelope.op] += 1;
    // Snapshot rows carry the snapshot's start as commitTs: not a change, no latency.
    if (envelope.op !== 'r' && envelope.source.commitTs !== null) {
      const ms = event.receivedAt - Date.parse(envelope.source.commitTs);
      this.latency.record(ms);
      this.#window.record(ms);
    }
  }

  count(op: Op): number {
    let total = 0;
    for (const counts of this.byEntity.values()) total += counts[op];
    return total;
  }

  /** The latencies since the last call. */
  takeWindow(): LatencyHistogram {
    const window = this.#window;
    this.#window = new LatencyHistogram();
    return window;
  }
}
