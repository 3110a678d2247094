// After a split, the postgres target sums all the parts in one query (summarizeParts) instead of
// a query per part. A part's summary must be exactly what a query of that part alone gives, or
// drift would hide: checked for random split points on an integer key (width_bucket), a
// composite (text, integer) key and a float key (a CASE over the side's own range predicates),
// with NULLs in keys and duplicate keys; the SQL-exact source's parts likewise. Then a reconcile
// with a few differences reports exactly them, asking the target once per split.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { subRanges } from '../../../reconcile/bisect.ts';
import { keyComparator, keyKinds } from '../../../reconcile/normalize.ts';
import { PostgresSourceSide } from '../../../reconcile/sides/postgres-source.ts';
import { PostgresTargetSide } from '../../../reconcile/sides/postgres-target.ts';
import type { CompareSpec, Key, KeyRange, ReconcileSide } from '../../../reconcile/types.ts';
import type { Mapping } from '../../../src/mapping/types.ts';
import { field, mappingOf } from '../../fixtures/mapping-helpers.ts';
import { workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { cliJson, reconcile, type ListedReport } from '../../support/reconcile-helpers.ts';

const ITEMS = `
table: public.legacy_items
entity: item
fields:
  id:     { from: id, type: integer }
  code:   { from: code, type: string }
  amount: { from: amount, type: decimal }
`;

const READINGS = `
table: public.legacy_readings
entity: reading
fields:
  region: { from: region, type: string }
  seq:    { from: seq, type: integer }
  value:  { from: value, type: decimal }
`;

const REGIONS = ['B', 'a', 'a b', 'b', 'é', 'z', '日本'];

const id = field('id', 'id', { type: 'integer' });
const ITEM_SPEC: CompareSpec = { fields: [id, field('code', 'code'), field('amount', 'amount', { type: 'decimal' })], keyFields: [id] };
const region = field('region', 'region');
const seq = field('seq', 'seq', { type: 'integer' });
const READING_SPEC: CompareSpec = { fields: [region, seq, field('value', 'value', { type: 'decimal' })], keyFields: [region, seq] };
const x = field('x', 'x', { type: 'decimal' });
const MEASURE_SPEC: CompareSpec = { fields: [x, field('v', 'v')], keyFields: [x] };

/** Deterministic (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * For random ranges and random split points (keys that exist and keys that do not), every part's
 * summary from `summing` equals countAndChecksum of that part on `direct`, a separate side.
 */
async function expectPartsExact(summing: ReconcileSide, direct: ReconcileSide, spec: CompareSpec, randomKey: () => Key, rounds: number): Promise<number> {
  const compare = keyComparator(keyKinds(spec));
  let nonEmptyParts = 0;
  for (let round = 0; round < rounds; round++) {
    const keys = Array.from({ length: 2 + (round % 17) }, randomKey).sort(compare);
    const distinct = keys.filter((k, i) => i === 0 || compare(keys[i - 1]!, k) !== 0);
    // Round 0 is the whole key space; then bounds from the random keys themselves.
    const bounded = round > 0 && distinct.length >= 3;
    const range: KeyRange = bounded ? { ...(round % 3 !== 1 ? { from: distinct[0]! } : {}), ...(round % 3 !== 2 ? { to: distinct[distinct.length - 1]! } : {}) } : {};
    const points = distinct.filter((k) => (range.from === undefined || compare(range.from, k) < 0) && (range.to === undefined || compare(k, range.to) < 0));
    if (points.length === 0) continue;
    const parts = await summing.summarizeParts!(range, points);
    const expected = [];
    for (const part of subRanges(range, points)) expected.push(await direct.countAndChecksum(part));
    expect(parts, `range ${JSON.stringify(range)}, points ${JSON.stringify(points)}`).toEqual(expected);
    nonEmptyParts += parts.filter((p) => p.count > 0).length;
  }
  return nonEmptyParts;
}

async function openSqlSource(url: string, mapping: Mapping): Promise<{ side: ReconcileSide; close: () => Promise<void> }> {
  const signal = new AbortController().signal;
  const source = await PostgresSourceSide.open({ url, mapping, timezone: 'UTC', chunkSize: 5000, signal });
  expect(source.checksumsIn).toBe('sql');
  return { side: await source.scan(5000, signal), close: () => source.close() };
}

describe('postgres target: all parts of a split from one query', () => {
  it('gives each part exactly what a query of the part gives, and a reconcile still reports exactly the differences', async () => {
    await using db = await freshDatabase('recon_parts');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query(`CREATE TABLE legacy_items (id integer PRIMARY KEY, code text, amount numeric(10,2))`);
    await db.query(`INSERT INTO legacy_items SELECT g, 'C' || g, (g % 1000) + 0.25 FROM generate_series(1, 20000) g`);
    await db.query(`CREATE TABLE legacy_readings (region text, seq integer, value numeric, PRIMARY KEY (region, seq))`);
    await db.query(`INSERT INTO legacy_readings SELECT r, s, s * 1.5 FROM unnest($1::text[]) r, generate_series(1, 1500) s`, [REGIONS]);
    // The copies, as the postgres subscriber keeps them; no primary key here, so keys with NULLs
    // and duplicate keys can be put in for the part checks.
    await db.query(`CREATE TABLE item (id integer, code text, amount numeric)`);
    await db.query(`CREATE INDEX ON item (id)`);
    await db.query(`INSERT INTO item SELECT id, code, trim_scale(amount) FROM legacy_items`);
    await db.query(`CREATE TABLE reading (region text, seq bigint, value numeric)`);
    await db.query(`CREATE INDEX ON reading ((region COLLATE "C"), seq)`);
    await db.query(`INSERT INTO reading SELECT * FROM legacy_readings`);
    await db.query(`CREATE TABLE measure (x float8, v text)`);
    await db.query(`INSERT INTO measure SELECT g * 0.1, 'v' || g FROM generate_series(-500, 2500) g`);

    const sides: Array<{ close(): Promise<void> }> = [];
    await using _closeSides = { [Symbol.asyncDispose]: async () => void (await Promise.all(sides.map((s) => s.close()))) };
    const openTarget = async (entity: string, spec: CompareSpec): Promise<PostgresTargetSide> => {
      const side = await PostgresTargetSide.open(db.url, entity, spec);
      sides.push(side);
      return side;
    };

    // Integer key: width_bucket. A NULL key (in no bounded part, nor in any part of the whole
    // key space) and a duplicate key.
    await db.query(`INSERT INTO item VALUES (NULL, 'no key', 1), (77, 'twin', 2), (20000, 'twin', 3)`);
    const next = random(20240902);
    const itemKey = (): Key => [String(Math.floor(next() * 20300) - 150)];
    const itemParts = await expectPartsExact(await openTarget('item', ITEM_SPEC), await openTarget('item', ITEM_SPEC), ITEM_SPEC, itemKey, 40);
    expect(itemParts).toBeGreaterThan(100);

    // Composite (text, integer) key: the CASE over the range predicates, with NULL in either
    // column (ROW comparisons then may be NULL while a later bound's is true) and regions that
    // are not in the table, in code point order (COLLATE "C").
    await db.query(`INSERT INTO reading VALUES (NULL, 3, 1), ('a', NULL, 1), ('é', NULL, 2), (NULL, NULL, 3), ('b', 10, 4)`);
    const regionPool = [...REGIONS, 'A', 'a a', 'ab', 'c', 'éa', '日'];
    const readingKey = (): Key => [regionPool[Math.floor(next() * regionPool.length)]!, String(Math.floor(next() * 1510) - 5)];
    const readingParts = await expectPartsExact(await openTarget('reading', READING_SPEC), await openTarget('reading', READING_SPEC), READING_SPEC, readingKey, 40);
    expect(readingParts).toBeGreaterThan(100);

    // A float key compared with numeric bounds: not width_bucket (the comparison converts the
    // bound to float8), the CASE, which compares exactly as the range predicates.
    await db.query(`INSERT INTO measure VALUES (NULL, 'no key'), (0.30000000000000004, 'near'), (0.3, 'exact')`);
    const measureKey = (): Key => [next() < 0.1 ? '0.30000000000000004' : String(Math.round((next() * 320 - 60) * 10) / 10)];
    const measureParts = await expectPartsExact(await openTarget('measure', MEASURE_SPEC), await openTarget('measure', MEASURE_SPEC), MEASURE_SPEC, measureKey, 30);
    expect(measureParts).toBeGreaterThan(50);

    // The SQL-exact source shares the parts' SQL: the same holds there.
    const itemsMapping: Mapping = { ...mappingOf([...ITEM_SPEC.fields]), table: 'public.legacy_items', tableName: 'legacy_items', entity: 'item' };
    const readingsMapping: Mapping = { ...mappingOf([...READING_SPEC.fields]), table: 'public.legacy_readings', tableName: 'legacy_readings', entity: 'reading' };
    for (const [mapping, spec, key] of [
      [itemsMapping, ITEM_SPEC, itemKey],
      [readingsMapping, READING_SPEC, readingKey],
    ] as const) {
      const summing = await openSqlSource(db.url, mapping);
      sides.push(summing);
      const direct = await openSqlSource(db.url, mapping);
      sides.push(direct);
      expect(await expectPartsExact(summing.side, direct.side, spec, key, 15)).toBeGreaterThan(30);
    }

    // Back to a faithful copy, then a few real differences.
    await db.query(`DELETE FROM item WHERE id IS NULL OR code = 'twin'`);
    await db.query(`DELETE FROM reading WHERE region IS NULL OR seq IS NULL OR value = 4`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('recon_parts'),
      source: { name: 'legacy', url: db.url },
      mappings: { 'items.yaml': ITEMS, 'readings.yaml': READINGS },
    });
    ws.write('hms-sync.yaml', `${readFileSync(setup.configPath, 'utf8')}reconcile:\n  target: { kind: postgres, url: "${db.url}" }\n`);
    const clean = await reconcile(setup.configPath);
    expect(clean).toMatch(/item \(postgres\): 20000 rows in source, 20000 in target; clean\n  checksums 1\/1;/);
    expect(clean).toMatch(/reading \(postgres\): 10500 rows in source, 10500 in target; clean\n  checksums 1\/1;/);

    await db.query(`DELETE FROM item WHERE id IN (3, 15001)`);
    await db.query(`UPDATE item SET amount = 99 WHERE id = 12345`);
    await db.query(`INSERT INTO item VALUES (30000, 'X', 1)`);
    await db.query(`DELETE FROM reading WHERE region = 'b' AND seq = 10`);
    await db.query(`UPDATE reading SET value = 0 WHERE region = '日本' AND seq = 1499`);
    await db.query(`INSERT INTO reading VALUES ('a b', 1501, 1)`);

    const drift = await reconcile(setup.configPath);
    expect(drift).toMatch(/item \(postgres\): 20000 rows in source, 19999 in target; missing in target 2, missing in source 1, different 1; report/);
    expect(drift).toMatch(/reading \(postgres\): 10500 rows in source, 10500 in target; missing in target 1, missing in source 1, different 1; report/);
    // Each side answers each split with one query (the splitting source too, once it has chosen
    // the points): as many checksum queries on either side.
    for (const entity of ['item', 'reading']) {
      const [, sourceChecksums, targetChecksums] = new RegExp(`${entity} \\(postgres\\).*\\n  checksums (\\d+)/(\\d+);`).exec(drift)!;
      expect(Number(targetChecksums)).toBeGreaterThan(1);
      expect(Number(targetChecksums)).toBe(Number(sourceChecksums));
    }
    const list = await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json']);
    const show = async (table: string): Promise<unknown> =>
      (await cliJson<{ diffs: unknown }>(['review', 'show', list.find((r) => r.table === table)!.id, '-c', setup.configPath, '--json'])).diffs;
    expect(await show('public.legacy_items')).toEqual([
      { key: { id: 3 }, kind: 'missingInTarget' },
      { key: { id: 12345 }, kind: 'different', fields: [{ field: 'amount', source: '345.25', target: '99' }] },
      { key: { id: 15001 }, kind: 'missingInTarget' },
      { key: { id: 30000 }, kind: 'missingInSource' },
    ]);
    expect(await show('public.legacy_readings')).toEqual([
      { key: { region: 'a b', seq: 1501 }, kind: 'missingInSource' },
      { key: { region: 'b', seq: 10 }, kind: 'missingInTarget' },
      { key: { region: '日本', seq: 1499 }, kind: 'different', fields: [{ field: 'value', source: '2248.5', target: '0' }] },
    ]);
  }, 120_000);
});
