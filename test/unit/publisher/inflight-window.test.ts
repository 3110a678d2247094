// The publisher's in-flight window (a ring by sequence and an open-addressing table by subject)
// against the two Maps it replaced, operation by operation: adds, acknowledgements in any order,
// a message left in flight while thousands pass it, subjects that share a hash, and sequences
// past 2^31 and 2^32.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/demo/legacy-rows.ts';
import { HmsSyncError } from '../../../src/errors.ts';
import { InflightWindow } from '../../../src/publisher/inflight-window.ts';

interface Entry {
  seq: number;
  subject: string;
}

const sameSubject = (entry: Entry, subject: string): boolean => entry.subject === subject;

/** What the publisher kept before: a Map by sequence and a Map by subject. */
class Model {
  readonly bySeq = new Map<number, Entry>();
  readonly bySubject = new Map<string, Entry>();
  high = 0;
  add(entry: Entry): void {
    this.bySeq.set(entry.seq, entry);
    this.bySubject.set(entry.subject, entry);
    this.high = entry.seq;
  }
  delete(entry: Entry): void {
    if (this.bySeq.get(entry.seq) !== entry) return;
    this.bySeq.delete(entry.seq);
    if (this.bySubject.get(entry.subject) === entry) this.bySubject.delete(entry.subject);
  }
  lowest(): number {
    let low = this.high + 1;
    for (const seq of this.bySeq.keys()) low = Math.min(low, seq);
    return low;
  }
}

/** Where the window and the model disagree (checked a few random ways after every operation). */
function differences(window: InflightWindow<Entry>, model: Model, subjects: string[], random: () => number): string[] {
  const out: string[] = [];
  if (window.size !== model.bySeq.size) out.push(`size ${window.size} != ${model.bySeq.size}`);
  if (window.lowest !== model.lowest()) out.push(`lowest ${window.lowest} != ${model.lowest()}`);
  for (let i = 0; i < 8; i++) {
    const seq = Math.floor(random() * (model.high + 10)) - 2;
    if (window.get(seq) !== model.bySeq.get(seq)) out.push(`get(${seq})`);
    const subject = subjects[Math.floor(random() * subjects.length)]!;
    if (window.bySubject(subject) !== model.bySubject.get(subject)) out.push(`bySubject(${subject})`);
  }
  for (const odd of [Number.NaN, 0.5, model.high + 0.5, -1, Infinity]) if (window.get(odd) !== undefined) out.push(`get(${odd})`);
  return out;
}

describe('in-flight window', () => {
  it('answers as the two Maps did, through adds, acknowledgements in any order, growth and a message left in flight', () => {
    for (const seed of [1, 2, 3, 99]) {
      const random = seededRandom(seed);
      // A small expected size and few subjects: the ring and the subject table both grow, and
      // a subject is often added again while its message is in flight (it takes its place).
      const window = new InflightWindow<Entry>(sameSubject, 4, seed);
      const model = new Model();
      const subjects = Array.from({ length: 40 + seed }, (_, i) => `hms.src.entity.${i * 7919}`);
      let seq = 0;
      let stuck: Entry | undefined;
      let grewPast = 0;
      for (let op = 0; op < 12_000; op++) {
        const roll = random();
        if (roll < 0.5 || model.bySeq.size === 0) {
          const entry = { seq: ++seq, subject: subjects[Math.floor(random() * subjects.length)]! };
          window.add(entry, entry.subject);
          model.add(entry);
          // One message is not acknowledged while 3,000 others come and go.
          if (!stuck && grewPast === 0 && op > 1500) stuck = entry;
        } else {
          const inFlight = [...model.bySeq.values()].filter((e) => e !== stuck);
          // Mostly the older ones first, as acks come, but any of them.
          const pick = inFlight.length === 0 ? undefined : inFlight[Math.floor(random() ** 3 * inFlight.length)];
          if (pick) {
            window.delete(pick);
            model.delete(pick);
            // Taking it out again changes nothing.
            window.delete(pick);
          }
          if (stuck && seq - stuck.seq > 3000) {
            grewPast = Math.max(grewPast, seq - stuck.seq);
            window.delete(stuck);
            model.delete(stuck);
            stuck = undefined;
          }
        }
        const wrong = differences(window, model, subjects, random);
        if (wrong.length > 0) expect({ seed, op, wrong }).toEqual({ seed, op, wrong: [] });
        if (op % 500 === 0) expect(window.entries()).toEqual([...model.bySeq.values()].sort((a, b) => a.seq - b.seq));
      }
      // The ring had to span far more sequences than it started with (16).
      expect(grewPast).toBeGreaterThan(3000);
      for (const entry of [...model.bySeq.values()]) {
        window.delete(entry);
        model.delete(entry);
      }
      expect(differences(window, model, subjects, random)).toEqual([]);
      expect(window.size).toBe(0);
      expect(window.lowest).toBe(seq + 1);
      expect(window.entries()).toEqual([]);
    }
  });

  it('tells apart two subjects with the same hash', () => {
    const window = new InflightWindow<Entry>(sameSubject, 8, 12345);
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    // Random keys: a 32-bit hash repeats after ~2^16 of them (keys counted up in order collide far later).
    const random = seededRandom(5);
    for (let i = 0; !pair && i < 400_000; i++) {
      const subject = `hms.src.entity.${Math.floor(random() * 2 ** 32).toString(36)}.${Math.floor(random() * 2 ** 32).toString(36)}`;
      const hash = window.subjectHash(subject);
      const earlier = seen.get(hash);
      if (earlier !== undefined && earlier !== subject) pair = [earlier, subject];
      else seen.set(hash, subject);
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    expect(a).not.toBe(b);
    expect(window.subjectHash(a)).toBe(window.subjectHash(b));
    const first = { seq: 1, subject: a };
    window.add(first, a);
    expect(window.bySubject(b)).toBeUndefined();
    const second = { seq: 2, subject: b };
    window.add(second, b);
    expect(window.bySubject(a)).toBe(first);
    expect(window.bySubject(b)).toBe(second);
    window.delete(first);
    expect(window.bySubject(a)).toBeUndefined();
    expect(window.bySubject(b)).toBe(second);
    expect(window.lowest).toBe(2);
  });

  it('keeps sequences apart past 2^31 and 2^32', () => {
    for (const start of [2 ** 31 - 40, 2 ** 32 - 40, 2 ** 53 - 200]) {
      const window = new InflightWindow<Entry>(sameSubject, 16, 7);
      const entries: Entry[] = [];
      for (let seq = start; seq < start + 80; seq++) {
        const entry = { seq, subject: `s.${seq % 50}` };
        // Each subject's earlier message is acknowledged before it comes again, as the publisher waits.
        const earlier = window.bySubject(entry.subject);
        if (earlier) window.delete(earlier);
        window.add(entry, entry.subject);
        entries.push(entry);
      }
      for (const entry of entries.slice(30)) expect(window.get(entry.seq)).toBe(entry);
      for (const entry of entries.slice(0, 30)) expect(window.get(entry.seq)).toBeUndefined();
      expect(window.get(start + 80)).toBeUndefined();
      expect(window.lowest).toBe(start + 30);
      expect(window.size).toBe(50);
    }
  });

  it('grows past its starting size when more are in flight than it was made for', () => {
    // A maxInflight of a million starts at 16,384 slots; here 40,000 are in flight at once.
    const window = new InflightWindow<Entry>(sameSubject, 1_000_000, 3);
    const entries = Array.from({ length: 40_000 }, (_, i) => ({ seq: i + 1, subject: `hms.src.entity.${i}` }));
    for (const entry of entries) window.add(entry, entry.subject);
    expect(window.size).toBe(40_000);
    const wrong = entries.filter((e) => window.get(e.seq) !== e || window.bySubject(e.subject) !== e);
    expect(wrong).toEqual([]);
    for (const entry of entries) if (entry.seq % 2 === 1 || entry.seq < 20_000) window.delete(entry);
    expect(window.size).toBe(10_001);
    expect(window.lowest).toBe(20_000);
    const left = entries.filter((e) => window.get(e.seq) === e && window.bySubject(e.subject) === e).map((e) => e.seq);
    expect(left).toEqual(entries.filter((e) => e.seq % 2 === 0 && e.seq >= 20_000).map((e) => e.seq));
  });

  it('refuses a sequence that does not come after the last one', () => {
    const window = new InflightWindow<Entry>(sameSubject, 4, 1);
    window.add({ seq: 5, subject: 'a' }, 'a');
    for (const seq of [5, 4, 5.5, Number.NaN, 2 ** 53]) {
      expect(() => window.add({ seq, subject: 'b' }, 'b')).toThrow(HmsSyncError);
    }
    expect(window.size).toBe(1);
    expect(window.bySubject('b')).toBeUndefined();
  });
});
