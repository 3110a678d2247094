import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName, type FreshDatabase } from '../../support/context.ts';
import { workspace } from '../../support/bridge.ts';
import { requestJson } from '../../support/http.ts';
import { reconcile } from '../../support/reconcile-helpers.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { TOKEN, startSubscriberBridge } from './helpers.ts';

const INSPECTIONS = `
table: public.inspections
entity: inspection
fields:
  id:          { from: id, type: integer }
  code:        { from: code, type: string, trim: true }
  amount:      { from: amount, type: decimal }
  inspectedAt: { from: inspected_at, type: timestamp }
  note:        { from: note, type: string, nullIf: [""] }
  passed:      { from: passed, type: boolean }
`;

/** The mapped rows, as text, from the source (expected) and from the copy. */
async function sourceRows(db: FreshDatabase): Promise<string[]> {
  const rows = await db.query<{ r: string }>(
    `SELECT concat_ws('|', id, rtrim(code), amount::text, to_char(inspected_at, 'YYYY-MM-DD HH24:MI:SS.MS'), coalesce(NULLIF(note, ''), '∅'), passed) AS r FROM inspections ORDER BY id`,
  );
  return rows.map((x) => x.r);
}
async function copyRows(db: FreshDatabase): Promise<string[]> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('inspection')::text AS t`);
  if (exists[0]!.t === null) return [];
  const rows = await db.query<{ r: string }>(
    `SELECT concat_ws('|', id, code, amount::text, to_char("inspectedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), coalesce(note, '∅'), passed) AS r FROM inspection ORDER BY id`,
  );
  return rows.map((x) => x.r);
}

describe('postgres subscriber', () => {
  it('keeps a copy identical to the source, and a second feed of the whole stream (replay) changes nothing', async () => {
    await using source = await freshDatabase('sub_src');
    await using target = await freshDatabase('sub_tgt');
    using ws = workspace();
    await source.query(`CREATE TABLE inspections (id integer PRIMARY KEY, code char(8) NOT NULL, amount numeric(10,2), inspected_at timestamp(3), note text, passed boolean)`);
    await source.query(`INSERT INTO inspections
      SELECT g, 'C' || g, (g % 100) + 0.30, '2024-01-01'::timestamp + g * interval '1 hour 1 millisecond',
             CASE WHEN g % 5 = 0 THEN '' WHEN g % 5 = 1 THEN NULL ELSE 'n' || g END, g % 2 = 0
        FROM generate_series(1, 60) g`);
    const subscribers = ['subscribers:', `  - { id: pg-copy, type: postgres, endpoint: "${target.url}", topics: [inspection], from: start, heartbeat: 500ms }`].join('\n');
    const { bridge, base, setup } = await startSubscriberBridge(ws, {
      id: uniqueName('sub_pg'),
      dbUrl: source.url,
      mappings: { 'INSPECTIONS.yaml': INSPECTIONS },
      subscribers: `${subscribers}\nreconcile:\n  target: { kind: postgres, url: "${target.url}" }`,
    });
    await using _bridge = bridge;
    const matches = async () => JSON.stringify(await copyRows(target)) === JSON.stringify(await sourceRows(source));
    await waitFor(matches, { what: 'the snapshot copied', timeoutMs: 30_000 });

    // Updates (one key twice), deletes, a deleted key inserted again, new rows.
    await source.query(`UPDATE inspections SET amount = amount + 1, note = 'changed' WHERE id <= 10`);
    await source.query(`UPDATE inspections SET code = 'Z1' WHERE id = 1`);
    await source.query(`DELETE FROM inspections WHERE id BETWEEN 20 AND 25`);
    await source.query(`INSERT INTO inspections VALUES (22, 'AGAIN', 1.5, '2025-01-01 00:00:00', 'back', true)`);
    await source.query(`INSERT INTO inspections SELECT g, 'N' || g, g, now(), NULL, NULL FROM generate_series(61, 70) g`);
    await waitFor(matches, { what: 'the changes copied', timeoutMs: 30_000 });
    const copy = await copyRows(target);
    expect(copy).toHaveLength(65);
    const columns = await target.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'inspection' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      'id bigint', 'code text', 'amount numeric', 'inspectedAt timestamp with time zone', 'note text', 'passed boolean',
      'hms_position text', 'hms_updated_at timestamp with time zone',
    ]);
    // Deleted keys keep their position (a tombstone), so an older change cannot bring them back.
    const tombstones = await target.query<{ key: string; op: string }>(`SELECT key, op FROM hms_sync_positions WHERE entity = 'inspection' AND op = 'd' ORDER BY key`);
    expect(tombstones.map((t) => t.key)).toEqual(['20', '21', '23', '24', '25']);
    const positionsBefore = await target.query(`SELECT entity, key, position, op FROM hms_sync_positions ORDER BY entity, key`);
    const rowsBefore = await target.query(`SELECT to_jsonb(i) - 'hms_updated_at' AS r FROM inspection i ORDER BY id`);

    // Replay: a second subscriber on the same database reads the whole stream from the start.
    const envelopes = await readStream(inject('natsUrl'), setup.stream, `${setup.prefix}.fhwa.inspection.>`);
    const replay = await requestJson(`${base}/api/subscribers`, {
      method: 'POST',
      token: TOKEN,
      json: { id: 'pg-replay', type: 'postgres', endpoint: target.url, topics: ['inspection'], from: 'start' },
    });
    expect(replay.status).toBe(201);
    expect(replay.body.endpoint).not.toContain(new URL(target.url).password);
    await waitFor(async () => (await requestJson(`${base}/api/subscribers/pg-replay`)).body.delivered >= envelopes.length, {
      what: `the replay of ${envelopes.length} envelopes`,
      timeoutMs: 30_000,
    });
    expect(await copyRows(target)).toEqual(await sourceRows(source));
    expect(await target.query(`SELECT entity, key, position, op FROM hms_sync_positions ORDER BY entity, key`)).toEqual(positionsBefore);
    expect(await target.query(`SELECT to_jsonb(i) - 'hms_updated_at' AS r FROM inspection i ORDER BY id`)).toEqual(rowsBefore);

    // The copy is what reconciliation calls identical.
    const report = await reconcile(setup.configPath);
    expect(report).toMatch(/inspection \(postgres\): 65 rows in source, 65 in target; clean/);
    expect(await bridge.stop()).toBe(0);
  });
});
