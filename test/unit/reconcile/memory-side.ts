// In-memory sides for the bisection tests: a naive one that scans its rows for every call
// (the reference), and IndexedSide over the same rows (what the source and the stream use).
import { IndexedSide, checksumOf, type IndexEntry } from '../../../reconcile/indexed-side.ts';
import { hashRow, inRange, keyComparator, keyId, keyKinds, keyObjectOf, rowKey } from '../../../reconcile/normalize.ts';
import type { CompareSpec, Key, KeyRange, KeyRef, RangeSummary, ReconcileSide, SideRow } from '../../../reconcile/types.ts';
import type { JsonObject } from '../../../src/mapping/types.ts';

/** Scans every row on every call; counts rows returned by rows()/rowsByKey(). */
export class NaiveSide implements ReconcileSide {
  returned = 0;
  private readonly compare;
  constructor(
    readonly name: string,
    private readonly spec: CompareSpec,
    readonly data: SideRow[],
    private readonly tombstones = new Map<string, string>(),
  ) {
    this.compare = keyComparator(keyKinds(spec));
  }
  private inside(range: KeyRange): SideRow[] {
    return this.data.filter((row) => inRange(this.compare, range, rowKey(this.spec, row.values)));
  }
  async countAndChecksum(range: KeyRange): Promise<RangeSummary> {
    return checksumOf(this.inside(range).map((row) => hashRow(this.spec, row.values)));
  }
  async rows(range: KeyRange): Promise<SideRow[]> {
    const rows = this.inside(range);
    this.returned += rows.length;
    return rows;
  }
  async rowsByKey(keys: readonly KeyRef[]): Promise<SideRow[]> {
    const wanted = new Set(keys.map((k) => keyId(k.key)));
    const rows = this.data.filter((row) => wanted.has(keyId(rowKey(this.spec, row.values))));
    this.returned += rows.length;
    for (const k of keys) {
      const position = this.tombstones.get(keyId(k.key));
      if (position !== undefined) rows.push({ values: k.keyObject, position, deleted: true });
    }
    return rows;
  }
  async positions(keys: readonly KeyRef[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const k of keys) {
      const id = keyId(k.key);
      const row = this.data.find((r) => keyId(rowKey(this.spec, r.values)) === id);
      const position = row?.position ?? this.tombstones.get(id);
      if (position !== undefined) out.set(id, position);
    }
    return out;
  }
}

/** An IndexedSide over rows held in memory; `fetched` counts rows returned. */
export function indexedSide(name: string, spec: CompareSpec, data: readonly JsonObject[], tombstones = new Map<string, string>()): IndexedSide & { fetched: () => number } {
  const byId = new Map<string, JsonObject>();
  const entries: IndexEntry[] = [];
  for (const values of data) {
    const key = rowKey(spec, values);
    const [hi, lo] = hashRow(spec, values);
    byId.set(keyId(key), values);
    entries.push({ key, keyObject: keyObjectOf(spec, values), hi, lo });
  }
  let fetched = 0;
  const side = new IndexedSide(name, spec, entries, async (list) => {
    fetched += list.length;
    return list.map((e) => ({ values: byId.get(keyId(e.key))! }));
  }, tombstones) as IndexedSide & { fetched: () => number };
  side.fetched = () => fetched;
  return side;
}

export function keyOf(...parts: string[]): Key {
  return parts;
}

/** 1M rows and a copy of them with 10 differences: 6 changed, 2 missing, 2 extra. */
export function millionRowSides(n = 1_000_000): { source: JsonObject[]; target: JsonObject[]; changed: number[]; missing: number[]; extra: number[] } {
  const source: JsonObject[] = new Array(n);
  for (let i = 0; i < n; i++) source[i] = { id: i + 1, status: i % 3 === 0 ? 'active' : 'closed', amount: `${i % 1000}.25` };
  const changed = [7, 123_457, 500_000, 731_001, 999_999, 250_002];
  const missing = [42, 640_000];
  const extra = [n + 5, n + 70];
  const target = source.filter((r) => !missing.includes(r.id as number)).map((r) => (changed.includes(r.id as number) ? { ...r, status: 'changed' } : r));
  for (const e of extra) target.push({ id: e, status: 'active', amount: '1' });
  return { source, target, changed, missing, extra };
}

