import { randomBytes } from 'node:crypto';
import { HmsSyncError } from '../errors.ts';

/** What the window needs of an in-flight message: its sequence (its subject is asked of `sameSubject`). */
export interface WindowEntry {
  readonly seq: number;
}

/** Whether `entry`'s message has this subject (the window keeps no subject strings of its own). */
export type SameSubject<E> = (entry: E, subject: string) => boolean;

/**
 * The publisher's messages in flight, found by sequence (an ack names its sequence) and by
 * subject (at most one message a subject is in flight: per-key order).
 *
 * Two Maps did this before, and a Map used as a sliding window is slow in V8: with ~4,096
 * entries coming in at one end and going out at the other, a `set` + `delete` pair cost
 * 250–350 ns (its hash table keeps deleted entries until it rehashes, and rehashes into a new
 * table), ~1.5 µs a message for the two Maps in the bridge's profile. Here:
 *
 * - by sequence: a ring of entries indexed by `seq % capacity`. Sequences are consecutive and
 *   the lowest one in flight only moves up, so a slot holds at most one live entry while the
 *   ring spans every sequence from the lowest in flight to the highest. It doubles when a
 *   message stays in flight that long (an ack that does not come: re-sent until maxSends).
 * - by subject: an open-addressing table (linear probing, deletion by shifting back) of
 *   sequence numbers in a Float64Array, keyed by a seeded FNV-1a hash of the subject, with the
 *   hash kept beside each slot. The subject itself is compared on a hash match, by `sameSubject`
 *   (the publisher compares it with the bytes of the entry's frame, so that nothing it keeps
 *   for a message in flight is a new heap object: docs/benchmarks.md, "Nothing a message
 *   makes stays alive until its ack").
 *
 * Sequences are integers below 2^53 (a Float64Array holds them exactly; 0 marks an empty slot).
 */
export class InflightWindow<E extends WindowEntry> {
  private ring: Array<E | undefined>;
  /** Each ring entry's subject hash (so taking it out does not hash its subject again). */
  private ringHash: Int32Array;
  private ringMask: number;
  private slotSeq: Float64Array;
  private slotHash: Int32Array;
  private slotMask: number;
  private readonly seed: number;
  /** No sequence below this one is in flight. */
  private low = 1;
  /** The highest sequence added. */
  private high = 0;
  private count = 0;
  /** Subjects in the subject table. */
  private subjects = 0;

  /**
   * `expected`: how many messages are usually in flight (maxInflight). Both tables start at
   * twice that, at most 16,384 slots (a maxInflight of a million would otherwise take ~50 MB
   * before anything is sent), and double when they must; they do not shrink.
   */
  constructor(
    private readonly sameSubject: SameSubject<E>,
    expected = 1024,
    seed = randomBytes(4).readInt32LE(0),
  ) {
    const capacity = powerOfTwoAtLeast(Math.min(16_384, Math.max(16, expected * 2)));
    this.ring = new Array<E | undefined>(capacity).fill(undefined);
    this.ringHash = new Int32Array(capacity);
    this.ringMask = capacity - 1;
    this.slotSeq = new Float64Array(capacity);
    this.slotHash = new Int32Array(capacity);
    this.slotMask = capacity - 1;
    this.seed = seed;
  }

  get size(): number {
    return this.count;
  }

  /** The lowest sequence in flight; one past the highest added when none is. */
  get lowest(): number {
    while (this.low <= this.high && this.get(this.low) === undefined) this.low++;
    return this.low;
  }

  /**
   * Adds the next message, whose subject is `subject`. Its sequence must be above every one
   * added before (the publisher numbers messages in order). It becomes its subject's message in
   * flight, in place of any other (which stays in flight by sequence). `hash` is
   * `subjectHash(subject)`, when the caller has it already.
   */
  add(entry: E, subject: string, hash = this.subjectHash(subject)): void {
    const { seq } = entry;
    if (!Number.isSafeInteger(seq) || seq <= this.high || seq < 1) {
      throw new HmsSyncError('INTERNAL', `in-flight window: sequence ${seq} added after ${this.high}`);
    }
    if (this.count === 0) this.low = seq;
    else if (seq - this.lowest >= this.ring.length) this.growRing(seq - this.low + 1);
    this.ring[seq & this.ringMask] = entry;
    this.ringHash[seq & this.ringMask] = hash;
    this.high = seq;
    this.count++;
    const found = this.findSlot(subject, hash);
    if (found >= 0) {
      this.slotSeq[found] = seq;
      return;
    }
    if ((this.subjects + 1) * 2 > this.slotSeq.length) {
      this.growSlots();
      this.insertSlot(seq, hash);
    } else {
      this.slotSeq[-1 - found] = seq;
      this.slotHash[-1 - found] = hash;
    }
    this.subjects++;
  }

  /** The message of this subject in flight, if there is one. */
  bySubject(subject: string, hash = this.subjectHash(subject)): E | undefined {
    const found = this.findSlot(subject, hash);
    return found >= 0 ? this.get(this.slotSeq[found]!) : undefined;
  }

  /** Takes a message out of flight (acknowledged); nothing happens if it is not in flight. */
  delete(entry: E): void {
    const { seq } = entry;
    if (this.get(seq) !== entry) return;
    // Its subject's slot holds its sequence, unless a later message of the subject took the slot.
    const found = this.slotOf(seq, this.ringHash[seq & this.ringMask]!);
    if (found >= 0) {
      this.removeSlot(found);
      this.subjects--;
    }
    this.ring[seq & this.ringMask] = undefined;
    this.count--;
  }

  /** The messages in flight, lowest sequence first (a copy: the window may change meanwhile). */
  entries(): E[] {
    const out: E[] = [];
    for (let seq = this.lowest; seq <= this.high; seq++) {
      const entry = this.get(seq);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** The message in flight with this sequence (undefined for any other number, NaN included). */
  get(seq: number): E | undefined {
    const entry = this.ring[seq & this.ringMask];
    return entry !== undefined && entry.seq === seq ? entry : undefined;
  }

  /** Seeded FNV-1a over the subject's UTF-16 code units (a source key cannot choose collisions). */
  subjectHash(subject: string): number {
    let h = this.seed ^ 0x811c9dc5;
    for (let i = 0; i < subject.length; i++) h = Math.imul(h ^ subject.charCodeAt(i), 0x01000193);
    return h ^ (h >>> 15);
  }

  /** The slot holding the subject, or -1 - the empty slot where it would go. */
  private findSlot(subject: string, hash: number): number {
    const mask = this.slotMask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const seq = this.slotSeq[i]!;
      if (seq === 0) return -1 - i;
      if (this.slotHash[i] === hash && this.sameSubject(this.get(seq)!, subject)) return i;
    }
  }

  /** The slot holding `seq` (its subject's hash is `hash`), or -1. */
  private slotOf(seq: number, hash: number): number {
    const mask = this.slotMask;
    for (let i = hash & mask; this.slotSeq[i] !== 0; i = (i + 1) & mask) if (this.slotSeq[i] === seq) return i;
    return -1;
  }

  private insertSlot(seq: number, hash: number): void {
    const mask = this.slotMask;
    let i = hash & mask;
    while (this.slotSeq[i] !== 0) i = (i + 1) & mask;
    this.slotSeq[i] = seq;
    this.slotHash[i] = hash;
  }

  /** Empties a slot and shifts back the run after it, so every subject stays reachable from its home slot. */
  private removeSlot(hole: number): void {
    const mask = this.slotMask;
    let empty = hole;
    for (let i = (hole + 1) & mask; this.slotSeq[i] !== 0; i = (i + 1) & mask) {
      const home = this.slotHash[i]! & mask;
      // Move the occupant into the hole unless its home lies cyclically in (empty, i].
      if (((i - home) & mask) >= ((i - empty) & mask)) {
        this.slotSeq[empty] = this.slotSeq[i]!;
        this.slotHash[empty] = this.slotHash[i]!;
        empty = i;
      }
    }
    this.slotSeq[empty] = 0;
    this.slotHash[empty] = 0;
  }

  private growRing(span: number): void {
    const capacity = powerOfTwoAtLeast(span * 2);
    const ring = new Array<E | undefined>(capacity).fill(undefined);
    const ringHash = new Int32Array(capacity);
    for (let seq = this.low; seq <= this.high; seq++) {
      const entry = this.get(seq);
      if (entry) {
        ring[seq & (capacity - 1)] = entry;
        ringHash[seq & (capacity - 1)] = this.ringHash[seq & this.ringMask]!;
      }
    }
    this.ring = ring;
    this.ringHash = ringHash;
    this.ringMask = capacity - 1;
  }

  private growSlots(): void {
    const oldSeq = this.slotSeq;
    const oldHash = this.slotHash;
    const capacity = oldSeq.length * 2;
    this.slotSeq = new Float64Array(capacity);
    this.slotHash = new Int32Array(capacity);
    this.slotMask = capacity - 1;
    for (let i = 0; i < oldSeq.length; i++) if (oldSeq[i] !== 0) this.insertSlot(oldSeq[i]!, oldHash[i]!);
  }
}

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
