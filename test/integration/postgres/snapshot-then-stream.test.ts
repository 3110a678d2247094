import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { liveRows, readStream, streamProblems } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const MAPPING = `
table: public.inspections
entity: bridge_inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd }
  status:   { from: CODE_STS, codes: { A: active, I: inactive, X: closed }, default: unknown }
unmapped: ignore
`;

describe('snapshot-then-stream', () => {
  it('emits existing rows as r, then every insert, update and delete, mapped', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    const id = uniqueName('sts');
    await db.query(`CREATE TABLE inspections ("BRG_ID" char(10) PRIMARY KEY, "NEXT_INSP_DT" integer, "CODE_STS" char(1))`);
    await db.query(`INSERT INTO inspections SELECT 'B-' || g, 20240900 + g, 'A' FROM generate_series(1, 5) g`);
    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id,
      source: { name: 'fhwa', url: db.url },
      mappings: { 'INSPECTIONS.yaml': MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');

    await db.query(`INSERT INTO inspections VALUES ('B-6', 20241001, 'I')`);
    await db.query(`UPDATE inspections SET "CODE_STS" = 'X' WHERE "BRG_ID" = 'B-1'`);
    await db.query(`DELETE FROM inspections WHERE "BRG_ID" = 'B-2'`);
    await db.query(`UPDATE inspections SET "CODE_STS" = 'Q' WHERE "BRG_ID" = 'B-3'`);

    const entity = `${setup.prefix}.fhwa.bridge_inspection.`;
    const messages = await waitFor(
      async () => {
        const all = await readStream(inject('natsUrl'), setup.stream);
        return all.filter((m) => m.subject.startsWith(entity)).length >= 9 ? all : false;
      },
      { what: '9 envelopes', timeoutMs: 20_000 },
    );
    const envelopes = messages.filter((m) => m.subject.startsWith(entity));
    expect(envelopes.map((m) => `${m.body.op} ${m.body.key.bridgeId}`)).toEqual([
      'r B-1', 'r B-2', 'r B-3', 'r B-4', 'r B-5', 'c B-6', 'u B-1', 'd B-2', 'u B-3',
    ]);
    expect(envelopes[0]!.body).toMatchObject({
      op: 'r',
      entity: 'bridge_inspection',
      key: { bridgeId: 'B-1' },
      before: null,
      after: { bridgeId: 'B-1', nextDate: '2024-09-01', status: 'active' },
      source: { name: 'fhwa', kind: 'postgres', table: 'public.inspections', capture: 'snapshot' },
    });
    expect(Object.keys(envelopes[0]!.body.after)).toEqual(['bridgeId', 'nextDate', 'status']);
    expect(envelopes[5]!.body.source.capture).toBe('log');
    expect(envelopes[5]!.body.source.position).toMatch(/^[0-9A-F]{16}-[0-9A-F]{8}$/);
    expect(envelopes[5]!.subject).toBe(`${entity}B-6`);
    expect(envelopes[8]!.body.after.status).toBe('unknown');
    expect(envelopes[7]!.body).toMatchObject({ op: 'd', key: { bridgeId: 'B-2' }, after: null });
    expect(streamProblems(messages, entity)).toEqual([]);
    // Snapshot rows carry the slot's consistent point, which sorts before every streamed change.
    const snapshotPosition = envelopes[0]!.body.source.position;
    for (const m of envelopes.slice(5)) expect(m.body.source.position > snapshotPosition).toBe(true);
    expect([...liveRows(messages, entity).keys()].sort()).toEqual(['B-1', 'B-3', 'B-4', 'B-5', 'B-6'].map((k) => entity + k));

    // The slot is confirmed only up to what JetStream acknowledged, and it does get confirmed.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await waitFor(
        async () => {
          const { rows } = await client.query(
            `SELECT confirmed_flush_lsn >= (SELECT pg_current_wal_insert_lsn()) - 100000 AS ok, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1`,
            [setup.slot],
          );
          return rows[0]?.confirmed_flush_lsn ? true : false;
        },
        { what: 'the slot to be confirmed', timeoutMs: 15_000 },
      );
    } finally {
      await client.end();
    }
    // State changes go to the status subject, one message per change.
    const status = await readStream(inject('natsUrl'), setup.stream, `${setup.prefix}.fhwa.status`);
    expect(status.map((m) => m.body.state)).toEqual(['online']);
    expect(status[0]!.body).toMatchObject({ source: 'fhwa', state: 'online' });
    expect(await bridge.stop()).toBe(0);
  });
});
