/**
 * A side whose checksums come from an in-memory index: every row's canonical key and 64-bit
 * hash, sorted by key, with prefix sums of the hashes. Any range's count and checksum then
 * cost two binary searches and a subtraction; split points are index lookups. Row values
 * are not kept: `rows(range)` asks `fetch` for just the keys in the range.
 *
 * The source (which must map its rows in the bridge before they can be hashed) and the
 * stream (which has no server-side checksum) build one of these in one pass over their rows.
 */
import { keyComparator, keyId, keyKinds, type KeyComparator } from './normalize.ts';
import type { CompareSpec, Key, KeyRange, KeyRef, RangeSummary, ReconcileSide, SideRow } from './types.ts';
import type { JsonObject } from '../src/mapping/types.ts';

export interface IndexEntry {
  key: Key;
  keyObject: JsonObject;
  hi: number;
  lo: number;
  /** The source's key columns as input text (source side only). */
  sourceKey?: string[];
  /** The envelope's position (stream side only). */
  position?: string;
}

const TWO_32 = 0x1_0000_0000;

/** Sum of 64-bit values as (hi, lo) uint32 halves, mod 2^64. */
export function add64(hi: number, lo: number, bHi: number, bLo: number): [number, number] {
  const l = lo + bLo;
  const carry = l >= TWO_32 ? 1 : 0;
  return [(hi + bHi + carry) >>> 0, l >>> 0];
}

export function sub64(hi: number, lo: number, bHi: number, bLo: number): [number, number] {
  let l = lo - bLo;
  let borrow = 0;
  if (l < 0) {
    l += TWO_32;
    borrow = 1;
  }
  return [(hi - bHi - borrow) >>> 0, l >>> 0];
}

export function checksumHex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** The checksum of a list of row hashes (what an IndexedSide reports for them). */
export function checksumOf(hashes: Iterable<readonly [number, number]>): RangeSummary {
  let hi = 0;
  let lo = 0;
  let count = 0;
  for (const [h, l] of hashes) {
    [hi, lo] = add64(hi, lo, h, l);
    count += 1;
  }
  return { count, checksum: checksumHex(hi, lo) };
}

/**
 * Sorted entries with each key once: among entries with the same key id the later one (in
 * input order, which the stable sort kept) replaces the earlier, at the earlier one's place.
 */
function withoutDuplicates(sorted: IndexEntry[], compare: KeyComparator): IndexEntry[] {
  let i = 1;
  while (i < sorted.length && compare(sorted[i - 1]!.key, sorted[i]!.key) !== 0) i++;
  if (i >= sorted.length) return sorted; // no two keys compare equal: nothing to merge
  const out = sorted.slice(0, i - 1);
  let start = i - 1;
  while (start < sorted.length) {
    let end = start + 1;
    while (end < sorted.length && compare(sorted[start]!.key, sorted[end]!.key) === 0) end++;
    if (end - start === 1) {
      out.push(sorted[start]!);
    } else {
      // Equal in order but possibly distinct ids (both kept, as distinct keys).
      const byId = new Map<string, IndexEntry>();
      for (let k = start; k < end; k++) byId.set(keyId(sorted[k]!.key), sorted[k]!);
      out.push(...byId.values());
    }
    start = end;
  }
  return out;
}

export type RowFetcher = (entries: readonly IndexEntry[]) => Promise<SideRow[]>;

export class IndexedSide implements ReconcileSide {
  readonly compare: KeyComparator;
  private readonly entries: IndexEntry[];
  private readonly prefixHi: Uint32Array;
  private readonly prefixLo: Uint32Array;
  /** By key id, built on first use: bisection itself never needs it, and for a 1M-row side it is 1M strings. */
  private byKeyMap: Map<string, IndexEntry> | undefined;

  /**
   * `entries` in any order (sorted in place); keys must be unique (a later duplicate replaces
   * an earlier one).
   */
  constructor(
    readonly name: string,
    spec: CompareSpec,
    entries: IndexEntry[],
    private readonly fetch: RowFetcher,
    private readonly extraPositions: ReadonlyMap<string, string> = new Map(),
  ) {
    this.compare = keyComparator(keyKinds(spec));
    // A stable sort (sources read in key order are already sorted: one pass), then duplicates
    // are next to each other and found without a map of every key.
    entries.sort((a, b) => this.compare(a.key, b.key));
    this.entries = withoutDuplicates(entries, this.compare);
    const n = this.entries.length;
    this.prefixHi = new Uint32Array(n + 1);
    this.prefixLo = new Uint32Array(n + 1);
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < n; i++) {
      const e = this.entries[i]!;
      // add64, inline (once per row).
      const l = lo + e.lo;
      hi = (hi + e.hi + (l >= TWO_32 ? 1 : 0)) >>> 0;
      lo = l >>> 0;
      this.prefixHi[i + 1] = hi;
      this.prefixLo[i + 1] = lo;
    }
  }

  private get byKey(): Map<string, IndexEntry> {
    if (this.byKeyMap === undefined) {
      this.byKeyMap = new Map();
      for (const entry of this.entries) this.byKeyMap.set(keyId(entry.key), entry);
    }
    return this.byKeyMap;
  }

  get size(): number {
    return this.entries.length;
  }

  /** First index whose key is >= key. */
  private lowerBound(key: Key): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.entries[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private bounds(range: KeyRange): [number, number] {
    const start = range.from === undefined ? 0 : this.lowerBound(range.from);
    const end = range.to === undefined ? this.entries.length : this.lowerBound(range.to);
    return [start, Math.max(start, end)];
  }

  async countAndChecksum(range: KeyRange): Promise<RangeSummary> {
    const [i, j] = this.bounds(range);
    const [hi, lo] = sub64(this.prefixHi[j]!, this.prefixLo[j]!, this.prefixHi[i]!, this.prefixLo[i]!);
    return { count: j - i, checksum: checksumHex(hi, lo) };
  }

  entriesIn(range: KeyRange): IndexEntry[] {
    const [i, j] = this.bounds(range);
    return this.entries.slice(i, j);
  }

  async rows(range: KeyRange): Promise<SideRow[]> {
    const entries = this.entriesIn(range);
    return entries.length === 0 ? [] : this.fetch(entries);
  }

  async splitPoints(range: KeyRange, parts: number): Promise<Key[]> {
    const [i, j] = this.bounds(range);
    const points: Key[] = [];
    for (let p = 1; p < parts; p++) {
      const index = i + Math.floor(((j - i) * p) / parts);
      if (index <= i || index >= j) continue;
      const key = this.entries[index]!.key;
      if (points.length === 0 || this.compare(points[points.length - 1]!, key) < 0) points.push(key);
    }
    return points;
  }

  entry(key: Key): IndexEntry | undefined {
    return this.byKey.get(keyId(key));
  }

  async rowsByKey(keys: readonly KeyRef[]): Promise<SideRow[]> {
    const entries = keys.map((k) => this.byKey.get(keyId(k.key))).filter((e): e is IndexEntry => e !== undefined);
    return entries.length === 0 ? [] : this.fetch(entries);
  }

  async positions(keys: readonly KeyRef[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const k of keys) {
      const id = keyId(k.key);
      const position = this.byKey.get(id)?.position ?? this.extraPositions.get(id);
      if (position !== undefined) out.set(id, position);
    }
    return out;
  }
}
