/**
 * Pausing one table of a log-capture source without holding back the others and without
 * losing its changes: a wrapper around the CaptureSource port (docs/pause-resume.md).
 *
 * - While a table is paused, its changes are taken out of each batch, in order, and appended
 *   to the holding stream; the batch (the other tables' changes and the checkpoint) goes on
 *   only once JetStream stored them, so the slot may advance past them without losing them.
 * - A table that has held changes stays diverted until they are all replayed, even after its
 *   resume: new changes queue up behind the held ones, so its changes reach the pipeline in
 *   commit order.
 * - After a resume, the held changes are read back in order and handed to the pipeline as
 *   they were captured (same positions, so the same envelope ids), between live batches.
 *   When the last one is handed over, the table is live again. The held changes are purged
 *   once the checkpoint of the batch that carried them comes back (JetStream acknowledged
 *   their envelopes).
 */
import type { Logger } from '../log.ts';
import type { CaptureSource, ChangeBatch, RawChange } from '../ports.ts';
import type { HeldStore } from './held-store.ts';

export interface HeldCheckpoint<C> {
  /** The inner source's newest checkpoint handed out with or before this batch. */
  inner?: C;
  /** Per table: every held change up to this sequence was handed to the pipeline. */
  replayed: Record<string, number>;
}

export interface HeldChangesOptions {
  /** Whether a table is paused right now (read per change). */
  isPaused: (table: string) => boolean;
  /** Subscribes to pause state changes; returns the unsubscribe function. */
  onChange: (listener: () => void) => () => void;
  store: HeldStore;
  /** Tables to check for held changes at start (the mapped tables). */
  tables: readonly string[];
  log: Logger;
  /** Held changes handed over per replay batch (default 500). */
  replayBatch?: number;
  /**
   * Resolves once the inner source is set up (its onReady ran, so the pipeline knows every
   * mapped table's route). No held change is replayed before: the pipeline skips a change of a
   * table it has no route for, and the replay's checkpoint would then purge it unsent.
   */
  ready?: Promise<void>;
}

interface Backlog {
  /** Sequence of the newest held change of the table. */
  last: number;
  /** Sequence of the newest held change handed to the pipeline. */
  cursor: number;
  /** Position of the newest change handed over: a change sent twice (a restart) is skipped. */
  position?: string;
}

export class HeldChangesSource<C> implements CaptureSource<HeldCheckpoint<C>> {
  readonly name: string;
  private readonly backlogs = new Map<string, Backlog>();
  /** Per table: replayed through this sequence (purged once committed). */
  private readonly replayed: Record<string, number> = {};
  private readonly purged = new Map<string, number>();
  private lastInner: C | undefined;
  private committedInner: C | undefined;
  private hasCommittedInner = false;

  constructor(
    private readonly inner: CaptureSource<C>,
    private readonly options: HeldChangesOptions,
  ) {
    this.name = inner.name;
  }

  /** Tables with held changes not yet replayed (for tests and the API). */
  get heldTables(): string[] {
    return [...this.backlogs.keys()];
  }

  private diverted(table: string): boolean {
    return this.backlogs.has(table) || this.options.isPaused(table);
  }

  private checkpoint(): HeldCheckpoint<C> {
    return { ...(this.lastInner !== undefined ? { inner: this.lastInner } : {}), replayed: { ...this.replayed } };
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<HeldCheckpoint<C>>> {
    // Held changes left by an earlier run (paused, or resumed but not yet replayed).
    for (const table of this.options.tables) {
      const last = await this.options.store.lastSeq(table);
      if (last > 0) {
        this.backlogs.set(table, { last, cursor: 0 });
        this.options.log.info({ table, heldThrough: last }, `${table}: held changes from an earlier run`);
      }
    }
    const iterator = this.inner.changes(signal)[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<ChangeBatch<C>>> | undefined;
    let ready: IteratorResult<ChangeBatch<C>> | undefined;
    let failure: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const poke = (): void => wake?.();
    const unsubscribe = this.options.onChange(poke);
    signal.addEventListener('abort', poke);
    let innerReady = this.options.ready === undefined;
    this.options.ready?.then(
      () => {
        innerReady = true;
        poke();
      },
      () => undefined,
    );
    try {
      for (;;) {
        if (next === undefined) {
          next = iterator.next();
          next.then(
            (result) => {
              ready = result;
              poke();
            },
            (error: unknown) => {
              failure = { error };
              poke();
            },
          );
        }
        if (failure) throw failure.error;
        if (ready !== undefined) {
          const result = ready;
          ready = undefined;
          next = undefined;
          if (result.done) return;
          const batch = await this.live(result.value);
          if (batch) yield batch;
          continue;
        }
        if (signal.aborted) {
          // The inner source ends on abort; wait for it so its last batch is not lost.
          await next.catch(() => undefined);
          continue;
        }
        const table = innerReady ? [...this.backlogs.keys()].find((t) => !this.options.isPaused(t)) : undefined;
        if (table !== undefined) {
          const batch = await this.replay(table);
          if (batch) yield batch;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', poke);
      // Not awaited: a pending next() may wait for data that never comes; close() ends it.
      void iterator.return?.(undefined)?.catch(() => undefined);
    }
  }

  /** A live batch: paused (or still draining) tables' changes go to the holding stream first. */
  private async live(batch: ChangeBatch<C>): Promise<ChangeBatch<HeldCheckpoint<C>> | undefined> {
    const live: RawChange[] = [];
    const held = new Map<string, RawChange[]>();
    for (const change of batch.changes) {
      if (this.diverted(change.table)) {
        const list = held.get(change.table) ?? [];
        list.push(change);
        held.set(change.table, list);
      } else {
        live.push(change);
      }
    }
    for (const [table, changes] of held) {
      const seqs = await this.options.store.append(table, changes);
      const last = Math.max(...seqs);
      const backlog = this.backlogs.get(table);
      if (backlog) backlog.last = Math.max(backlog.last, last);
      else this.backlogs.set(table, { last, cursor: this.replayed[table] ?? 0 });
    }
    if (batch.checkpoint !== undefined) this.lastInner = batch.checkpoint;
    if (live.length === 0 && batch.checkpoint === undefined) return undefined;
    return { changes: live, ...(batch.checkpoint !== undefined ? { checkpoint: this.checkpoint() } : {}) };
  }

  /** The next held changes of a resumed table; the table goes live once they are all handed over. */
  private async replay(table: string): Promise<ChangeBatch<HeldCheckpoint<C>> | undefined> {
    const backlog = this.backlogs.get(table)!;
    const messages = await this.options.store.read(table, backlog.cursor, this.options.replayBatch ?? 500);
    const changes: RawChange[] = [];
    for (const { seq, change } of messages) {
      backlog.cursor = seq;
      if (backlog.position !== undefined && change.position <= backlog.position) continue;
      backlog.position = change.position;
      changes.push(change);
    }
    if (messages.length === 0 || backlog.cursor >= backlog.last) {
      this.backlogs.delete(table);
      this.options.log.info({ table, replayedThrough: backlog.cursor }, `${table}: held changes replayed, the table is live again`);
    }
    if (backlog.cursor > (this.replayed[table] ?? 0)) this.replayed[table] = backlog.cursor;
    if (changes.length === 0 && messages.length === 0) return undefined;
    return { changes, checkpoint: this.checkpoint() };
  }

  async commit(checkpoint: HeldCheckpoint<C>): Promise<void> {
    if (checkpoint.inner !== undefined && (!this.hasCommittedInner || checkpoint.inner !== this.committedInner)) {
      await this.inner.commit(checkpoint.inner);
      this.committedInner = checkpoint.inner;
      this.hasCommittedInner = true;
    }
    for (const [table, through] of Object.entries(checkpoint.replayed)) {
      if (through <= (this.purged.get(table) ?? 0)) continue;
      await this.options.store.purge(table, through);
      this.purged.set(table, through);
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
