// A modern PostgreSQL copy as the target (one table per entity, a column per mapped field, as
// the postgres subscriber keeps it): formatting noise is no drift, edits to the copy are, in
// tables with a single and with a composite key; resolve records the reviewer's note.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { runCli, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { cliJson, reconcile, type ListedReport } from '../../support/reconcile-helpers.ts';

const INSPECTIONS = `
table: public.inspections
entity: inspection
fields:
  id:          { from: id, type: integer }
  code:        { from: code, type: string }
  amount:      { from: amount, type: decimal }
  inspectedAt: { from: inspected_at, type: timestamp }
  note:        { from: note, type: string, nullIf: [""] }
`;

const READINGS = `
table: public.readings
entity: reading
fields:
  region: { from: region, type: string }
  seq:    { from: seq, type: integer }
  value:  { from: value, type: decimal }
`;

describe('reconcile against a PostgreSQL target', () => {
  it('ignores scale, precision, CHAR padding and NULL-vs-empty; reports real edits exactly', async () => {
    await using source = await freshDatabase('recon_src');
    await using target = await freshDatabase('recon_tgt');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await source.query(`CREATE TABLE inspections (id integer PRIMARY KEY, code char(8) NOT NULL, amount numeric(10,2), inspected_at timestamp(3), note text)`);
    await source.query(`INSERT INTO inspections
      SELECT g, 'C' || g, (g % 100) + 0.30, '2024-01-01'::timestamp + g * interval '1 hour',
             CASE WHEN g % 5 = 0 THEN '' WHEN g % 5 = 1 THEN NULL ELSE 'n' || g END
        FROM generate_series(1, 500) g`);
    await source.query(`CREATE TABLE readings (region text, seq integer, value numeric, PRIMARY KEY (region, seq))`);
    await source.query(`INSERT INTO readings SELECT r, s, s * 1.5 FROM unnest(ARRAY['B', 'a', 'b', 'é']) r, generate_series(1, 150) s`);

    // The copy, as a subscriber writes mapped values: no padding, no trailing zeros, UTC instants, NULL for "".
    await target.query(`CREATE TABLE inspection (id integer PRIMARY KEY, code varchar(8), amount numeric, "inspectedAt" timestamptz, note text, hms_position text)`);
    await target.query(`CREATE TABLE reading (region text, seq bigint, value numeric, PRIMARY KEY (region, seq))`);
    // Copied through dblink-free SQL: read from the source, insert into the target.
    const inspections = await source.query<{ id: number; code: string; amount: string; at: string; note: string | null }>(
      `SELECT id, rtrim(code) AS code, trim_scale(amount)::text AS amount, to_char(inspected_at, 'YYYY-MM-DD HH24:MI:SS') AS at, NULLIF(note, '') AS note FROM inspections`,
    );
    await target.query(
      `INSERT INTO inspection SELECT * , '0000000000000001-00000000' FROM unnest($1::int[], $2::text[], $3::numeric[], $4::timestamptz[], $5::text[])`,
      [inspections.map((r) => r.id), inspections.map((r) => r.code), inspections.map((r) => r.amount), inspections.map((r) => `${r.at}+00`), inspections.map((r) => r.note)],
    );
    const readings = await source.query<{ region: string; seq: number; value: string }>('SELECT region, seq, value::text AS value FROM readings');
    await target.query(`INSERT INTO reading SELECT * FROM unnest($1::text[], $2::bigint[], $3::numeric[])`, [
      readings.map((r) => r.region),
      readings.map((r) => r.seq),
      readings.map((r) => r.value),
    ]);

    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('recon_pg'),
      source: { name: 'legacy', url: source.url },
      mappings: { 'inspections.yaml': INSPECTIONS, 'readings.yaml': READINGS },
    });
    ws.write('hms-sync.yaml', `${readFileSync(setup.configPath, 'utf8')}reconcile:\n  target: { kind: postgres, url: "${target.url}" }\n`);

    // Noise only: empty notes where the source has NULL (the mapping makes "" NULL).
    await target.query(`UPDATE inspection SET note = '' WHERE id % 5 = 1`);
    const clean = await reconcile(setup.configPath);
    expect(clean).toMatch(/legacy public\.inspections -> inspection \(postgres\): 500 rows in source, 500 in target; clean/);
    expect(clean).toMatch(/legacy public\.readings -> reading \(postgres\): 600 rows in source, 600 in target; clean/);
    // One checksum each, no row moved: the SQL hash of the copy equals the bridge's hash of
    // the mapped source rows, through scale, precision, padding and NULL-vs-empty.
    expect(clean.match(/checksums 1\/1; rows compared 0\/0; rows scanned for the index 0\/0;/g)).toHaveLength(2);
    expect(await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json'])).toEqual([]);

    // Real edits to the copy.
    await target.query('DELETE FROM inspection WHERE id = 3');
    await target.query(`UPDATE inspection SET amount = 99, "inspectedAt" = "inspectedAt" + interval '1 second' WHERE id = 4`);
    await target.query(`INSERT INTO inspection VALUES (1000, 'X', 1, now(), NULL, NULL)`);
    await target.query(`DELETE FROM reading WHERE region = 'b' AND seq = 10`);
    await target.query(`UPDATE reading SET value = 0 WHERE region = 'é' AND seq = 149`);

    const drift = await reconcile(setup.configPath);
    expect(drift).toMatch(/inspection \(postgres\): 500 rows in source, 500 in target; missing in target 1, missing in source 1, different 1; report/);
    expect(drift).toMatch(/reading \(postgres\): 600 rows in source, 599 in target; missing in target 1, missing in source 0, different 1; report/);
    const list = await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json']);
    expect(list.map((r) => [r.table, r.status, r.counts])).toEqual(
      expect.arrayContaining([
        ['public.inspections', 'open', { missingInTarget: 1, missingInSource: 1, different: 1 }],
        ['public.readings', 'open', { missingInTarget: 1, missingInSource: 0, different: 1 }],
      ]),
    );
    const inspectionReport = await cliJson<any>(['review', 'show', list.find((r) => r.table === 'public.inspections')!.id, '-c', setup.configPath, '--json']);
    expect(inspectionReport.diffs).toEqual([
      { key: { id: 3 }, kind: 'missingInTarget' },
      {
        key: { id: 4 },
        kind: 'different',
        fields: [
          { field: 'amount', source: '4.30', target: '99' },
          { field: 'inspectedAt', source: '2024-01-01T04:00:00.000Z', target: '2024-01-01T04:00:01+00:00' },
        ],
      },
      { key: { id: 1000 }, kind: 'missingInSource' },
    ]);
    const readingId = list.find((r) => r.table === 'public.readings')!.id;
    const readingReport = await cliJson<any>(['review', 'show', readingId, '-c', setup.configPath, '--json']);
    expect(readingReport.diffs).toEqual([
      { key: { region: 'b', seq: 10 }, kind: 'missingInTarget' },
      { key: { region: 'é', seq: 149 }, kind: 'different', fields: [{ field: 'value', source: '223.5', target: '0' }] },
    ]);

    const resolve = await runCli(['review', 'resolve', readingId, '-c', setup.configPath, '--note', 'copy edited by hand; accepted', '--by', 'alice']);
    expect(resolve.code, resolve.stderr).toBe(0);
    const resolved = await cliJson<any>(['review', 'show', readingId, '-c', setup.configPath, '--json']);
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolution).toMatchObject({ action: 'resolve', by: 'alice', note: 'copy edited by hand; accepted' });
    const again = await runCli(['review', 'resolve', readingId, '-c', setup.configPath]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already resolved \(by alice/);
    const open = await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json', '--status', 'open']);
    expect(open.map((r) => r.table)).toEqual(['public.inspections']);
  }, 60_000);
});
