import type { DeliveryRecord } from './types.ts';

/**
 * The latest deliveries of this process, for GET /api/deliveries: one record per
 * (subscriber, envelope), updated in place on each attempt and moved to the front, at most
 * `capacity` kept. The full history of every attempt is the audit subject, not this.
 */
export class DeliveryLog {
  /** Insertion order = age: a Map keeps it, and delete + set moves a record to the newest end. */
  private readonly records = new Map<string, DeliveryRecord>();

  constructor(private readonly capacity = 1000) {}

  record(update: DeliveryRecord): void {
    const key = `${update.sub}\u0000${update.id}`;
    this.records.delete(key);
    this.records.set(key, update);
    if (this.records.size > this.capacity) {
      const oldest = this.records.keys().next();
      if (!oldest.done) this.records.delete(oldest.value);
    }
  }

  get(sub: string, id: string): DeliveryRecord | undefined {
    return this.records.get(`${sub}\u0000${id}`);
  }

  /** Newest first. */
  latest(limit: number, sub?: string): DeliveryRecord[] {
    const out: DeliveryRecord[] = [];
    const all = [...this.records.values()];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i -= 1) {
      if (sub === undefined || all[i]!.sub === sub) out.push(all[i]!);
    }
    return out;
  }
}

/** latencyMs: acknowledgement time less the source commit (or the envelope's ts without one). */
export function latencyMs(ackedAt: number, commitTs: string | null | undefined, ts: string | undefined): number | null {
  const from = Date.parse(commitTs ?? ts ?? '');
  return Number.isNaN(from) ? null : Math.max(0, ackedAt - from);
}
