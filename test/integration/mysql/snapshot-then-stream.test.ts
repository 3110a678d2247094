// MariaDB: existing rows come out as `r` at the snapshot's binlog point, then every insert,
// update and delete from the row binlog, mapped, in commit order, with positions that sort.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { MYSQL_POSITION, legacyMariadb, mysqlSession, under, waitForStream } from './helpers.ts';

const MAPPING = `
table: legacy.inspections
entity: bridge_inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd }
  status:   { from: CODE_STS, codes: { A: active, I: inactive, X: closed }, default: unknown }
unmapped: ignore
`;

describe('snapshot-then-stream (MariaDB)', () => {
  it('emits existing rows as r, then every insert, update and delete, mapped, and confirms the position', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query(`CREATE TABLE inspections (BRG_ID char(10) PRIMARY KEY, NEXT_INSP_DT int, CODE_STS char(1))`);
    await db.query(`CREATE TABLE unrelated (id int PRIMARY KEY, note text)`);
    await db.query(`INSERT INTO inspections VALUES ('B-1', 20240901, 'A'), ('B-2', 20240902, 'A'), ('B-3', 20240903, 'A'), ('B-4', 20240904, 'A'), ('B-5', 20240905, 'A')`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_sts'),
      source: { name: 'fhwa', kind: 'mysql', url: db.readerUrl },
      mappings: { 'INSPECTIONS.yaml': MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

    await using session = await mysqlSession(db.rootUrl);
    await session.query(`INSERT INTO inspections VALUES ('B-6', 20241001, 'I')`);
    await session.query(`INSERT INTO unrelated VALUES (1, 'not mapped')`);
    await session.query(`UPDATE inspections SET CODE_STS = 'X' WHERE BRG_ID = 'B-1'`);
    await session.query(`DELETE FROM inspections WHERE BRG_ID = 'B-2'`);
    // Two changes in one transaction: same transaction offset, indexes 1 and 2 (the savepoint
    // in between is logged as a statement of the transaction; it does not end it).
    await session.transaction([
      `UPDATE inspections SET CODE_STS = 'Q' WHERE BRG_ID = 'B-3'`,
      'SAVEPOINT before_b4',
      `UPDATE inspections SET CODE_STS = 'I' WHERE BRG_ID = 'B-4'`,
    ]);

    const entity = `${setup.prefix}.fhwa.bridge_inspection.`;
    const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).length >= 10, '10 envelopes');
    const envelopes = under(messages, entity);
    expect(envelopes.map((m) => `${m.body.op} ${m.body.key.bridgeId}`)).toEqual([
      'r B-1', 'r B-2', 'r B-3', 'r B-4', 'r B-5', 'c B-6', 'u B-1', 'd B-2', 'u B-3', 'u B-4',
    ]);
    expect(envelopes[0]!.body).toMatchObject({
      op: 'r',
      entity: 'bridge_inspection',
      key: { bridgeId: 'B-1' },
      before: null,
      after: { bridgeId: 'B-1', nextDate: '2024-09-01', status: 'active' },
      source: { name: 'fhwa', kind: 'mysql', table: 'legacy.inspections', capture: 'snapshot' },
    });
    expect(Object.keys(envelopes[0]!.body.after)).toEqual(['bridgeId', 'nextDate', 'status']);
    for (const m of envelopes) expect(m.body.source.position).toMatch(MYSQL_POSITION);
    // Snapshot rows share the snapshot's point at index 0; every streamed change sorts after it.
    const snapshotPosition: string = envelopes[0]!.body.source.position;
    expect(snapshotPosition.endsWith('-00000000')).toBe(true);
    expect(new Set(envelopes.slice(0, 5).map((m) => m.body.source.position))).toEqual(new Set([snapshotPosition]));
    const streamed = envelopes.slice(5);
    for (const m of streamed) {
      expect(m.body.source.capture).toBe('log');
      expect(m.body.source.position > snapshotPosition).toBe(true);
      expect(Date.parse(m.body.source.commitTs)).toBeGreaterThan(Date.now() - 120_000);
    }
    const positions = streamed.map((m) => m.body.source.position);
    expect([...positions].sort()).toEqual(positions);
    // The first streamed transaction starts exactly at the snapshot's point.
    expect(positions[0]).toBe(snapshotPosition.replace(/-00000000$/, '-00000001'));
    expect(positions[3]!.slice(0, 21)).toBe(positions[4]!.slice(0, 21));
    expect(positions[3]!.endsWith('-00000001')).toBe(true);
    expect(positions[4]!.endsWith('-00000002')).toBe(true);
    // FULL row images: updates and deletes carry the old row.
    expect(streamed[1]!.body).toMatchObject({ op: 'u', before: { status: 'active' }, after: { status: 'closed' } });
    expect(streamed[2]!.body).toMatchObject({ op: 'd', key: { bridgeId: 'B-2' }, before: { bridgeId: 'B-2', nextDate: '2024-09-02' }, after: null });
    expect(streamed[3]!.body.after.status).toBe('unknown');
    expect(streamProblems(messages, entity)).toEqual([]);
    expect([...liveRows(messages, entity).keys()].sort()).toEqual(['B-1', 'B-3', 'B-4', 'B-5', 'B-6'].map((k) => entity + k));

    // The resume point in the offsets bucket reaches the binlog's end once everything is acknowledged.
    const [status] = await db.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');
    await waitFor(
      async () => {
        const { withNats } = await import('../../support/stream.ts');
        const { Kvm } = await import('@nats-io/kv');
        return withNats(natsUrl, async (nc) => {
          const kv = await new Kvm(nc).open(setup.bucket);
          const entry = await kv.get('mysql.fhwa');
          const state = entry?.json<{ confirmed?: { file: string; pos: number; gtid?: string } }>();
          return state?.confirmed?.file === status!.File && state.confirmed.pos === Number(status!.Position) && /^0-1-\d+$/.test(state.confirmed.gtid ?? '');
        });
      },
      { what: `the resume point to reach ${status!.File}:${status!.Position}`, timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(await bridge.stop()).toBe(0);
  });
});
