// SQL Server: existing rows as `r` at the CDC LSN the snapshot started at, then inserts,
// updates (one `u` from the before and after rows) and deletes from the change tables, in
// commit order, with positions that sort. Runs where Docker answers.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { MSSQL_POSITION, SKIPPED, docker, legacyMssql, under, waitForStream, writeMssqlBridgeFiles } from './helpers.ts';

const MAPPING = `
table: dbo.inspections
entity: bridge_inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd }
  status:   { from: CODE_STS, codes: { A: active, I: inactive, X: closed }, default: unknown }
unmapped: ignore
`;

describe.skipIf(!docker)(`snapshot-then-stream (SQL Server via testcontainers)${SKIPPED}`, () => {
  it('emits existing rows as r, then every insert, update and delete from CDC', async () => {
    await using db = await legacyMssql();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.createTable('inspections', 'BRG_ID varchar(10) PRIMARY KEY, NEXT_INSP_DT int, CODE_STS char(1)');
    await db.query(`INSERT INTO dbo.inspections VALUES ('B-1', 20240901, 'A'), ('B-2', 20240902, 'A'), ('B-3', 20240903, 'A')`);
    const setup = writeMssqlBridgeFiles(ws, { natsUrl, id: uniqueName('ms_sts'), source: { name: 'fhwa', url: db.readerUrl }, mappings: { 'INSPECTIONS.yaml': MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 120_000);

    await db.query(`INSERT INTO dbo.inspections VALUES ('B-4', 20241001, 'I')`);
    await db.query(`UPDATE dbo.inspections SET CODE_STS = 'X' WHERE BRG_ID = 'B-1'`);
    await db.query(`DELETE FROM dbo.inspections WHERE BRG_ID = 'B-2'`);
    const entity = `${setup.prefix}.fhwa.bridge_inspection.`;
    const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'd'), 'the delete', 120_000);
    const envelopes = under(messages, entity).map((m) => m.body);
    // Rows inserted before CDC harvested them may also stream as c after their r: same final state.
    const changes = envelopes.filter((e) => e.source.capture === 'log');
    expect(envelopes.filter((e) => e.op === 'r').map((e) => e.key.bridgeId)).toEqual(['B-1', 'B-2', 'B-3']);
    expect(changes.slice(-3).map((e) => [e.op, e.key.bridgeId])).toEqual([
      ['c', 'B-4'],
      ['u', 'B-1'],
      ['d', 'B-2'],
    ]);
    const update = changes.at(-2)!;
    expect(update.after.status).toBe('closed');
    expect(update.before).toMatchObject({ status: 'active' });
    for (const e of envelopes) expect(e.source.position).toMatch(MSSQL_POSITION);
    expect(streamProblems(messages, entity)).toEqual([]);
    expect([...liveRows(messages, entity).keys()].sort()).toEqual(['B-1', 'B-3', 'B-4'].map((k) => entity + k));
    expect(await bridge.stop()).toBe(0);
  }, 600_000);
});
