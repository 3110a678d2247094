/**
 * The debounce window, per table: a change first seen at t is held (its stored hash is left
 * as it was, so every later pass still sees it) and sent by the first pass at or after
 * t + window, with the row as that pass reads it. Several changes to one key inside the
 * window so become one envelope with the latest row; a key that went back to what was sent
 * is dropped without an envelope; nothing is lost, because what is held is never recorded
 * as sent (a restart finds it again).
 */
import type { KeyValues } from './types.ts';

export interface HeldKey {
  key: KeyValues;
  /** Chunk whose entry holds (or will hold) the key. */
  chunkId: number;
  firstSeenMs: number;
}

export class Debouncer {
  private readonly held = new Map<string, HeldKey>();

  constructor(readonly windowMs: number) {}

  get size(): number {
    return this.held.size;
  }

  /**
   * A change to `id` seen at `now`: true = send it now, false = hold it. `force` sends at
   * once (snapshot rows, a chunk that must be split).
   */
  decide(id: string, key: KeyValues, chunkId: number, now: number, force = false): boolean {
    const held = this.held.get(id);
    if (force || this.windowMs <= 0 || (held && now - held.firstSeenMs >= this.windowMs)) {
      this.held.delete(id);
      return true;
    }
    if (held) held.chunkId = chunkId;
    else this.held.set(id, { key, chunkId, firstSeenMs: now });
    return false;
  }

  /** The key no longer differs from what was sent. */
  resolve(id: string): void {
    this.held.delete(id);
  }

  isHeld(id: string): boolean {
    return this.held.has(id);
  }

  /** Held keys of one chunk. */
  inChunk(chunkId: number): Array<[string, HeldKey]> {
    return [...this.held].filter(([, h]) => h.chunkId === chunkId);
  }

  /** Held keys whose window has passed at `now`. */
  due(now: number): Array<[string, HeldKey]> {
    return [...this.held].filter(([, h]) => now - h.firstSeenMs >= this.windowMs);
  }

  /** When the earliest window ends (undefined: nothing held). */
  nextDeadline(): number | undefined {
    let first: number | undefined;
    for (const h of this.held.values()) first = first === undefined ? h.firstSeenMs : Math.min(first, h.firstSeenMs);
    return first === undefined ? undefined : first + this.windowMs;
  }
}
