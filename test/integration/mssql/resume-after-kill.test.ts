// SQL Server: a bridge killed with SIGKILL resumes from the last acknowledged commit LSN.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, type BridgeProcess } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { SKIPPED, docker, legacyMssql, under, waitForStream, writeMssqlBridgeFiles } from './helpers.ts';

const MAPPING = `
table: dbo.counters
entity: counter
fields:
  id:    { from: id, type: integer }
  value: { from: val, type: decimal }
`;

describe.skipIf(!docker)(`resume-after-kill (SQL Server via testcontainers)${SKIPPED}`, () => {
  it('continues after SIGKILL with the changes made while it was down, without duplicates', async () => {
    await using db = await legacyMssql();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.createTable('counters', 'id int PRIMARY KEY, val decimal(20,4)');
    await db.query(`INSERT INTO dbo.counters VALUES (1, 1.5), (2, 2.5), (3, 3.5)`);
    const setup = writeMssqlBridgeFiles(ws, { natsUrl, id: uniqueName('ms_kill'), source: { name: 'c', url: db.readerUrl }, mappings: { 'COUNTERS.yaml': MAPPING } });
    const entity = `${setup.prefix}.c.counter.`;
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 120_000);
      await db.query(`UPDATE dbo.counters SET val = 10 WHERE id = 1`);
      await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'u'), 'the first update', 120_000);
      await bridge.kill();
      await db.query(`INSERT INTO dbo.counters VALUES (4, 4); DELETE FROM dbo.counters WHERE id = 2; UPDATE dbo.counters SET val = 11 WHERE id = 1;`);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'd'), 'the changes made while down', 120_000);
      expect(streamProblems(messages, entity)).toEqual([]);
      const live = liveRows(messages, entity);
      expect([...live.keys()].sort()).toEqual([1, 3, 4].map((id) => entity + id));
      expect(live.get(`${entity}1`)).toMatchObject({ value: '11.0000' });
      expect(under(messages, entity).filter((m) => m.body.op === 'r')).toHaveLength(3);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 600_000);
});
