// MariaDB as the source (against the stream) and as a modern target: reconcile names exactly
// the drifted keys, resync repairs the stream from a consistent snapshot at a binlog point,
// the next run is clean; a MariaDB copy's formatting is no drift, its edits are.
import { jetstreamManager } from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { cliJson, reconcile, reportIdIn } from '../../support/reconcile-helpers.ts';
import { liveRows, readStream, withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { legacyMariadb } from '../mysql/helpers.ts';

const MAPPING = `
table: legacy.permits
entity: permit
key: [PERMIT_NO]
fields:
  permitNo: { from: PERMIT_NO, type: string, trim: true }
  fee:      { from: FEE, type: decimal }
  issued:   { from: ISSUED, type: timestamp }
  active:   { from: ACTIVE, type: boolean, true: ['Y'], false: ['N'] }
`;

describe('reconcile with MariaDB', () => {
  it('source against the stream: reports the drifted keys, resync repairs them, the next run is clean', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query(`CREATE TABLE permits (PERMIT_NO char(8) PRIMARY KEY, FEE decimal(10,2), ISSUED datetime(3), ACTIVE char(1))`);
    const values = Array.from({ length: 200 }, (_, i) => `('P${i + 1}', ${(i % 50) + 0.5}, '2024-03-01 10:00:00.125', '${i % 3 === 0 ? 'N' : 'Y'}')`);
    await db.query(`INSERT INTO permits VALUES ${values.join(', ')}`);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('recon_my'), source: { name: 'city', kind: 'mysql', url: db.readerUrl }, mappings: { 'permits.yaml': MAPPING } });
    const entity = `${setup.prefix}.city.permit.`;
    const bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    await db.query(`UPDATE permits SET FEE = 99.90 WHERE PERMIT_NO IN ('P1', 'P2')`);
    await waitFor(async () => [...liveRows(await readStream(natsUrl, setup.stream), entity).values()].filter((r) => r.fee === '99.90').length === 2, {
      what: 'the updates to reach the stream',
      timeoutMs: 30_000,
    });
    expect(await bridge.stop()).toBe(0);

    const clean = await reconcile(setup.configPath);
    expect(clean).toMatch(/city legacy\.permits -> permit \(stream\): 200 rows in source, 200 in target; clean/);

    // Drift while the bridge is stopped, and two keys' envelopes vanish.
    await db.query(`UPDATE permits SET FEE = 1.00, ACTIVE = 'N' WHERE PERMIT_NO = 'P5'`);
    await db.query(`DELETE FROM permits WHERE PERMIT_NO = 'P7'`);
    await db.query(`INSERT INTO permits VALUES ('P201', 3.25, '2024-04-01 08:00:00', 'Y')`);
    await withNats(natsUrl, async (nc) => {
      const jsm = await jetstreamManager(nc);
      for (const id of ['P9', 'P150']) await jsm.streams.purge(setup.stream, { filter: `${entity}${id}` });
    });
    const drift = await reconcile(setup.configPath);
    expect(drift).toMatch(/200 rows in source, 198 in target; missing in target 3, missing in source 1, different 1; report /);
    const id = reportIdIn(drift);
    const report = await cliJson<any>(['review', 'show', id, '-c', setup.configPath, '--json']);
    expect(report.runStartPosition).toMatch(/^\d{10}-\d{10}-00000000$/);
    expect(report.diffs).toEqual([
      { key: { permitNo: 'P150' }, kind: 'missingInTarget' },
      { key: { permitNo: 'P201' }, kind: 'missingInTarget' },
      {
        key: { permitNo: 'P5' },
        kind: 'different',
        fields: [
          { field: 'fee', source: '1.00', target: '4.50' },
          { field: 'active', source: false, target: true },
        ],
      },
      { key: { permitNo: 'P7' }, kind: 'missingInSource' },
      { key: { permitNo: 'P9' }, kind: 'missingInTarget' },
    ]);

    const resync = await runCli(['review', 'resync', id, '-c', setup.configPath, '--by', 'tester']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(resync.stdout).toMatch(/4 rows re-emitted as r envelopes, 1 d tombstones, 0 to the dead-letter subject/);
    const after = await cliJson<any>(['review', 'show', id, '-c', setup.configPath, '--json']);
    expect(after.resolution).toMatchObject({ action: 'resync', by: 'tester', rows: 4, tombstones: 1 });
    expect(after.resolution.position).toMatch(/^\d{10}-\d{10}-00000000$/);
    const stream = await readStream(natsUrl, setup.stream, `${entity}>`);
    const resynced = stream.filter((m) => m.body.source.position === after.resolution.position);
    expect(resynced.map((m) => `${m.body.op} ${m.body.key.permitNo}`).sort()).toEqual(['d P7', 'r P150', 'r P201', 'r P5', 'r P9']);
    // The resync position sorts after everything the bridge had streamed.
    const streamed = stream.filter((m) => m.body.source.position !== after.resolution.position).map((m) => m.body.source.position as string);
    expect(streamed.every((p) => p < after.resolution.position)).toBe(true);

    expect(await reconcile(setup.configPath)).toMatch(/200 rows in source, 200 in target; clean/);
  }, 120_000);

  it('a MariaDB copy as the target: formatting is no drift, edits are', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    await db.query(`CREATE TABLE permits (PERMIT_NO char(8) PRIMARY KEY, FEE decimal(10,2), ISSUED datetime(3), ACTIVE char(1))`);
    const values = Array.from({ length: 300 }, (_, i) => `('P${i + 1}', ${(i % 50) + 0.5}, '2024-03-01 10:00:00.${String(i % 1000).padStart(3, '0')}', '${i % 3 === 0 ? 'N' : 'Y'}')`);
    await db.query(`INSERT INTO permits VALUES ${values.join(', ')}`);
    // The modern copy, as a subscriber writes mapped values: other types, other scale, booleans as TINYINT.
    await db.server.query('CREATE DATABASE modern');
    await db.server.query('CREATE TABLE modern.permit (permitNo varchar(20) PRIMARY KEY, fee decimal(12,4), issued datetime(6), active tinyint(1), hms_position varchar(40))');
    await db.server.query(
      `INSERT INTO modern.permit SELECT PERMIT_NO, FEE, ISSUED, ACTIVE = 'Y', '0000000001-0000000004-00000000' FROM legacy.permits`,
    );
    const setup = writeBridgeFiles(ws, { natsUrl: inject('natsUrl'), id: uniqueName('recon_mytgt'), source: { name: 'city', kind: 'mysql', url: db.readerUrl }, mappings: { 'permits.yaml': MAPPING } });
    ws.write('hms-sync.yaml', `${readFileSync(setup.configPath, 'utf8')}reconcile:\n  target: { kind: mysql, url: "${db.server.rootUrl('modern')}" }\n`);

    const clean = await reconcile(setup.configPath);
    expect(clean).toMatch(/city legacy\.permits -> permit \(mysql\): 300 rows in source, 300 in target; clean/);

    await db.server.query(`UPDATE modern.permit SET fee = 12.3456 WHERE permitNo = 'P10'`);
    await db.server.query(`UPDATE modern.permit SET active = 1 - active WHERE permitNo = 'P20'`);
    await db.server.query(`DELETE FROM modern.permit WHERE permitNo = 'P30'`);
    await db.server.query(`INSERT INTO modern.permit VALUES ('X1', 1, '2024-01-01', 1, NULL)`);
    const drift = await reconcile(setup.configPath);
    expect(drift).toMatch(/300 rows in source, 300 in target; missing in target 1, missing in source 1, different 2; report /);
    const report = await cliJson<any>(['review', 'show', reportIdIn(drift), '-c', setup.configPath, '--json']);
    expect(report.diffs).toEqual([
      { key: { permitNo: 'P10' }, kind: 'different', fields: [{ field: 'fee', source: '9.50', target: '12.3456' }] },
      { key: { permitNo: 'P20' }, kind: 'different', fields: [{ field: 'active', source: true, target: false }] },
      { key: { permitNo: 'P30' }, kind: 'missingInTarget' },
      { key: { permitNo: 'X1' }, kind: 'missingInSource' },
    ]);
  }, 120_000);
});
