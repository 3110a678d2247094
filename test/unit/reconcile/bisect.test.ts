import { describe, expect, it } from 'vitest';
import { bisect, integerSplitPoints, reconcileSides, subRanges } from '../../../reconcile/bisect.ts';
import { checksumOf } from '../../../reconcile/indexed-side.ts';
import { hashRow, inRange, keyComparator, keyId, keyKinds, rowKey } from '../../../reconcile/normalize.ts';
import type { CompareSpec, Key, KeyBounds, KeyRange, RangeSummary, SideRow } from '../../../reconcile/types.ts';
import type { JsonObject } from '../../../src/mapping/types.ts';
import { field } from '../../fixtures/mapping-helpers.ts';
import { NaiveSide, indexedSide } from './memory-side.ts';

const id = field('id', 'ID', { type: 'integer' });
const spec: CompareSpec = {
  fields: [id, field('name', 'NAME'), field('amount', 'AMT', { type: 'decimal' }), field('at', 'AT', { type: 'timestamp' })],
  keyFields: [id],
};

function rows(n: number): JsonObject[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `row ${i + 1}`, amount: `${i}.50`, at: '2024-09-02T10:00:00.000Z' }));
}

const wrap = (data: JsonObject[]): SideRow[] => data.map((values) => ({ values }));

/**
 * A scanning side that also sums a split's parts in one pass over its rows (as the postgres
 * target does in one query), counting its countAndChecksum calls and recording each split.
 */
class PartSummingSide extends NaiveSide {
  checksumCalls = 0;
  readonly splits: Array<{ range: KeyRange; points: readonly Key[]; summaries: RangeSummary[] }> = [];
  constructor(
    name: string,
    private readonly compareSpec: CompareSpec,
    data: SideRow[],
  ) {
    super(name, compareSpec, data);
  }
  override async countAndChecksum(range: KeyRange): Promise<RangeSummary> {
    this.checksumCalls += 1;
    return super.countAndChecksum(range);
  }
  async summarizeParts(range: KeyRange, points: readonly Key[]): Promise<RangeSummary[]> {
    const compare = keyComparator(keyKinds(this.compareSpec));
    const hashes: Array<Array<[number, number]>> = Array.from({ length: points.length + 1 }, () => []);
    for (const row of this.data) {
      const key = rowKey(this.compareSpec, row.values);
      if (!inRange(compare, range, key)) continue;
      let part = 0;
      while (part < points.length && compare(key, points[part]!) >= 0) part++;
      hashes[part]!.push(hashRow(this.compareSpec, row.values));
    }
    const summaries = hashes.map((list) => checksumOf(list));
    this.splits.push({ range, points, summaries });
    return summaries;
  }
}

/**
 * A part-summing side over the integer key `id` that gives its key bounds (as the SQL sides do:
 * none when it holds no rows or a row without a key) and, optionally, quantile split points.
 */
class BoundedSide extends PartSummingSide {
  boundsCalls = 0;
  constructor(
    name: string,
    private readonly boundedSpec: CompareSpec,
    data: SideRow[],
    withSplitPoints = false,
  ) {
    super(name, boundedSpec, data);
    if (withSplitPoints) this.splitPoints = (range, parts) => this.quantiles(range, parts);
  }
  /** Set when the side splits (bisection asks a side that has it). */
  splitPoints?: (range: KeyRange, parts: number) => Promise<Key[]>;
  async keyBounds(): Promise<KeyBounds | undefined> {
    this.boundsCalls += 1;
    const ids = this.data.map((row) => row.values.id);
    if (ids.length === 0 || ids.some((v) => v === null || v === undefined)) return undefined;
    const sorted = ids.map((v) => BigInt(v as number | string)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { min: [sorted[0]!.toString()], max: [sorted[sorted.length - 1]!.toString()] };
  }
  private async quantiles(range: KeyRange, parts: number): Promise<Key[]> {
    const compare = keyComparator(keyKinds(this.boundedSpec));
    const keys = this.data.map((row) => rowKey(this.boundedSpec, row.values)).filter((k) => inRange(compare, range, k)).sort(compare);
    const points: Key[] = [];
    for (let p = 1; p < parts; p++) {
      const key = keys[Math.floor((keys.length * p) / parts)];
      if (key === undefined || (range.from !== undefined && compare(key, range.from) <= 0)) continue;
      if (points.length > 0 && compare(points[points.length - 1]!, key) >= 0) continue;
      points.push(key);
    }
    return points;
  }
}

describe('checksum bisection', () => {
  it('identical sides: one checksum each, no rows fetched, no diffs', async () => {
    const source = indexedSide('source', spec, rows(5000));
    const target = indexedSide('target', spec, rows(5000));
    const { diffs, stats } = await bisect(source, target, spec);
    expect(diffs).toEqual([]);
    expect(stats.source.checksumQueries).toBe(1);
    expect(source.fetched() + target.fetched()).toBe(0);
    expect(stats.totals).toEqual({ source: 5000, target: 5000 });
  });

  it('formatting noise only (scale, precision, CHAR padding): no diffs, though checksums of raw text would differ', async () => {
    const source = rows(300);
    const target = source.map((r) => ({ ...r, id: String(r.id), name: `${r.name}   `, amount: String(r.amount).replace(/0$/, ''), at: '2024-09-02T10:00:00Z' }));
    const { diffs, stats } = await bisect(indexedSide('s', spec, source), indexedSide('t', spec, target), spec);
    expect(diffs).toEqual([]);
    expect(stats.leafRanges).toBe(0);
  });

  it('finds exactly the missing, extra and changed keys, with both values of each changed field', async () => {
    const source = rows(3000);
    const target = rows(3000)
      .filter((r) => r.id !== 17 && r.id !== 2500)
      .map((r) => (r.id === 1234 ? { ...r, name: 'renamed', amount: '99' } : r));
    target.push({ id: 4000, name: 'only in target', amount: '1', at: null });
    const s = new NaiveSide('source', spec, wrap(source));
    const t = new NaiveSide('target', spec, wrap(target));
    const { diffs, stats } = await bisect(s, t, spec, { leafRows: 32 });
    expect(diffs.map(({ key, kind, fields }) => ({ key, kind, ...(fields ? { fields } : {}) }))).toEqual([
      { key: { id: 17 }, kind: 'missingInTarget' },
      {
        key: { id: 1234 },
        kind: 'different',
        fields: [
          { field: 'name', source: 'row 1234', target: 'renamed' },
          { field: 'amount', source: '1233.50', target: '99' },
        ],
      },
      { key: { id: 2500 }, kind: 'missingInTarget' },
      { key: { id: 4000 }, kind: 'missingInSource' },
    ]);
    // NaiveSide has no splitPoints: bisection still terminates by fetching the leaf.
    expect(stats.leafRanges).toBeGreaterThan(0);
  });

  it('NaiveSide and IndexedSide agree on every range checksum, so they can be mixed', async () => {
    const data = rows(2000);
    const changed = data.map((r) => (r.id === 1500 ? { ...r, amount: '0' } : r));
    const mixed = await bisect(indexedSide('s', spec, data), new NaiveSide('t', spec, wrap(changed)), spec);
    expect(mixed.diffs.map((d) => d.key)).toEqual([{ id: 1500 }]);
    expect(mixed.stats.rangesEqual).toBeGreaterThan(0);
  });

  it('an empty side: every row of the other is reported, without splitting', async () => {
    const { diffs, stats } = await bisect(indexedSide('s', spec, rows(500)), indexedSide('t', spec, []), spec);
    expect(diffs).toHaveLength(500);
    expect(diffs.every((d) => d.kind === 'missingInTarget')).toBe(true);
    expect(stats.rangesCompared).toBe(1);
    const both = await bisect(indexedSide('s', spec, []), indexedSide('t', spec, []), spec);
    expect(both.diffs).toEqual([]);
  });

  it('composite keys: text then number, bounds on both parts', async () => {
    const region = field('region', 'REGION');
    const seq = field('seq', 'SEQ', { type: 'integer' });
    const composite: CompareSpec = { fields: [region, seq, field('v', 'V')], keyFields: [region, seq] };
    const data: JsonObject[] = [];
    for (const r of ['B', 'a', 'b', 'é']) for (let i = 1; i <= 400; i++) data.push({ region: r, seq: i, v: `${r}${i}` });
    const target = data.filter((row) => !(row.region === 'b' && row.seq === 10)).map((row) => (row.region === 'é' && row.seq === 399 ? { ...row, v: 'x' } : row));
    target.push({ region: 'a', seq: 401, v: 'new' });
    const s = indexedSide('s', composite, data);
    const t = indexedSide('t', composite, target);
    const { diffs } = await bisect(s, t, composite, { leafRows: 16, splitFactor: 4 });
    expect(diffs.map((d) => [d.key, d.kind])).toEqual([
      [{ region: 'a', seq: 401 }, 'missingInSource'],
      [{ region: 'b', seq: 10 }, 'missingInTarget'],
      [{ region: 'é', seq: 399 }, 'different'],
    ]);
    // Key ranges are split at quantiles: fewer rows fetched than a full read of either side.
    expect(s.fetched()).toBeLessThan(100);
    expect(t.fetched()).toBeLessThan(100);
    // The same with a scanning side as target (its ranges are computed row by row).
    const naive = await bisect(s, new NaiveSide('t', composite, wrap(target)), composite, { leafRows: 16, splitFactor: 4 });
    expect(naive.diffs.map((d) => [d.key, d.kind])).toEqual(diffs.map((d) => [d.key, d.kind]));
  });

  it('the side that did not split sums all parts of each split at once, and exactly the differences are found', async () => {
    const source = rows(3000);
    const target = rows(3000)
      .filter((r) => r.id !== 17 && r.id !== 2500)
      .map((r) => (r.id === 1234 || r.id === 1240 ? { ...r, name: 'renamed' } : r));
    target.push({ id: 4000, name: 'only in target', amount: '1', at: null });
    const expected = [
      [{ id: 17 }, 'missingInTarget'],
      [{ id: 1234 }, 'different'],
      [{ id: 1240 }, 'different'],
      [{ id: 2500 }, 'missingInTarget'],
      [{ id: 4000 }, 'missingInSource'],
    ];
    const options = { leafRows: 16, splitFactor: 8 };

    // The source splits (it has split points), the target sums the parts.
    const summing = new PartSummingSide('target', spec, wrap(target));
    const { diffs, stats } = await bisect(indexedSide('s', spec, source), summing, spec, options);
    expect(diffs.map((d) => [d.key, d.kind])).toEqual(expected);
    expect(stats.source.splitQueries).toBeGreaterThan(1);
    expect(summing.splits).toHaveLength(stats.source.splitQueries);
    // Only the whole key space was asked of the target part by part; each split cost one call.
    expect(summing.checksumCalls).toBe(1);
    expect(stats.target.checksumQueries).toBe(1 + summing.splits.length);
    // Every part's summary is what a query of that part alone gives.
    const reference = new NaiveSide('reference', spec, wrap(target));
    for (const split of summing.splits) {
      expect(split.summaries).toEqual(await Promise.all(subRanges(split.range, split.points).map((part) => reference.countAndChecksum(part))));
    }
    // The same diffs, rows and ranges as with a target asked part by part.
    const plain = await bisect(indexedSide('s', spec, source), new NaiveSide('target', spec, wrap(target)), spec, options);
    expect(plain.diffs).toEqual(diffs);
    expect(plain.stats.rangesCompared).toBe(stats.rangesCompared);
    expect(plain.stats.target.rowsReturned).toBe(stats.target.rowsReturned);
    expect(plain.stats.target.checksumQueries).toBeGreaterThan(stats.target.checksumQueries);

    // The other way round: the target splits, the source sums the parts.
    const summingSource = new PartSummingSide('source', spec, wrap(source));
    const reverse = await bisect(summingSource, indexedSide('t', spec, target), spec, options);
    expect(reverse.diffs.map((d) => [d.key, d.kind])).toEqual(expected);
    expect(summingSource.splits).toHaveLength(reverse.stats.target.splitQueries);
    expect(summingSource.checksumCalls).toBe(1);
  });

  it('a key the two sides place in different ranges is still one row, not missing twice', async () => {
    // A target whose ranges misplace key 50 (as a target with another collation could).
    const data = rows(200);
    const honest = indexedSide('t', spec, data);
    const liar = {
      name: 'liar',
      countAndChecksum: (range: Parameters<typeof honest.countAndChecksum>[0]) => honest.countAndChecksum(range),
      rows: async (range: Parameters<typeof honest.rows>[0]) => {
        const got = await honest.rows(range);
        const has50 = got.some((r) => r.values.id === 50);
        // Return key 50 in the range after its own, and claim a difference there.
        if (has50) return got.filter((r) => r.values.id !== 50);
        if (got.some((r) => r.values.id === 51)) return [...got, { values: data[49]! }];
        return got;
      },
    };
    const source = indexedSide('s', spec, data.map((r) => (r.id === 50 || r.id === 51 ? { ...r, name: 'x' } : r)));
    const { diffs } = await bisect(source, liar, spec, { leafRows: 1, splitFactor: 200 });
    expect(diffs.map((d) => [d.key, d.kind])).toEqual([
      [{ id: 50 }, 'different'],
      [{ id: 51 }, 'different'],
    ]);
  });
});

describe('changes in flight during a run', () => {
  const start = '0000000000000100-00000000';

  it('a target row or delete newer than the start position is not drift', async () => {
    const source = rows(100);
    const target: SideRow[] = rows(100)
      .filter((r) => r.id !== 5)
      .map((values) => ({ values: values.id === 7 ? { ...values, name: 'changed during the run' } : values, position: values.id === 7 ? '0000000000000200-00000001' : '0000000000000050-00000001' }));
    const tombstones = new Map([[keyId(['5']), '0000000000000150-00000001']]);
    const outcome = await reconcileSides(indexedSide('s', spec, source), new NaiveSide('t', spec, target, tombstones), spec, { startPosition: start });
    expect(outcome.diffs).toEqual([]);
    expect(outcome.inFlight).toBe(2);
  });

  it('a lagging target is re-checked once it has caught up, and only what still differs is reported', async () => {
    const source = rows(100);
    const lagging = rows(100).map((values) => ({ values: values.id === 3 || values.id === 4 ? { ...values, name: 'old' } : values, position: '0000000000000090-00000001' }));
    const target = new NaiveSide('t', spec, lagging);
    let waited = 0;
    const outcome = await reconcileSides(indexedSide('s', spec, source), target, spec, {
      startPosition: start,
      waitForTarget: async () => {
        waited += 1;
        // The bridge delivers key 3's change; key 4 stays wrong: real drift.
        lagging[2] = { values: source[2]!, position: '0000000000000099-00000001' };
        return true;
      },
    });
    expect(waited).toBe(1);
    expect(outcome.caughtUp).toBe(true);
    expect(outcome.settled).toBe(1);
    expect(outcome.diffs.map((d) => [d.key, d.kind, d.fields?.map((f) => f.field)])).toEqual([[{ id: 4 }, 'different', ['name']]]);
  });

  it('a key deleted in the target after the start, seen only at the re-check, is in flight', async () => {
    const source = rows(10);
    const data: SideRow[] = rows(10).map((values) => ({ values: values.id === 2 ? { ...values, name: 'stale' } : values, position: '0000000000000001-00000001' }));
    const tombstones = new Map<string, string>();
    const target = new NaiveSide('t', spec, data, tombstones);
    const outcome = await reconcileSides(indexedSide('s', spec, source), target, spec, {
      startPosition: start,
      waitForTarget: async () => {
        data.splice(1, 1);
        tombstones.set(keyId(['2']), '0000000000000300-00000001');
        return false;
      },
    });
    expect(outcome.diffs).toEqual([]);
    expect(outcome.inFlight).toBe(1);
    expect(outcome.caughtUp).toBe(false);
  });

  it('no wait when there is nothing to re-check', async () => {
    let waited = false;
    const outcome = await reconcileSides(indexedSide('s', spec, rows(10)), indexedSide('t', spec, rows(10)), spec, {
      startPosition: start,
      waitForTarget: async () => (waited = true),
    });
    expect(waited).toBe(false);
    expect(outcome.caughtUp).toBeUndefined();
  });
});

describe('pre-split root by key bounds (a single integer key)', () => {
  const row = (key: number | string, name = `row ${key}`): JsonObject => ({ id: key, name, amount: '1.50', at: '2024-09-02T10:00:00.000Z' });

  it('cuts (min, max] at evenly spaced integers, fewer when the span is small, exactly beyond 2^53', () => {
    expect(integerSplitPoints(0n, 10n, 64).map((p) => p[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(integerSplitPoints(-5n, 5n, 4).map((p) => p[0])).toEqual(['-2', '0', '3']);
    expect(integerSplitPoints(7n, 7n, 64)).toEqual([]);
    expect(integerSplitPoints(7n, 8n, 64)).toEqual([['8']]);
    const big = 2n ** 62n;
    expect(integerSplitPoints(big, big + 3n, 64).map((p) => p[0])).toEqual([`${big + 1n}`, `${big + 2n}`, `${big + 3n}`]);
    const wide = integerSplitPoints(-(2n ** 63n), 2n ** 63n - 1n, 64).map((p) => BigInt(p[0]!));
    expect(wide).toHaveLength(63);
    expect(wide.every((p, i) => p > -(2n ** 63n) && p <= 2n ** 63n - 1n && (i === 0 || wide[i - 1]! < p))).toBe(true);
  });

  it('an identical pair: one summarizeParts per side, no checksum of the whole key space', async () => {
    const source = new BoundedSide('source', spec, wrap(rows(5000)));
    const target = new BoundedSide('target', spec, wrap(rows(5000)));
    const { diffs, stats } = await bisect(source, target, spec);
    expect(diffs).toEqual([]);
    expect(stats.rootParts).toBe(64);
    expect([source.splits.length, target.splits.length]).toEqual([1, 1]);
    expect([source.checksumCalls, target.checksumCalls]).toEqual([0, 0]);
    expect([stats.source.checksumQueries, stats.target.checksumQueries]).toEqual([1, 1]);
    expect([stats.source.splitQueries, stats.target.splitQueries]).toEqual([1, 1]);
    expect(stats.totals).toEqual({ source: 5000, target: 5000 });
    expect(stats.rangesEqual).toBe(64);
    expect(source.splits[0]!.points).toEqual(target.splits[0]!.points);
  });

  // Rows only in one side below the other's minimum and above its maximum, a missing and a
  // changed row inside; dense, sparse (negative too) and int8-beyond-2^53 keys.
  const layouts: Array<[string, (i: number) => number | string]> = [
    ['dense keys', (i) => i + 1],
    ['sparse keys', (i) => i * 7919 + ((i * i) % 1000) - 10_000_000],
    ['int8 keys beyond 2^53', (i) => `${2n ** 60n + BigInt(i) * 1000n}`],
  ];
  for (const [layout, keyOf] of layouts) {
    it(`finds exactly the differences, including beyond either side's bounds (${layout})`, async () => {
      const keys = Array.from({ length: 3000 }, (_, i) => keyOf(i));
      const big = (k: number | string): bigint => BigInt(k);
      const first = big(keys[0]!);
      const last = big(keys[keys.length - 1]!);
      const asKey = (n: bigint): number | string => (typeof keys[0] === 'number' ? Number(n) : n.toString());
      const belowAll = asKey(first - 500n);
      const aboveSource = asKey(last + 1000n);
      const aboveAll = asKey(last + 5000n);
      const source = [...keys.map((k) => row(k)), row(aboveSource)];
      const target = [...keys.filter((k) => k !== keys[17]).map((k) => (k === keys[1234] ? row(k, 'renamed') : row(k))), row(belowAll), row(aboveAll)];
      const expected = [
        [belowAll, 'missingInSource'],
        [keys[17], 'missingInTarget'],
        [keys[1234], 'different'],
        [aboveSource, 'missingInTarget'],
        [aboveAll, 'missingInSource'],
      ];
      const show = (diffs: readonly { key: JsonObject; kind: string }[]): unknown[] => diffs.map((d) => [d.key.id, d.kind]);
      for (const splitting of [false, true]) {
        const options = { leafRows: 8, splitFactor: 4, rootParts: 16 };
        const s = new BoundedSide('source', spec, wrap(source), splitting);
        const t = new BoundedSide('target', spec, wrap(target), splitting);
        const pre = await bisect(s, t, spec, options);
        expect(show(pre.diffs)).toEqual(expected);
        expect(pre.stats.rootParts).toBe(16);
        expect([s.checksumCalls, t.checksumCalls]).toEqual([0, 0]);
        // Without bounds: the whole key space first. Same diffs, same totals.
        const plain = await bisect(new PartSummingSide('source', spec, wrap(source)), new PartSummingSide('target', spec, wrap(target)), spec, options);
        expect(plain.stats.rootParts).toBe(0);
        expect(plain.diffs).toEqual(pre.diffs);
        expect(pre.stats.totals).toEqual(plain.stats.totals);
        expect(pre.stats.totals).toEqual({ source: 3001, target: 3001 });
        // Every part summed, by either side, is what a query of the part alone gives; when a
        // side splits below the root, both sides sum the same parts (the splitter too).
        for (const [side, data] of [
          [s, source],
          [t, target],
        ] as const) {
          const reference = new NaiveSide('reference', spec, wrap(data));
          for (const split of side.splits) {
            expect(split.summaries).toEqual(await Promise.all(subRanges(split.range, split.points).map((part) => reference.countAndChecksum(part))));
          }
        }
        expect(s.splits.map((x) => x.points)).toEqual(t.splits.map((x) => x.points));
        if (splitting) expect(s.splits.length).toBeGreaterThan(1);
      }
    });
  }

  it('falls back to the whole key space: a side without rows, a NULL key, a key that is not one integer', async () => {
    const empty = await bisect(new BoundedSide('source', spec, wrap(rows(300))), new BoundedSide('target', spec, []), spec);
    expect(empty.stats.rootParts).toBe(0);
    expect(empty.diffs).toHaveLength(300);
    expect(empty.stats.totals).toEqual({ source: 300, target: 0 });

    const withNull = await bisect(new BoundedSide('source', spec, wrap(rows(300))), new BoundedSide('target', spec, wrap([...rows(300), row(null as unknown as number)])), spec);
    expect(withNull.stats.rootParts).toBe(0);
    expect(withNull.stats.totals).toEqual({ source: 300, target: 301 });

    const name = field('name', 'NAME');
    const textKeyed: CompareSpec = { fields: spec.fields, keyFields: [name] };
    const s = new BoundedSide('source', textKeyed, wrap(rows(300)));
    const text = await bisect(s, new BoundedSide('target', textKeyed, wrap(rows(300))), textKeyed);
    expect(text.stats.rootParts).toBe(0);
    expect(s.boundsCalls).toBe(0);

    const off = await bisect(new BoundedSide('source', spec, wrap(rows(300))), new BoundedSide('target', spec, wrap(rows(300))), spec, { rootParts: 1 });
    expect(off.stats.rootParts).toBe(0);
  });
});
