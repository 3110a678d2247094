// A single integer key: bisection does not checksum the whole key space first but cuts it at
// evenly spaced integers between both sides' key bounds and sums the parts on both sides at
// once. Differences at the extremes (a row only in the source above every other key, a row only
// in the target below the source's minimum) and in the middle are reported exactly, with the
// same totals as without the pre-split; a target with a NULL key gives no bounds (its whole
// key space counts that row, no part would) and the run starts from the whole key space.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { PostgresSourceSide } from '../../../reconcile/sides/postgres-source.ts';
import { PostgresTargetSide } from '../../../reconcile/sides/postgres-target.ts';
import type { CompareSpec } from '../../../reconcile/types.ts';
import type { Mapping } from '../../../src/mapping/types.ts';
import { field, mappingOf } from '../../fixtures/mapping-helpers.ts';
import { runCli, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { cliJson, type ListedReport } from '../../support/reconcile-helpers.ts';

const ITEMS = `
table: public.legacy_items
entity: item
fields:
  id:     { from: id, type: bigint }
  code:   { from: code, type: string }
  amount: { from: amount, type: decimal }
`;

const id = field('id', 'id', { type: 'bigint' });
const SPEC: CompareSpec = { fields: [id, field('code', 'code'), field('amount', 'amount', { type: 'decimal' })], keyFields: [id] };

interface Compared {
  event: string;
  table: string;
  rootParts: number;
}

async function reconcileLogged(configPath: string): Promise<{ stdout: string; compared: Compared }> {
  const result = await runCli(['reconcile', '-c', configPath, '--catch-up', '1s']);
  expect(result.code, `reconcile failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
  const compared = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Compared)
    .find((entry) => entry.event === 'reconcile_compared' && entry.table === 'public.legacy_items');
  expect(compared, result.stderr).toBeDefined();
  return { stdout: result.stdout, compared: compared! };
}

describe('pre-split root by key bounds', () => {
  it('reports exactly the differences at the extremes and in the middle, from both sides summing the same parts', async () => {
    await using db = await freshDatabase('recon_presplit');
    using ws = workspace();
    // Sparse, negative and beyond 2^53 keys in the source.
    await db.query(`CREATE TABLE legacy_items (id bigint PRIMARY KEY, code text, amount numeric(10,2))`);
    await db.query(`INSERT INTO legacy_items SELECT g * 37 - 100000, 'C' || g, (g % 1000) + 0.25 FROM generate_series(1, 30000) g`);
    await db.query(`INSERT INTO legacy_items VALUES (9007199254740993, 'huge', 1)`);
    // The copy, without a primary key so a NULL key can be put in below.
    await db.query(`CREATE TABLE item (id bigint, code text, amount numeric)`);
    await db.query(`CREATE INDEX ON item (id)`);
    await db.query(`INSERT INTO item SELECT id, code, trim_scale(amount) FROM legacy_items`);

    // The sides' bounds (none from a target holding a NULL key, checked at the end).
    const signal = new AbortController().signal;
    const mapping: Mapping = { ...mappingOf([...SPEC.fields]), table: 'public.legacy_items', tableName: 'legacy_items', entity: 'item' };
    const source = await PostgresSourceSide.open({ url: db.url, mapping, timezone: 'UTC', chunkSize: 5000, signal });
    await using _closeSource = { [Symbol.asyncDispose]: () => source.close() };
    expect(source.checksumsIn).toBe('sql');
    const sourceSide = await source.scan(5000, signal);
    expect(await sourceSide.keyBounds!()).toEqual({ min: ['-99963'], max: ['9007199254740993'] });
    const target = await PostgresTargetSide.open(db.url, 'item', SPEC);
    await using _closeTarget = { [Symbol.asyncDispose]: () => target.close() };
    expect(await target.keyBounds()).toEqual({ min: ['-99963'], max: ['9007199254740993'] });
    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('recon_presplit'),
      source: { name: 'legacy', url: db.url },
      mappings: { 'items.yaml': ITEMS },
    });
    ws.write('hms-sync.yaml', `${readFileSync(setup.configPath, 'utf8')}reconcile:\n  target: { kind: postgres, url: "${db.url}" }\n`);

    const clean = await reconcileLogged(setup.configPath);
    expect(clean.stdout).toMatch(/item \(postgres\): 30001 rows in source, 30001 in target; clean\n  checksums 1\/1;/);
    expect(clean.compared.rootParts).toBe(64);

    // Only in the source, above every key; only in the target, below the source's minimum; a
    // changed row in the middle.
    await db.query(`INSERT INTO legacy_items VALUES (9007199254750000, 'last', 2)`);
    await db.query(`INSERT INTO item VALUES (-5000000, 'first', 3)`);
    await db.query(`UPDATE item SET amount = 99 WHERE id = 15000 * 37 - 100000`);
    const drift = await reconcileLogged(setup.configPath);
    expect(drift.stdout).toMatch(/item \(postgres\): 30002 rows in source, 30002 in target; missing in target 1, missing in source 1, different 1; report/);
    expect(drift.compared.rootParts).toBe(64);
    const [, sourceChecksums, targetChecksums] = /checksums (\d+)\/(\d+);/.exec(drift.stdout)!;
    expect(Number(sourceChecksums)).toBe(Number(targetChecksums));

    const list = await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json']);
    const newest = list.filter((r) => r.table === 'public.legacy_items').at(-1) ?? list.at(-1)!;
    const shown = await cliJson<{ diffs: unknown }>(['review', 'show', newest.id, '-c', setup.configPath, '--json']);
    expect(shown.diffs).toEqual([
      { key: { id: '-5000000' }, kind: 'missingInSource' },
      { key: { id: '455000' }, kind: 'different', fields: [{ field: 'amount', source: '0.25', target: '99' }] },
      { key: { id: '9007199254750000' }, kind: 'missingInTarget' },
    ]);

    await db.query(`INSERT INTO item VALUES (NULL, 'no key', 4)`);
    expect(await target.keyBounds()).toBeUndefined();
    const withNull = await reconcileLogged(setup.configPath);
    expect(withNull.compared.rootParts).toBe(0);
    expect(withNull.stdout).toMatch(/item \(postgres\): 30002 rows in source, 30003 in target; missing in target 1, missing in source 1, different 1; report/);
  }, 120_000);
});
