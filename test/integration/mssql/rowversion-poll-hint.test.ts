// SQL Server polled with a rowversion hint column (capture: poll, CDC off): inserts and updates
// found by `rowversion >= watermark` compared as binary, deletes by the checksum sweep.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { SKIPPED, docker, legacyMssql, under, waitForStream, writeMssqlBridgeFiles } from './helpers.ts';

const MAPPING = `
table: dbo.parts
entity: part
fields:
  id:    { from: id, type: integer }
  name:  { from: name, type: string }
  price: { from: price, type: decimal }
poll: { changedColumn: rv, sweep: 2s }
`;

describe.skipIf(!docker)(`rowversion poll hint (SQL Server via testcontainers)${SKIPPED}`, () => {
  it('polls inserts, updates and deletes with a rowversion hint column', async () => {
    await using db = await legacyMssql();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.createTable('parts', 'id int PRIMARY KEY, name nvarchar(40), price decimal(12,2), rv rowversion', false);
    await db.query(`INSERT INTO dbo.parts (id, name, price) VALUES (1, N'bolt', 1.25), (2, N'nut', 0.10)`);
    const setup = writeMssqlBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('ms_poll'),
      source: { name: 'p', url: db.readerUrl, extra: 'capture: poll\npoll: { interval: 250ms, debounce: 0s, chunkSize: 100 }' },
      mappings: { 'PARTS.yaml': MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    const entity = `${setup.prefix}.p.part.`;
    await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).length >= 2, 'the first read', 120_000);
    await db.query(`INSERT INTO dbo.parts (id, name, price) VALUES (3, N'washer', 0.05); UPDATE dbo.parts SET price = 1.30 WHERE id = 1; DELETE FROM dbo.parts WHERE id = 2;`);
    const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'd'), 'the polled changes', 120_000);
    expect(streamProblems(messages, entity)).toEqual([]);
    const live = liveRows(messages, entity);
    expect([...live.keys()].sort()).toEqual([1, 3].map((id) => entity + id));
    expect(live.get(`${entity}1`)).toMatchObject({ price: '1.30' });
    expect(under(messages, entity).every((m) => m.body.source.capture === 'poll' || m.body.op === 'r')).toBe(true);
    expect(await bridge.stop()).toBe(0);
  }, 600_000);
});
