/**
 * At most `size` statements at once against the source, each on its own connection (opened
 * on first need, kept for the attempt). The engine's counters are kept here, where every
 * statement passes.
 */
import type { ConnectOptions, PollConnection, PollDialect } from './dialect.ts';

export interface QueryCounters {
  queries: number;
  checksumQueries: number;
  rowQueries: number;
  rowsRead: number;
}

export function emptyCounters(): QueryCounters {
  return { queries: 0, checksumQueries: 0, rowQueries: 0, rowsRead: 0 };
}

export class QueryPool {
  private readonly idle: PollConnection[] = [];
  private readonly all: PollConnection[] = [];
  private opening = 0;
  private waiters: Array<(c: PollConnection) => void> = [];
  private closed = false;

  constructor(
    private readonly dialect: PollDialect,
    private readonly size: number,
    private readonly options: ConnectOptions,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`query concurrency must be at least 1 (got ${size})`);
  }

  async use<T>(run: (connection: PollConnection) => Promise<T>): Promise<T> {
    const connection = await this.acquire();
    try {
      return await run(connection);
    } finally {
      this.release(connection);
    }
  }

  private async acquire(): Promise<PollConnection> {
    if (this.closed) throw new Error('query pool closed');
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.all.length + this.opening < this.size) {
      this.opening += 1;
      try {
        const connection = await this.dialect.connect(this.options);
        this.all.push(connection);
        return connection;
      } finally {
        this.opening -= 1;
      }
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(connection: PollConnection): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(connection);
    else this.idle.push(connection);
  }

  /** Bytes on the wire over all connections (drivers that can tell). */
  traffic(): { sent: number; received: number } {
    return this.all.reduce(
      (t, c) => {
        const one = c.traffic?.() ?? { sent: 0, received: 0 };
        return { sent: t.sent + one.sent, received: t.received + one.received };
      },
      { sent: 0, received: 0 },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all.map((c) => c.close().catch(() => undefined)));
  }
}

/** Runs `work` over `items`, at most `limit` at once; the first failure rejects. */
export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}
