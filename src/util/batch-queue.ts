/**
 * A small bounded hand-off between a producer callback (a driver's event handler) and an
 * async-iterating consumer. The producer awaits `whenSpace()`; that wait is what turns a
 * slow JetStream into back-pressure on the database stream.
 */
export class BatchQueue<T> {
  private readonly items: T[] = [];
  private failure: unknown;
  private ended = false;
  private consumerWake: (() => void) | undefined;
  private producerWake: Array<() => void> = [];

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.items.length;
  }

  /** True while the consumer is blocked waiting for something to arrive. */
  get consumerWaiting(): boolean {
    return this.consumerWake !== undefined;
  }

  push(item: T): void {
    this.items.push(item);
    this.wakeConsumer();
  }

  /** Room for another batch (or nothing left to wait for: the queue ended or failed). */
  get hasSpace(): boolean {
    return this.items.length < this.capacity || this.ended || this.failure !== undefined;
  }

  /**
   * Resolves once there is room; undefined when there is room already. Producers call it for
   * every commit or event, so the common case makes no promise (docs/benchmarks.md).
   */
  whenSpace(): Promise<void> | undefined {
    return this.hasSpace ? undefined : this.waitForSpace();
  }

  private async waitForSpace(): Promise<void> {
    while (!this.hasSpace) await new Promise<void>((resolve) => this.producerWake.push(resolve));
  }

  fail(error: unknown): void {
    if (this.failure === undefined) this.failure = error;
    this.wakeAll();
  }

  end(): void {
    this.ended = true;
    this.wakeAll();
  }

  /** Wakes the consumer without an item, so it can look at other state (see `take`). */
  nudge(): void {
    this.wakeConsumer();
  }

  /**
   * Next item; `fallback` is asked when the queue is empty (e.g. a batch still open at a
   * commit boundary). Returns undefined when ended.
   */
  async take(fallback?: () => T | undefined): Promise<T | undefined> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const item = this.items.shift();
      if (item !== undefined) {
        this.wakeProducers();
        return item;
      }
      const extra = fallback?.();
      if (extra !== undefined) return extra;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.consumerWake = resolve));
      this.consumerWake = undefined;
    }
  }

  private wakeConsumer(): void {
    const wake = this.consumerWake;
    this.consumerWake = undefined;
    wake?.();
  }

  private wakeProducers(): void {
    const wakers = this.producerWake;
    this.producerWake = [];
    for (const wake of wakers) wake();
  }

  private wakeAll(): void {
    this.wakeConsumer();
    this.wakeProducers();
  }
}
