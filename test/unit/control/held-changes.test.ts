import { describe, expect, it } from 'vitest';
import { HeldChangesSource, type HeldCheckpoint, type HeldMessage, type HeldStore } from '../../../src/control/index.ts';
import { createLogger } from '../../../src/log.ts';
import type { CaptureSource, ChangeBatch, RawChange } from '../../../src/ports.ts';

/** The holding stream in memory: one sequence over all tables, like a JetStream stream. */
class MemoryHeldStore implements HeldStore {
  seq = 0;
  readonly messages: Array<{ seq: number; table: string; change: RawChange }> = [];
  async append(table: string, changes: RawChange[]): Promise<number[]> {
    return changes.map((change) => {
      this.messages.push({ seq: ++this.seq, table, change });
      return this.seq;
    });
  }
  async lastSeq(table: string): Promise<number> {
    return this.messages.filter((m) => m.table === table).at(-1)?.seq ?? 0;
  }
  async read(table: string, after: number, max: number): Promise<HeldMessage[]> {
    return this.messages.filter((m) => m.table === table && m.seq > after).slice(0, max).map(({ seq, change }) => ({ seq, change }));
  }
  async purge(table: string, through: number): Promise<void> {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i]!.table === table && this.messages[i]!.seq <= through) this.messages.splice(i, 1);
  }
}

/** An inner source fed by the test: push() a batch, end() to finish. */
class FeedSource implements CaptureSource<number> {
  readonly name = 'feed';
  readonly committed: number[] = [];
  private queue: Array<ChangeBatch<number> | null> = [];
  private wake: (() => void) | undefined;
  push(batch: ChangeBatch<number>): void {
    this.queue.push(batch);
    this.wake?.();
  }
  end(): void {
    this.queue.push(null);
    this.wake?.();
  }
  async *changes(): AsyncGenerator<ChangeBatch<number>> {
    for (;;) {
      const next = this.queue.shift();
      if (next === null) return;
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }
  async commit(checkpoint: number): Promise<void> {
    this.committed.push(checkpoint);
  }
  async close(): Promise<void> {}
}

let position = 0;
function change(table: string, key: string): RawChange {
  position += 1;
  return {
    op: 'u',
    table,
    position: position.toString(16).padStart(16, '0'),
    commitTs: null,
    capture: 'log',
    row: { id: key, n: String(position) },
    before: null,
    keyRow: { id: key },
    columns: new Map(),
  };
}

function harness(tables: string[]) {
  const paused = new Set<string>();
  const listeners = new Set<() => void>();
  const store = new MemoryHeldStore();
  const inner = new FeedSource();
  const source = new HeldChangesSource(inner, {
    isPaused: (t) => paused.has(t),
    onChange: (l) => (listeners.add(l), () => listeners.delete(l)),
    store,
    tables,
    log: createLogger('silent'),
    replayBatch: 3,
  });
  const setPaused = (table: string, on: boolean): void => {
    if (on) paused.add(table);
    else paused.delete(table);
    for (const l of listeners) l();
  };
  return { source, inner, store, setPaused };
}

/** Pulls batches in the background, committing every checkpoint at once (as if acked). */
function consume(source: HeldChangesSource<number>, signal: AbortSignal) {
  const seen: RawChange[] = [];
  const done = (async () => {
    for await (const batch of source.changes(signal)) {
      seen.push(...batch.changes);
      if (batch.checkpoint) await source.commit(batch.checkpoint as HeldCheckpoint<number>);
    }
  })();
  return { seen, done };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('HeldChangesSource (pause one table of a log source)', () => {
  it('holds a paused table, keeps the others flowing, replays in order before new changes, then purges', async () => {
    const { source, inner, store, setPaused } = harness(['s.a', 's.b']);
    const controller = new AbortController();
    const { seen, done } = consume(source, controller.signal);
    setPaused('s.a', true);
    const held: RawChange[] = [];
    for (let i = 0; i < 5; i++) {
      const a = change('s.a', `k${i % 2}`);
      held.push(a);
      inner.push({ changes: [a, change('s.b', 'x')], checkpoint: i + 1 });
    }
    await until(() => seen.length === 5);
    expect(seen.every((c) => c.table === 's.b')).toBe(true);
    // The slot may advance: the checkpoints came back although s.a's changes were not published.
    expect(inner.committed.at(-1)).toBe(5);
    expect(store.messages.map((m) => m.change)).toEqual(held);

    // Resume while changes keep coming: they queue up behind the held ones.
    setPaused('s.a', false);
    const later = change('s.a', 'k0');
    inner.push({ changes: [later, change('s.b', 'y')], checkpoint: 6 });
    await until(() => seen.filter((c) => c.table === 's.a').length === 6);
    expect(seen.filter((c) => c.table === 's.a')).toEqual([...held, later]);
    await until(() => store.messages.length === 0);

    // Live again: straight through.
    const live = change('s.a', 'k1');
    inner.push({ changes: [live], checkpoint: 7 });
    await until(() => seen.at(-1) === live);
    expect(store.messages).toEqual([]);
    inner.end();
    await done;
    controller.abort();
  });

  it('replays what an earlier run held, and skips a change held twice', async () => {
    const { source, inner, store } = harness(['s.a']);
    const first = change('s.a', 'k');
    const second = change('s.a', 'k');
    await store.append('s.a', [first, second]);
    await store.append('s.a', [second]); // sent again after a crash (beyond the duplicate window)
    const controller = new AbortController();
    const { seen, done } = consume(source, controller.signal);
    const next = change('s.a', 'k');
    inner.push({ changes: [next], checkpoint: 1 });
    await until(() => seen.length === 3);
    expect(seen).toEqual([first, second, next]);
    await until(() => store.messages.length === 0);
    inner.end();
    await done;
  });

  it('a table paused again while draining stops replaying and keeps holding', async () => {
    const { source, inner, store, setPaused } = harness(['s.a']);
    const controller = new AbortController();
    const { seen, done } = consume(source, controller.signal);
    setPaused('s.a', true);
    const held = Array.from({ length: 10 }, (_, i) => change('s.a', `k${i}`));
    inner.push({ changes: held, checkpoint: 1 });
    await until(() => store.messages.length === 10);
    expect(seen).toEqual([]);
    setPaused('s.a', false);
    await until(() => seen.length >= 3);
    setPaused('s.a', true);
    const more = change('s.a', 'k0');
    inner.push({ changes: [more], checkpoint: 2 });
    await until(() => store.messages.some((m) => m.change === more));
    setPaused('s.a', false);
    await until(() => seen.length === 11);
    expect(seen).toEqual([...held, more]);
    inner.end();
    await done;
  });
});
