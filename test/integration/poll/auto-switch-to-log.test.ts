// capture: auto with a SELECT-only account polls; once a DBA grants what log capture needs, the
// bridge notices within `poll.recheck`, makes the log's start point durable (a slot), runs one
// last poll pass, and continues with log capture in position epoch 1, while a load keeps
// inserting, updating and deleting. The stream's latest envelope per key (by position) must
// equal the table, deletes included, and every envelope after the switch carries `~0001-`.
import { describe, expect, it } from 'vitest';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { freshDatabase, sharedNatsUrl, uniqueName } from '../../support/context.ts';
import { autoCaptureCounters } from '../../support/counters-source.ts';
import { startMixedLoad, waitForLastWriteWins } from '../../support/method-switch.ts';
import { counterRows } from '../../support/pg-load.ts';
import { readStream, streamProblems } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('capture: auto switches a polled source to log capture', () => {
  it('PostgreSQL: REPLICATION granted while polling under load -> log capture in epoch 1, nothing lost', async () => {
    await using db = await freshDatabase('autoswitch');
    using ws = workspace();
    const natsUrl = sharedNatsUrl();
    const { role, setup } = await autoCaptureCounters(db, ws, {
      id: uniqueName('autoswitch'),
      rows: 40,
      replication: false,
      poll: '{ interval: 200ms, debounce: 0ms, recheck: 1s }',
    });
    const { entity } = setup;
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/capture method poll \(log capture is not possible: /, 'polling');
    await waitFor(async () => (await readStream(natsUrl, setup.stream, `${entity}>`)).length >= 40, { what: 'the 40 rows', timeoutMs: 30_000 });

    const load = startMixedLoad(db.url, { firstId: 1000, max: 2000, deletes: true });
    try {
      await waitFor(() => load.count() >= 40, { what: 'the load to run while polling', timeoutMs: 20_000, intervalMs: 20 });
      // What doctor asks a DBA for: the REPLICATION attribute, and a publication.
      await db.query(`ALTER ROLE "${role.name}" REPLICATION`);
      await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE counters`);
      await bridge.waitForOutput(/capture method poll -> log, position epoch 1/, 'the switch to log capture', 30_000);
      await bridge.waitForOutput(/streaming changes/, 'log capture to stream', 30_000);
      const atStream = load.count();
      await waitFor(() => load.count() >= atStream + 60, { what: 'the load to run under log capture', timeoutMs: 20_000, intervalMs: 20 });
    } finally {
      expect(await load.stop()).toBeGreaterThan(20);
    }
    expect(bridge.output()).toMatch(/"event":"capture_method"[^\n]*"from":"poll"[^\n]*"to":"log"[^\n]*"epoch":1/);

    const messages = await waitForLastWriteWins(natsUrl, setup.stream, entity, await counterRows(db.url, entity), {
      what: 'the stream (latest by position) to equal the table',
      bridge,
    });

    expect(streamProblems(messages, entity)).toEqual([]);
    const firstLog = messages.findIndex((m) => m.body.source.capture === 'log');
    expect(firstLog).toBeGreaterThan(0);
    const before = messages.slice(0, firstLog);
    const after = messages.slice(firstLog);
    expect(new Set(before.map((m) => m.body.source.capture))).toEqual(new Set(['poll']));
    expect(before.every((m) => /^\d{13}-/.test(m.body.source.position))).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    for (const m of after) expect(m.body.source.position, JSON.stringify(m.body.source)).toMatch(/^~0001-[0-9A-F]{16}-[0-9A-F]{8}$/);
    expect(new Set(after.map((m) => m.body.op))).toContain('d');
    expect(await bridge.stop()).toBe(0);
  }, 120_000);
});
