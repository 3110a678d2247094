// A legacy value the mapping rejects (an impossible yyyyMMdd date, a code without a default)
// sends its row to `<prefix>.<source>.dlq.<entity>` as { error, raw, source } while the rows
// around it, in the same transaction, are published normally. The dead letter has a
// deterministic Nats-Msg-Id: when the bridge restarts and reads the transaction again, the
// second copy is dropped by JetStream.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { streamProblems } from '../../support/stream.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';

const MAPPING = `
table: public.inspections
entity: inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd }
  status:   { from: CODE_STS, codes: { A: active, I: inactive } }
`;

describe('bad-legacy-value-to-dlq', () => {
  it('dead-letters unmappable rows with error and raw text, publishes their neighbours, and never twice', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using session = await pgSession(db.url);
    await session.query(`CREATE TABLE inspections ("BRG_ID" char(6) PRIMARY KEY, "NEXT_INSP_DT" integer, "CODE_STS" char(1))`);

    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('dlq'),
      source: { name: 'fhwa', url: db.url },
      mappings: { 'INSPECTIONS.yaml': MAPPING },
    });
    const mappingFile = `${ws.dir}/mappings/fhwa/INSPECTIONS.yaml`;
    const nats = inject('natsUrl');
    const entity = `${setup.prefix}.fhwa.inspection.`;
    const dlq = `${setup.prefix}.fhwa.dlq.inspection`;

    {
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      // A copy of the slot at a position before the bad transaction: restoring it later makes
      // the next bridge read that transaction again, as after a crash before the slot moved on.
      await session.query(`SELECT pg_copy_logical_replication_slot($1, $2)`, [setup.slot, `${setup.slot}_rewind`]);

      await session.transaction([
        `INSERT INTO inspections VALUES ('B-1', 20240902, 'A')`,
        `INSERT INTO inspections VALUES ('B-2', 20240231, 'A')`, // February 31st
        `INSERT INTO inspections VALUES ('B-3', 20241001, 'I')`,
        `INSERT INTO inspections VALUES ('B-4', 20241101, 'Z')`, // no such code, no default
        `INSERT INTO inspections VALUES ('B-5', NULL, NULL)`,
      ]);
      const messages = await waitForStream(
        nats,
        setup.stream,
        (all) => under(all, entity).length >= 3 && under(all, dlq).length >= 2,
        'three envelopes and two dead letters',
      );
      expect(under(messages, entity).map((m) => m.body)).toMatchObject([
        { op: 'c', key: { bridgeId: 'B-1' }, after: { bridgeId: 'B-1', nextDate: '2024-09-02', status: 'active' } },
        { op: 'c', key: { bridgeId: 'B-3' }, after: { bridgeId: 'B-3', nextDate: '2024-10-01', status: 'inactive' } },
        { op: 'c', key: { bridgeId: 'B-5' }, after: { bridgeId: 'B-5', nextDate: null, status: null } },
      ]);

      const letters = under(messages, dlq);
      expect(letters).toHaveLength(2);
      const [badDate, badCode] = letters as [(typeof letters)[0], (typeof letters)[0]];
      // In commit order, between the rows around them.
      const seqs = under(messages, entity).map((m) => m.seq);
      expect(seqs[0]! < badDate.seq && badDate.seq < seqs[1]! && seqs[1]! < badCode.seq && badCode.seq < seqs[2]!).toBe(true);

      expect(Object.keys(badDate.body).sort()).toEqual(['error', 'raw', 'source']);
      expect(badDate.subject).toBe(dlq);
      expect(badDate.body.error).toContain(mappingFile);
      expect(badDate.body.error).toContain('nextDate');
      expect(badDate.body.error).toContain('20240231');
      // raw: the row's values as the database prints them (char(6) keeps its padding).
      expect(badDate.body.raw).toEqual({ BRG_ID: 'B-2   ', NEXT_INSP_DT: '20240231', CODE_STS: 'A' });
      expect(badDate.body.source).toMatchObject({ name: 'fhwa', kind: 'postgres', table: 'public.inspections', capture: 'log', op: 'c' });
      expect(badDate.body.source.position).toMatch(/^[0-9A-F]{16}-00000002$/);

      expect(badCode.body.error).toContain(mappingFile);
      expect(badCode.body.error).toContain('status');
      expect(badCode.body.error).toContain('"Z"');
      expect(badCode.body.raw).toEqual({ BRG_ID: 'B-4   ', NEXT_INSP_DT: '20241101', CODE_STS: 'Z' });
      expect(badCode.body.source.position).toMatch(/^[0-9A-F]{16}-00000004$/);

      for (const letter of letters) expect(letter.msgId).toMatch(/^[0-9a-f]{32}$/);
      expect(badDate.msgId).not.toBe(badCode.msgId);
      expect(bridge.output().match(/dead-letter/g)).toHaveLength(2);
      expect(await bridge.stop()).toBe(0);
    }

    // The slot moved past the transaction; put the copy from before it in its place.
    await session.query(`SELECT pg_drop_replication_slot($1)`, [setup.slot]);
    await session.query(`SELECT pg_copy_logical_replication_slot($1, $2)`, [`${setup.slot}_rewind`, setup.slot]);
    await session.query(`SELECT pg_drop_replication_slot($1)`, [`${setup.slot}_rewind`]);

    await using again = startBridgeProcess(['run', '-c', setup.configPath]);
    await again.waitForOutput(/streaming changes/, 'the restarted bridge to stream');
    // Published after the replayed transaction: once it is in, the replay was processed.
    await session.query(`INSERT INTO inspections VALUES ('B-6', 20250101, 'A')`);
    const messages = await waitForStream(nats, setup.stream, (all) => under(all, `${entity}B-6`).length >= 1, 'the marker row');
    // The restarted bridge did read and send both dead letters again...
    expect(again.output().match(/dead-letter/g)).toHaveLength(2);
    // ...and the stream holds each of them once, and each envelope once.
    const letters = under(messages, dlq);
    expect(letters).toHaveLength(2);
    expect(new Set(letters.map((m) => m.msgId)).size).toBe(2);
    expect(under(messages, entity).map((m) => m.body.key.bridgeId)).toEqual(['B-1', 'B-3', 'B-5', 'B-6']);
    expect(streamProblems(messages, entity)).toEqual([]);
    expect(await again.stop()).toBe(0);
  });
});
