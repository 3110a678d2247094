// Oracle: a bridge killed with SIGKILL resumes from the last acknowledged SCN: changes made
// while it was down arrive, nothing twice (same ids), nothing lost. Runs where Docker answers.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, type BridgeProcess } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { SKIPPED, docker, legacyOracle, under, waitForStream, writeOracleBridgeFiles } from './helpers.ts';

const MAPPING = `
table: LEGACY.COUNTERS
entity: counter
fields:
  id:    { from: ID, type: integer }
  value: { from: VAL, type: decimal }
`;

describe.skipIf(!docker)(`resume-after-kill (Oracle Free via testcontainers)${SKIPPED}`, () => {
  it('continues after SIGKILL with the changes made while it was down, without duplicates', async () => {
    await using db = await legacyOracle();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.createTable('COUNTERS', 'ID NUMBER(10) PRIMARY KEY, VAL NUMBER(20,4)');
    await db.execute([1, 2, 3].map((i) => `INSERT INTO LEGACY.COUNTERS VALUES (${i}, ${i}.5)`));
    const setup = writeOracleBridgeFiles(ws, { natsUrl, id: uniqueName('ora_kill'), source: { name: 'c', url: db.readerUrl }, mappings: { 'COUNTERS.yaml': MAPPING } });
    const entity = `${setup.prefix}.c.counter.`;
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 120_000);
      await db.execute(`UPDATE LEGACY.COUNTERS SET VAL = 10 WHERE ID = 1`);
      await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'u'), 'the first update', 120_000);
      await bridge.kill();
      await db.execute([`INSERT INTO LEGACY.COUNTERS VALUES (4, 4)`, `DELETE FROM LEGACY.COUNTERS WHERE ID = 2`, `UPDATE LEGACY.COUNTERS SET VAL = 11 WHERE ID = 1`]);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'd'), 'the changes made while down', 120_000);
      expect(streamProblems(messages, entity)).toEqual([]);
      const live = liveRows(messages, entity);
      expect([...live.keys()].sort()).toEqual([1, 3, 4].map((id) => entity + id));
      expect(live.get(`${entity}1`)).toMatchObject({ value: '11' });
      // The snapshot was not taken again: three r envelopes in all.
      expect(under(messages, entity).filter((m) => m.body.op === 'r')).toHaveLength(3);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 600_000);
});
