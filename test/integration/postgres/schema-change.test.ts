// DDL while the bridge streams, without a restart: an added column shows up under
// after.extra (unmapped: keep); a renamed mapped column sends rows to the dead-letter subject
// with an error naming the missing column while other tables keep flowing; renaming it back
// makes rows map again.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { streamProblems } from '../../support/stream.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';

const ASSETS = `
table: public.assets
entity: asset
fields:
  id:   { from: ASSET_ID, type: integer }
  name: { from: ASSET_NAME, type: string }
  kind: { from: KIND, codes: { B: bridge, T: tunnel } }
unmapped: keep
`;

const SITES = `
table: public.sites
entity: site
fields:
  id:    { from: id, type: integer }
  label: { from: label, type: string }
`;

describe('schema-change', () => {
  it('follows ADD COLUMN and RENAME while streaming, dead-letters what no longer maps, and recovers', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using session = await pgSession(db.url);
    await session.query(`CREATE TABLE assets ("ASSET_ID" integer PRIMARY KEY, "ASSET_NAME" text, "KIND" char(1))`);
    await session.query(`CREATE TABLE sites (id integer PRIMARY KEY, label text)`);

    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('schema'),
      source: { name: 'legacy', url: db.url },
      mappings: { 'ASSETS.yaml': ASSETS, 'SITES.yaml': SITES },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

    const nats = inject('natsUrl');
    const asset = `${setup.prefix}.legacy.asset.`;
    const site = `${setup.prefix}.legacy.site.`;
    const dlq = `${setup.prefix}.legacy.dlq.asset`;

    // 1. Before any DDL.
    await session.query(`INSERT INTO assets VALUES (1, 'Old Bridge', 'B')`);
    // 2. A new column: carried under extra, as text.
    await session.query(`ALTER TABLE assets ADD COLUMN "INSPECTOR" text, ADD COLUMN "SPAN_M" numeric(8,2)`);
    await session.query(`INSERT INTO assets VALUES (2, 'New Tunnel', 'T', 'Ada', 120.50)`);
    await session.query(`UPDATE assets SET "ASSET_NAME" = 'Old Bridge II' WHERE "ASSET_ID" = 1`);
    let messages = await waitForStream(nats, setup.stream, (all) => under(all, asset).length >= 3, 'the envelopes before the rename');
    expect(under(messages, asset).map((m) => m.body)).toMatchObject([
      { op: 'c', key: { id: 1 }, after: { id: 1, name: 'Old Bridge', kind: 'bridge', extra: {} } },
      { op: 'c', key: { id: 2 }, after: { id: 2, name: 'New Tunnel', kind: 'tunnel', extra: { INSPECTOR: 'Ada', SPAN_M: '120.50' } } },
      { op: 'u', key: { id: 1 }, after: { id: 1, name: 'Old Bridge II', kind: 'bridge', extra: { INSPECTOR: null, SPAN_M: null } } },
    ]);

    // 3. A mapped column renamed: rows no longer map; they go to the dead-letter subject.
    await session.query(`ALTER TABLE assets RENAME COLUMN "ASSET_NAME" TO "NAME"`);
    await session.query(`INSERT INTO assets VALUES (3, 'Renamed Culvert', 'B', 'Bo', 3)`);
    await session.query(`UPDATE assets SET "KIND" = 'T' WHERE "ASSET_ID" = 2`);
    // Capture goes on: another mapped table still publishes, after the dead letters.
    await session.query(`INSERT INTO sites VALUES (10, 'Depot')`);
    messages = await waitForStream(
      nats,
      setup.stream,
      (all) => under(all, site).length >= 1 && under(all, dlq).length >= 2,
      'two dead letters and the other table\'s insert',
    );
    const letters = under(messages, dlq);
    expect(letters).toHaveLength(2);
    for (const letter of letters) {
      expect(letter.subject).toBe(dlq);
      expect(letter.body.error).toContain('ASSET_NAME');
      expect(letter.body.error).toContain('ASSETS.yaml');
      expect(letter.msgId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(letters[0]!.body.raw).toEqual({ ASSET_ID: '3', NAME: 'Renamed Culvert', KIND: 'B', INSPECTOR: 'Bo', SPAN_M: '3.00' });
    expect(letters[0]!.body.source).toMatchObject({ table: 'public.assets', op: 'c' });
    expect(letters[1]!.body.raw).toMatchObject({ ASSET_ID: '2', KIND: 'T' });
    expect(letters[1]!.body.source).toMatchObject({ table: 'public.assets', op: 'u' });
    // Nothing half-mapped was published for those rows.
    expect(under(messages, asset)).toHaveLength(3);
    const siteEnvelope = under(messages, site)[0]!;
    expect(siteEnvelope.body).toMatchObject({ op: 'c', key: { id: 10 }, after: { id: 10, label: 'Depot' } });
    expect(siteEnvelope.seq).toBeGreaterThan(letters[1]!.seq);

    // 4. Renamed back: rows map again, same process.
    await session.query(`ALTER TABLE assets RENAME COLUMN "NAME" TO "ASSET_NAME"`);
    await session.query(`INSERT INTO assets VALUES (4, 'Back Again', 'T', NULL, NULL)`);
    await session.query(`UPDATE assets SET "KIND" = 'B' WHERE "ASSET_ID" = 3`);
    messages = await waitForStream(nats, setup.stream, (all) => under(all, asset).length >= 5, 'the envelopes after the rename back');
    const assets = under(messages, asset);
    expect(assets).toHaveLength(5);
    expect(assets.slice(3).map((m) => m.body)).toMatchObject([
      { op: 'c', key: { id: 4 }, after: { id: 4, name: 'Back Again', kind: 'tunnel', extra: { INSPECTOR: null, SPAN_M: null } } },
      { op: 'u', key: { id: 3 }, after: { id: 3, name: 'Renamed Culvert', kind: 'bridge', extra: { INSPECTOR: 'Bo', SPAN_M: '3.00' } } },
    ]);
    expect(Object.keys(assets[4]!.body.after)).toEqual(['id', 'name', 'kind', 'extra']);
    expect(under(messages, dlq)).toHaveLength(2);
    expect(streamProblems(messages, asset)).toEqual([]);
    expect(streamProblems(messages, site)).toEqual([]);
    expect(new Set(letters.map((m) => m.msgId)).size).toBe(2);

    // One attempt throughout: no failure, no retry, no restart.
    expect(bridge.output()).not.toMatch(/retryInMs/);
    expect(bridge.output().match(/streaming changes/g)).toHaveLength(1);
    expect(await bridge.stop()).toBe(0);
  });
});
