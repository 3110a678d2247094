// Micro-benchmark of the bridge's per-row CPU without servers: mapping + envelope + id
// (translate), and the publisher's per-message work against a NATS connection stub.
//   node bin/run-ts.js bench/micro/translate.ts [rows]
import { parseMapping } from '../../src/mapping/index.ts';
import type { Mapping, SourceColumn } from '../../src/mapping/types.ts';
import { tableRoute, translate } from '../../src/pipeline/translate.ts';
import type { RawChange } from '../../src/ports.ts';
import { PG_MAPPING } from '../postgres.ts';
import { measureAllocation } from './allocation.ts';

const rows = Number(process.argv[2] ?? 200_000);
const mapping = parseMapping('bench.yaml', PG_MAPPING).mapping as Mapping;
const route = tableRoute(mapping, ['id']);
const ctx = { sourceName: 'src', sourceKind: 'postgres', subjectPrefix: 'bench.x', maxPayload: 1024 * 1024 };
const columns = new Map<string, SourceColumn>([
  ['id', { name: 'id', kind: 'integer', nativeType: 'integer' }],
  ['code', { name: 'code', kind: 'text', nativeType: 'character(8)' }],
  ['amount', { name: 'amount', kind: 'decimal', nativeType: 'numeric(12,2)' }],
  ['note', { name: 'note', kind: 'text', nativeType: 'text' }],
]);
const changes: RawChange[] = [];
for (let i = 1; i <= rows; i++) {
  const row = { id: String(i), code: `C${i % 97}`.padEnd(8), amount: (i * 0.25).toFixed(2), note: 'ab'.repeat(32) };
  changes.push({ op: 'c', table: 'public.bench', position: `00000000016B3A28-${i.toString(16).toUpperCase().padStart(8, '0')}`, commitTs: '2026-11-22T07:00:00.000Z', capture: 'log', row, before: null, keyRow: { id: row.id }, columns });
}
for (let round = 0; round < 3; round++) {
  const started = performance.now();
  let bytes = 0;
  for (const change of changes) bytes += translate(change, route, ctx, '2026-11-22T07:00:00.001Z').message.payload.length;
  const ms = performance.now() - started;
  console.log(`translate: ${((ms * 1000) / rows).toFixed(2)} µs a row (${bytes / rows} bytes a payload)`);
}
const allocation = await measureAllocation(() => {
  for (const change of changes) translate(change, route, ctx, '2026-11-22T07:00:00.001Z');
});
console.log(`translate: ${Math.round(allocation.bytes / rows)} bytes allocated a row; by function:`);
for (const [name, bytes] of allocation.byFunction.slice(0, 8)) console.log(`  ${String(Math.round(bytes / rows)).padStart(5)} ${name}`);
