// A PostgreSQL source whose mapping SQL reproduces exactly (reconcile/sql-exact.ts) computes its
// count and checksum in SQL: an identical table reconciles with one checksum a side and no row
// read; a row that does not map is left out as the scan leaves it out; edits are found exactly,
// formatting noise is not; a mapping with `codes` still goes through the scan.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { runCli, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { cliJson, reconcile, type ListedReport } from '../../support/reconcile-helpers.ts';

const ITEMS = `
table: public.legacy_items
entity: item
fields:
  id:     { from: id, type: integer }
  code:   { from: code, type: string, trim: true }
  amount: { from: amount, type: decimal }
  active: { from: active, type: boolean }
  born:   { from: born, type: date }
  seenAt: { from: seen_at, type: timestamp }
  doc:    { from: doc, type: json }
  blob:   { from: blob, type: bytes }
  big:    { from: big, type: integer }
  note:   { from: note, type: string, nullIf: [""] }
`;

const STATUSES = `
table: public.legacy_status
entity: state_row
fields:
  id:    { from: id, type: integer }
  state: { from: state, type: string, codes: { A: active, I: inactive } }
`;

describe('source checksums in SQL (PostgreSQL source, SQL-exact mapping)', () => {
  it('reads no row for an identical table, leaves unmappable rows out, finds exactly the real differences', async () => {
    await using db = await freshDatabase('recon_sqlsrc');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query(`CREATE TABLE legacy_items (id integer PRIMARY KEY, code char(8), amount numeric(10,2), active boolean, born date,
      seen_at timestamptz, doc jsonb, blob bytea, big int8, note text)`);
    // Codes with leading blanks, a tab and a no-break space (JavaScript's trim removes all three),
    // CHAR padding, scale 2, fractions of seconds, nested JSON, binary, NULL and "" notes.
    await db.query(`INSERT INTO legacy_items
      SELECT g,
             CASE g % 4 WHEN 0 THEN ' C' || g WHEN 1 THEN E'\\t' || g WHEN 2 THEN chr(160) || 'N' || g ELSE 'C' || g END,
             g * 1.25, g % 2 = 0, date '2020-01-01' + g,
             timestamptz '2024-01-01 00:00:00+00' + g * interval '61.5 seconds',
             jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g::text), 'deep', jsonb_build_object('z', 1, 'a', 2.50)),
             decode(md5(g::text), 'hex'),
             CASE WHEN g % 7 = 0 THEN NULL ELSE g * 1000 END,
             CASE g % 4 WHEN 0 THEN '' WHEN 1 THEN NULL ELSE 'n' || g END
        FROM generate_series(1, 300) g`);
    // The modern copy, as the postgres subscriber keeps mapped values (same database, table per entity).
    await db.query(`CREATE TABLE item (id integer PRIMARY KEY, code text, amount numeric, active boolean, born date, "seenAt" timestamptz,
      doc jsonb, blob bytea, big bigint, note text)`);
    await db.query(`INSERT INTO item SELECT id, btrim(code::text, E' \\t' || chr(160)), trim_scale(amount), active, born, seen_at, doc, blob, big, NULLIF(note, '')
      FROM legacy_items`);
    await db.query(`UPDATE item SET note = '' WHERE id % 8 = 1`); // "" where the source has NULL: nullIf [""] makes them equal
    await db.query(`CREATE TABLE legacy_status (id integer PRIMARY KEY, state char(1))`);
    await db.query(`INSERT INTO legacy_status SELECT g, CASE WHEN g % 3 = 0 THEN 'I' ELSE 'A' END FROM generate_series(1, 100) g`);
    await db.query(`CREATE TABLE state_row (id integer PRIMARY KEY, state text)`);
    await db.query(`INSERT INTO state_row SELECT id, CASE state WHEN 'I' THEN 'inactive' ELSE 'active' END FROM legacy_status`);

    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('recon_sqlsrc'),
      source: { name: 'legacy', url: db.url },
      mappings: { 'items.yaml': ITEMS, 'statuses.yaml': STATUSES },
    });
    ws.write('hms-sync.yaml', `${readFileSync(setup.configPath, 'utf8')}reconcile:\n  target: { kind: postgres, url: "${db.url}" }\n`);

    // Identical: one checksum a side, no row read from the source, none compared.
    const run = await runCli(['reconcile', '-c', setup.configPath, '--catch-up', '1s']);
    expect(run.code, run.stderr).toBe(0);
    const clean = run.stdout;
    // The run says where each table's source checksums were computed.
    const checksumsIn = run.stderr
      .split('\n')
      .filter((line) => line.includes('"reconcile_source_checksums"'))
      .map((line) => JSON.parse(line) as { table: string; in: string })
      .map((entry) => [entry.table, entry.in]);
    expect(checksumsIn).toEqual([
      ['public.legacy_items', 'sql'],
      ['public.legacy_status', 'bridge'],
    ]);
    expect(clean).toMatch(/legacy public\.legacy_items -> item \(postgres\): 300 rows in source, 300 in target; clean\n  checksums 1\/1; rows compared 0\/0; rows scanned for the index 0\/0;/);
    // The codes mapping is not SQL-exact: the scan reads every row, and is just as clean.
    expect(clean).toMatch(/legacy public\.legacy_status -> state_row \(postgres\): 100 rows in source, 100 in target; clean\n  checksums 1\/1; rows compared 0\/0; rows scanned for the index 100\/0;/);

    // A row that does not map (an integer beyond ±2^53-1): a dead letter, in no target. Left out,
    // as the scan leaves it out: still clean, counted.
    await db.query(`INSERT INTO legacy_items VALUES (301, 'BAD', 1, true, '2020-01-01', now(), '{}', '\\x00', 1152921504606846976, NULL)`);
    const deadLetter = await reconcile(setup.configPath);
    expect(deadLetter).toMatch(/legacy_items -> item \(postgres\): 300 rows in source, 300 in target; clean\n.*1 source rows do not map \(dead letters\) and were left out/);
    expect(await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json'])).toEqual([]);

    // Real differences, and noise that is none: scale and trailing blanks in the copy.
    await db.query(`UPDATE item SET amount = 99 WHERE id = 5`);
    await db.query(`DELETE FROM item WHERE id = 10`);
    await db.query(`INSERT INTO item VALUES (1000, 'X', 1, true, '2020-01-01', now(), '{}', '\\x00', 1, NULL)`);
    await db.query(`UPDATE legacy_items SET seen_at = seen_at + interval '1 second' WHERE id = 30`);
    await db.query(`UPDATE item SET amount = amount::numeric(12,4) WHERE id = 20`);
    await db.query(`UPDATE item SET code = code || '   ' WHERE id = 21`);
    await db.query(`UPDATE item SET doc = '{"deep": {"a": 2.50, "z": 1}, "tags": ["a", "22"], "n": 22}' WHERE id = 22`);
    await db.query(`UPDATE state_row SET state = 'active' WHERE id = 3`);

    const drift = await reconcile(setup.configPath);
    expect(drift).toMatch(/legacy_items -> item \(postgres\): 300 rows in source, 300 in target; missing in target 1, missing in source 1, different 2; report/);
    expect(drift).toMatch(/legacy_status -> state_row \(postgres\): 100 rows in source, 100 in target; missing in target 0, missing in source 0, different 1; report/);
    const list = await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json']);
    const items = await cliJson<any>(['review', 'show', list.find((r) => r.table === 'public.legacy_items')!.id, '-c', setup.configPath, '--json']);
    expect(items.diffs).toEqual([
      { key: { id: 5 }, kind: 'different', fields: [{ field: 'amount', source: '6.25', target: '99' }] },
      { key: { id: 10 }, kind: 'missingInTarget' },
      { key: { id: 30 }, kind: 'different', fields: [{ field: 'seenAt', source: '2024-01-01T00:30:46.000Z', target: '2024-01-01T00:30:45+00:00' }] },
      { key: { id: 1000 }, kind: 'missingInSource' },
    ]);
    const statuses = await cliJson<any>(['review', 'show', list.find((r) => r.table === 'public.legacy_status')!.id, '-c', setup.configPath, '--json']);
    expect(statuses.diffs).toEqual([{ key: { id: 3 }, kind: 'different', fields: [{ field: 'state', source: 'inactive', target: 'active' }] }]);
  }, 90_000);
});
