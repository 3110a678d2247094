// One-off measurement for docs/reconciliation.md (not a test):
//   node bin/run-ts.js test/unit/reconcile/measure-million.ts
// Two in-memory sides of 1M rows with 10 differences; prints rows returned per side, checksum
// calls, and times, for a few split factors and leaf sizes, against a full scan.
import { bisect } from '../../../reconcile/bisect.ts';
import type { CompareSpec } from '../../../reconcile/types.ts';
import { field } from '../../fixtures/mapping-helpers.ts';
import { indexedSide, millionRowSides } from './memory-side.ts';

const id = field('id', 'ID', { type: 'integer' });
const spec: CompareSpec = { fields: [id, field('status', 'STS'), field('amount', 'AMT', { type: 'decimal' })], keyFields: [id] };

let t0 = performance.now();
const { source, target } = millionRowSides();
const s = indexedSide('source', spec, source);
const t = indexedSide('target', spec, target);
console.log(`built two indexes of ${s.size} / ${t.size} rows (hash + sort) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

for (const [splitFactor, leafRows] of [[16, 64], [16, 256], [32, 64], [4, 64], [16, 1024]] as const) {
  const before = [s.fetched(), t.fetched()];
  t0 = performance.now();
  const { diffs, stats } = await bisect(s, t, spec, { splitFactor, leafRows });
  const ms = performance.now() - t0;
  console.log(
    `split ${splitFactor}, leaf ${leafRows}: ${diffs.length} diffs; rows returned source ${s.fetched() - before[0]!}, target ${t.fetched() - before[1]!} ` +
      `(full scan: ${s.size} + ${t.size}); checksum calls ${stats.rangesCompared} per side; split calls ${stats.source.splitQueries}; ${ms.toFixed(0)} ms`,
  );
}
