// MariaDB DDL while the bridge streams, without a restart: an added column shows up under
// after.extra (unmapped: keep); a renamed or dropped mapped column sends rows to the
// dead-letter subject with an error naming the column while other tables keep flowing;
// renaming it back makes rows map again. Replayed after a restart, changes logged before an
// ALTER keep the column names they were logged with (binlog_row_metadata=FULL); without
// column names in the log, a change that no longer fits the table is dead-lettered with the
// fix, never a crash.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { streamProblems } from '../../support/stream.ts';
import { legacyMariadb, mysqlSession, under, waitForStream } from './helpers.ts';

const ASSETS = `
table: legacy.assets
entity: asset
fields:
  id:   { from: ASSET_ID, type: integer }
  name: { from: ASSET_NAME, type: string }
  kind: { from: KIND, codes: { B: bridge, T: tunnel } }
unmapped: keep
`;

const SITES = `
table: legacy.sites
entity: site
fields:
  id:    { from: id, type: integer }
  label: { from: label, type: string }
`;

describe('schema-change (MariaDB)', () => {
  it('follows ADD, RENAME and DROP COLUMN while streaming, dead-letters what no longer maps, and recovers', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await using session = await mysqlSession(db.rootUrl);
    await session.query(`CREATE TABLE assets (ASSET_ID int PRIMARY KEY, ASSET_NAME text, KIND char(1))`);
    await session.query(`CREATE TABLE sites (id int PRIMARY KEY, label text)`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_schema'),
      source: { name: 'legacy', kind: 'mysql', url: db.readerUrl },
      mappings: { 'ASSETS.yaml': ASSETS, 'SITES.yaml': SITES },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const asset = `${setup.prefix}.legacy.asset.`;
    const site = `${setup.prefix}.legacy.site.`;
    const dlq = `${setup.prefix}.legacy.dlq.asset`;

    await session.query(`INSERT INTO assets VALUES (1, 'Old Bridge', 'B')`);
    await session.query(`ALTER TABLE assets ADD COLUMN INSPECTOR text, ADD COLUMN SPAN_M decimal(8,2)`);
    await session.query(`INSERT INTO assets VALUES (2, 'New Tunnel', 'T', 'Ada', 120.50)`);
    await session.query(`UPDATE assets SET ASSET_NAME = 'Old Bridge II' WHERE ASSET_ID = 1`);
    let messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, asset).length >= 3, 'the envelopes before the rename');
    expect(under(messages, asset).map((m) => m.body)).toMatchObject([
      { op: 'c', key: { id: 1 }, after: { id: 1, name: 'Old Bridge', kind: 'bridge', extra: {} } },
      { op: 'c', key: { id: 2 }, after: { id: 2, name: 'New Tunnel', kind: 'tunnel', extra: { INSPECTOR: 'Ada', SPAN_M: '120.50' } } },
      { op: 'u', key: { id: 1 }, after: { id: 1, name: 'Old Bridge II', kind: 'bridge', extra: { INSPECTOR: null, SPAN_M: null } } },
    ]);

    await session.query(`ALTER TABLE assets RENAME COLUMN ASSET_NAME TO NAME`);
    await session.query(`INSERT INTO assets VALUES (3, 'Renamed Culvert', 'B', 'Bo', 3)`);
    // (MySQL logs no row for an UPDATE that changes nothing: this one does change KIND.)
    await session.query(`UPDATE assets SET KIND = 'B' WHERE ASSET_ID = 2`);
    await session.query(`INSERT INTO sites VALUES (10, 'Depot')`);
    messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, site).length >= 1 && under(all, dlq).length >= 2, "two dead letters and the other table's insert");
    const letters = under(messages, dlq);
    expect(letters).toHaveLength(2);
    for (const letter of letters) {
      expect(letter.body.error).toContain('ASSETS.yaml');
      expect(letter.body.error).toContain('"ASSET_NAME" is not in the source row');
      expect(letter.msgId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(letters[0]!.body.raw).toEqual({ ASSET_ID: '3', NAME: 'Renamed Culvert', KIND: 'B', INSPECTOR: 'Bo', SPAN_M: '3.00' });
    expect(letters[0]!.body.source).toMatchObject({ table: 'legacy.assets', op: 'c', kind: 'mysql' });
    expect(letters[1]!.body.raw).toMatchObject({ ASSET_ID: '2', KIND: 'B' });
    expect(letters[1]!.body.source).toMatchObject({ op: 'u' });
    expect(under(messages, asset)).toHaveLength(3);
    expect(under(messages, site)[0]!.body).toMatchObject({ op: 'c', key: { id: 10 }, after: { id: 10, label: 'Depot' } });

    await session.query(`ALTER TABLE assets RENAME COLUMN NAME TO ASSET_NAME`);
    await session.query(`INSERT INTO assets VALUES (4, 'Back Again', 'T', NULL, NULL)`);
    await session.query(`UPDATE assets SET KIND = 'T' WHERE ASSET_ID = 3`);
    await session.query(`ALTER TABLE assets DROP COLUMN KIND`);
    await session.query(`INSERT INTO assets (ASSET_ID, ASSET_NAME) VALUES (5, 'No Kind')`);
    messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, asset).length >= 5 && under(all, dlq).length >= 3, 'the envelopes after the rename back and the drop');
    const assets = under(messages, asset);
    expect(assets.slice(3).map((m) => m.body)).toMatchObject([
      { op: 'c', key: { id: 4 }, after: { id: 4, name: 'Back Again', kind: 'tunnel', extra: { INSPECTOR: null, SPAN_M: null } } },
      { op: 'u', key: { id: 3 }, after: { id: 3, name: 'Renamed Culvert', kind: 'tunnel', extra: { INSPECTOR: 'Bo', SPAN_M: '3.00' } } },
    ]);
    const dropped = under(messages, dlq)[2]!;
    expect(dropped.body.error).toContain('"KIND" is not in the source row');
    expect(dropped.body.raw).toMatchObject({ ASSET_ID: '5', ASSET_NAME: 'No Kind' });
    expect(streamProblems(messages, asset)).toEqual([]);

    // TRUNCATE is logged as a statement, not as deletes: it comes out as one `t` envelope.
    await session.query(`TRUNCATE TABLE sites`);
    await session.query(`INSERT INTO sites VALUES (11, 'After')`);
    messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, site).length >= 3, 'the truncate and the insert after it');
    expect(under(messages, site).map((m) => `${m.body.op} ${m.subject.slice(site.length)}`)).toEqual(['c 10', 't _truncate', 'c 11']);
    expect(under(messages, site)[1]!.body).toMatchObject({ op: 't', key: null, before: null, after: null, source: { table: 'legacy.sites', capture: 'log' } });
    // One attempt throughout: no failure, no retry, no restart.
    expect(bridge.output()).not.toMatch(/retryInMs/);
    expect(bridge.output().match(/streaming changes/g)).toHaveLength(1);
    expect(await bridge.stop()).toBe(0);
  });

  it('replays changes logged before an ALTER with their own column names after a restart', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await using session = await mysqlSession(db.rootUrl);
    await session.query(`CREATE TABLE assets (ASSET_ID int PRIMARY KEY, ASSET_NAME text, KIND char(1))`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_schema_replay'),
      source: { name: 'legacy', kind: 'mysql', url: db.readerUrl },
      mappings: { 'ASSETS.yaml': ASSETS },
    });
    let bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    expect(await bridge.stop()).toBe(0);
    // While the bridge is down: a change, a rename, a change, a rename back.
    await session.query(`INSERT INTO assets VALUES (1, 'Logged Before', 'B')`);
    await session.query(`ALTER TABLE assets RENAME COLUMN ASSET_NAME TO NAME`);
    await session.query(`INSERT INTO assets VALUES (2, 'Logged While Renamed', 'T')`);
    await session.query(`ALTER TABLE assets RENAME COLUMN NAME TO ASSET_NAME, ADD COLUMN NOTE text`);
    bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      const asset = `${setup.prefix}.legacy.asset.`;
      const dlq = `${setup.prefix}.legacy.dlq.asset`;
      const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, asset).length >= 1 && under(all, dlq).length >= 1, 'the replayed changes');
      // information_schema says ASSET_NAME again (and a NOTE column): the log's own names decide.
      expect(under(messages, asset).map((m) => m.body.after)).toEqual([{ id: 1, name: 'Logged Before', kind: 'bridge', extra: {} }]);
      expect(under(messages, dlq)[0]!.body.raw).toEqual({ ASSET_ID: '2', NAME: 'Logged While Renamed', KIND: 'T' });
    } finally {
      await bridge.kill();
    }
  });

  it('without column names in the log, dead-letters a replayed change that no longer fits the table and goes on', async () => {
    await using db = await legacyMariadb({ 'binlog-row-metadata': 'NO_LOG' });
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await using session = await mysqlSession(db.rootUrl);
    await session.query(`CREATE TABLE assets (ASSET_ID int PRIMARY KEY, ASSET_NAME text, KIND char(1))`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_schema_nolog'),
      source: { name: 'legacy', kind: 'mysql', url: db.readerUrl },
      mappings: { 'ASSETS.yaml': ASSETS },
    });
    let bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    expect(bridge.output()).toMatch(/binlog_row_metadata is not FULL/);
    expect(await bridge.stop()).toBe(0);
    await session.query(`INSERT INTO assets VALUES (1, 'Logged Before', 'B')`);
    await session.query(`ALTER TABLE assets DROP COLUMN KIND`);
    await session.query(`INSERT INTO assets VALUES (2, 'After The Drop')`);
    bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      const dlq = `${setup.prefix}.legacy.dlq.asset`;
      const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, dlq).length >= 2, 'the replayed changes');
      const [before, after] = under(messages, dlq);
      expect(before!.body.error).toMatch(/columns of legacy\.assets changed since this change was logged .*SET GLOBAL binlog_row_metadata = FULL/);
      expect(before!.body.raw).toEqual({ '@1': '1', '@2': 'Logged Before', '@3': 'B' });
      // After the drop the mapping's KIND is gone for real: dead-lettered by the mapping.
      expect(after!.body.error).toContain('"KIND" is not in the source row');
      expect(bridge.output()).not.toMatch(/retryInMs/);
    } finally {
      await bridge.kill();
    }
  });
});
