// 1M keys on each side, 10 differences: bisection must find exactly those 10 while each side
// returns a tiny fraction of its rows (counted, not timed; timings are in docs/reconciliation.md).
import { describe, expect, it } from 'vitest';
import { bisect } from '../../../reconcile/bisect.ts';
import type { CompareSpec } from '../../../reconcile/types.ts';
import { field } from '../../fixtures/mapping-helpers.ts';
import { indexedSide, millionRowSides } from './memory-side.ts';

const N = 1_000_000;
const id = field('id', 'ID', { type: 'integer' });
const spec: CompareSpec = { fields: [id, field('status', 'STS'), field('amount', 'AMT', { type: 'decimal' })], keyFields: [id] };

describe('a million keys with 10 differences', () => {
  it('finds exactly the 10 while each side returns a few hundred rows, not a million', async () => {
    const { source, target, changed, missing, extra } = millionRowSides();
    const s = indexedSide('source', spec, source);
    const t = indexedSide('target', spec, target);
    const { diffs, stats } = await bisect(s, t, spec, { splitFactor: 16, leafRows: 64 });

    const expected = [
      ...changed.map((k) => ({ id: k, kind: 'different' })),
      ...missing.map((k) => ({ id: k, kind: 'missingInTarget' })),
      ...extra.map((k) => ({ id: k, kind: 'missingInSource' })),
    ].sort((a, b) => a.id - b.id);
    expect(diffs.map((d) => ({ id: d.key.id, kind: d.kind }))).toEqual(expected);
    expect(diffs.find((d) => d.key.id === 7)!.fields).toEqual([{ field: 'status', source: 'active', target: 'changed' }]);

    // Rows moved: at most one leaf (64 rows) per difference per side, against 1M for a full scan.
    expect(s.fetched()).toBeLessThanOrEqual(10 * 64);
    expect(t.fetched()).toBeLessThanOrEqual(10 * 64);
    expect(s.fetched() + t.fetched()).toBeLessThan((2 * N) / 1000);
    expect(stats.source.rowsReturned).toBe(s.fetched());
    // Checksums: about 10 differences x 16 parts x log16(1M / 64) levels, not one per row.
    expect(stats.rangesCompared).toBeLessThan(10 * 16 * 5);
    expect(stats.totals).toEqual({ source: N, target: N });
  }, 120_000);
});
