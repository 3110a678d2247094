/**
 * Pause state of each source, kept in NATS KV (the offsets bucket, key `control.<source>`), so
 * a `pause` from the CLI, the HTTP API or the console reaches the running bridge within a
 * second (KV watch) and survives restarts (read at start).
 */
import { userInfo } from 'node:os';
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError, errorMessage } from '../errors.ts';

export interface PauseState {
  /** The whole source is paused: no capture attempt runs. */
  paused: boolean;
  /** Tables ("schema.table") paused on their own; the others keep flowing. */
  tables: string[];
  /** Who changed it last, and when (ISO 8601). */
  by?: string;
  at?: string;
}

export const NOT_PAUSED: PauseState = Object.freeze({ paused: false, tables: [] }) as PauseState;

export function controlKey(source: string): string {
  return `control.${source}`;
}

/** What a pause or resume asks for: the whole source, or one of its tables. */
export interface PauseRequest {
  source: string;
  table?: string;
  by?: string;
}

/** The pause/resume rules, pure: resuming the source without a table resumes its tables too. */
export function applyPause(current: PauseState, action: 'pause' | 'resume', table: string | undefined): Omit<PauseState, 'by' | 'at'> {
  if (table === undefined) return action === 'pause' ? { paused: true, tables: [...current.tables] } : { paused: false, tables: [] };
  const tables = current.tables.filter((t) => t !== table);
  if (action === 'pause') tables.push(table);
  return { paused: current.paused, tables: tables.sort() };
}

export function defaultActor(): string {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Reads and writes pause states in the offsets bucket (the CLI and the HTTP routes use it). */
export class PauseStore {
  private constructor(readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string, replicas = 1): Promise<PauseStore> {
    try {
      // Same settings as the offsets store, so whichever opens the bucket first creates it alike.
      return new PauseStore(await new Kvm(nc).create(bucket, { history: 5, replicas }));
    } catch (error) {
      throw new HmsSyncError('NATS', `cannot open KV bucket ${bucket}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
  }

  async get(source: string): Promise<{ state: PauseState; revision: number }> {
    const entry = await this.kv.get(controlKey(source));
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return { state: NOT_PAUSED, revision: entry?.revision ?? 0 };
    return { state: parseState(entry.json<unknown>()), revision: entry.revision };
  }

  /** Pause or resume; a compare-and-set loop, so two callers at once both take effect. */
  async apply(action: 'pause' | 'resume', request: PauseRequest): Promise<PauseState> {
    for (let tries = 0; ; tries++) {
      const { state, revision } = await this.get(request.source);
      const next: PauseState = { ...applyPause(state, action, request.table), by: request.by ?? defaultActor(), at: new Date().toISOString() };
      try {
        if (revision === 0) await this.kv.create(controlKey(request.source), JSON.stringify(next));
        else await this.kv.update(controlKey(request.source), JSON.stringify(next), revision);
        return next;
      } catch (error) {
        if (tries >= 10) throw new HmsSyncError('NATS', `cannot write ${controlKey(request.source)}: ${errorMessage(error)}`, { cause: error, retryable: true });
      }
    }
  }
}

function parseState(value: unknown): PauseState {
  const v = (value ?? {}) as Partial<PauseState>;
  return {
    paused: v.paused === true,
    tables: Array.isArray(v.tables) ? v.tables.filter((t): t is string => typeof t === 'string') : [],
    ...(typeof v.by === 'string' ? { by: v.by } : {}),
    ...(typeof v.at === 'string' ? { at: v.at } : {}),
  };
}

/** What the capture side asks of the pause state (a wrapper or a poll engine consults it). */
export interface PauseView {
  isSourcePaused(source: string): boolean;
  isTablePaused(source: string, table: string): boolean;
  /** Called on every change of any source's state; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/**
 * The running bridge's view: every source's state, kept current by a KV watch. Reads are
 * synchronous (they happen per change on the hot path).
 */
export class PauseWatch implements PauseView {
  private readonly states = new Map<string, { state: PauseState; revision: number }>();
  private readonly listeners = new Set<() => void>();
  private stopWatch: (() => void) | undefined;

  private constructor(readonly store: PauseStore) {}

  /**
   * Pause or resume through this bridge's own connection, then wait (up to 2 s) until the watch
   * has seen it, so a GET /api/sources right after the answer shows the new state.
   */
  async apply(action: 'pause' | 'resume', request: PauseRequest): Promise<PauseState> {
    const next = await this.store.apply(action, request);
    await this.until(() => this.get(request.source).at === next.at, AbortSignal.timeout(2_000));
    return next;
  }

  static async start(store: PauseStore, sources: readonly string[]): Promise<PauseWatch> {
    const watch = new PauseWatch(store);
    // Updates first, then the current values: nothing written in between is missed, and the
    // revision check keeps an older read from overwriting a newer update.
    const iterator = await store.kv.watch({ key: 'control.>', include: KvWatchInclude.UpdatesOnly });
    watch.stopWatch = () => iterator.stop();
    void (async () => {
      for await (const entry of iterator) {
        const source = entry.key.slice('control.'.length);
        const state = entry.operation === 'PUT' && entry.length > 0 ? parseState(entry.json<unknown>()) : NOT_PAUSED;
        watch.set(source, state, entry.revision);
      }
    })().catch(() => undefined);
    for (const source of sources) {
      const { state, revision } = await store.get(source);
      watch.set(source, state, revision);
    }
    return watch;
  }

  private set(source: string, state: PauseState, revision: number): void {
    const current = this.states.get(source);
    if (current && current.revision >= revision) return;
    this.states.set(source, { state, revision });
    for (const listener of this.listeners) listener();
  }

  get(source: string): PauseState {
    return this.states.get(source)?.state ?? NOT_PAUSED;
  }

  isSourcePaused(source: string): boolean {
    return this.get(source).paused;
  }

  isTablePaused(source: string, table: string): boolean {
    return this.get(source).tables.includes(table);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once `ready()` holds (or the signal aborts). */
  async until(ready: () => boolean, signal: AbortSignal): Promise<void> {
    if (ready() || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        if (!ready() && !signal.aborted) return;
        off();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const off = this.onChange(done);
      signal.addEventListener('abort', done);
    });
  }

  close(): void {
    this.stopWatch?.();
    this.listeners.clear();
  }
}
