// Oracle: existing rows as `r` AS OF the snapshot SCN, then inserts, updates and deletes from
// LogMiner, mapped, in commit order, with positions that sort. Runs where Docker answers.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { ORACLE_POSITION, SKIPPED, docker, legacyOracle, under, waitForStream, writeOracleBridgeFiles } from './helpers.ts';

const MAPPING = `
table: LEGACY.INSPECTIONS
entity: bridge_inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd }
  status:   { from: CODE_STS, codes: { A: active, I: inactive, X: closed }, default: unknown }
unmapped: ignore
`;

describe.skipIf(!docker)(`snapshot-then-stream (Oracle Free via testcontainers)${SKIPPED}`, () => {
  it('emits existing rows as r, then every insert, update and delete from LogMiner', async () => {
    await using db = await legacyOracle();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.createTable('INSPECTIONS', 'BRG_ID VARCHAR2(10) PRIMARY KEY, NEXT_INSP_DT NUMBER(8), CODE_STS CHAR(1)');
    await db.execute([1, 2, 3].map((i) => `INSERT INTO LEGACY.INSPECTIONS VALUES ('B-${i}', 2024090${i}, 'A')`));
    const setup = writeOracleBridgeFiles(ws, { natsUrl, id: uniqueName('ora_sts'), source: { name: 'fhwa', url: db.readerUrl }, mappings: { 'INSPECTIONS.yaml': MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 120_000);

    await db.execute(`INSERT INTO LEGACY.INSPECTIONS VALUES ('B-4', 20241001, 'I')`);
    await db.execute(`UPDATE LEGACY.INSPECTIONS SET CODE_STS = 'X' WHERE BRG_ID = 'B-1'`);
    await db.execute(`DELETE FROM LEGACY.INSPECTIONS WHERE BRG_ID = 'B-2'`);
    const entity = `${setup.prefix}.fhwa.bridge_inspection.`;
    const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'd'), 'the delete', 120_000);
    const envelopes = under(messages, entity).map((m) => m.body);
    expect(envelopes.map((e) => [e.op, e.key.bridgeId])).toEqual([
      ['r', 'B-1'],
      ['r', 'B-2'],
      ['r', 'B-3'],
      ['c', 'B-4'],
      ['u', 'B-1'],
      ['d', 'B-2'],
    ]);
    expect(envelopes[3]).toMatchObject({ after: { bridgeId: 'B-4', nextDate: '2024-10-01', status: 'inactive' }, source: { kind: 'oracle', capture: 'log' } });
    expect(envelopes[4].after.status).toBe('closed');
    for (const e of envelopes) expect(e.source.position).toMatch(ORACLE_POSITION);
    const positions = envelopes.map((e) => e.source.position);
    expect([...positions].sort()).toEqual(positions);
    expect(streamProblems(messages, entity)).toEqual([]);
    expect([...liveRows(messages, entity).keys()].sort()).toEqual(['B-1', 'B-3', 'B-4'].map((k) => entity + k));
    expect(await bridge.stop()).toBe(0);
  }, 600_000);
});
