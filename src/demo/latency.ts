/**
 * End-to-end latencies in whole milliseconds, counted per millisecond: memory stays bounded
 * however long the demo runs, and percentiles are exact at that resolution.
 */
export class LatencyHistogram {
  readonly #counts = new Map<number, number>();
  #total = 0;
  #max = 0;

  record(ms: number): void {
    const bucket = Math.max(0, Math.round(ms));
    this.#counts.set(bucket, (this.#counts.get(bucket) ?? 0) + 1);
    this.#total += 1;
    this.#max = Math.max(this.#max, bucket);
  }

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#max;
  }

  /** The smallest latency that at least `p` percent of the samples do not exceed; undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.#total === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#total));
    let seen = 0;
    for (const bucket of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(bucket)!;
      if (seen >= rank) return bucket;
    }
    return this.#max;
  }
}
