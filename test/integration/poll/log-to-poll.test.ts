// capture: auto on PostgreSQL with REPLICATION and a publication captures by log. A DBA revokes
// REPLICATION (ALTER ROLE … NOREPLICATION) and the bridge's walsender is terminated: the next
// attempt finds log capture impossible and falls back to polling in a new position epoch
// (`~0001-`), sending every row again as `r`. After further inserts, updates and deletes the
// stream's latest envelope per key (by position) equals the table, and per key the positions
// rise strictly in stream order.
//
// Deletes are kept out of the moments around the fallback on purpose: a row deleted between the
// last change the log delivered and the first poll pass cannot be sent as `d` (docs/polling.md
// "Back to polling": reconciliation finds it). Inserts and updates run through it.
import { describe, expect, it } from 'vitest';
import { runCli, startBridgeProcess, workspace } from '../../support/bridge.ts';
import { freshDatabase, sharedNatsUrl, uniqueName } from '../../support/context.ts';
import { autoCaptureCounters } from '../../support/counters-source.ts';
import { startMixedLoad, strictPositionProblems, waitForLastWriteWins } from '../../support/method-switch.ts';
import { pausedStream } from '../../support/pause-scenario.ts';
import { counterRows } from '../../support/pg-load.ts';
import { streamProblems, type StoredMessage } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const POLL = '{ interval: 200ms, debounce: 0ms, recheck: 1s }';

describe('capture: auto falls back from log capture to polling', () => {
  it('PostgreSQL: REPLICATION revoked and the walsender terminated -> polling in epoch 1, the stream still ends equal to the table', async () => {
    await using db = await freshDatabase('logtopoll');
    using ws = workspace();
    const natsUrl = sharedNatsUrl();
    const { role, setup } = await autoCaptureCounters(db, ws, { id: uniqueName('logtopoll'), rows: 40, replication: true, poll: POLL });
    const { entity } = setup;
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    const streamEqualsTable = async (what: string): Promise<StoredMessage[]> =>
      waitForLastWriteWins(natsUrl, setup.stream, entity, await counterRows(db.url, entity), { what, bridge });

    await bridge.waitForOutput(/capture method log \(the server and the account allow log capture\)/, 'log capture');
    await bridge.waitForOutput(/streaming changes/, 'log capture to stream');

    // Phase 1, log capture: inserts, updates and deletes.
    const first = startMixedLoad(db.url, { firstId: 1000, max: 150, deletes: true });
    expect(await first.finished).toBe(150);
    await streamEqualsTable('the stream to equal the table under log capture');

    // Phase 2: the account loses REPLICATION while inserts and updates go on.
    const second = startMixedLoad(db.url, { firstId: 2000, max: 1500, deletes: false });
    let fallbackMs = 0;
    try {
      await waitFor(() => second.count() >= 30, { what: 'the second load to run', timeoutMs: 20_000, intervalMs: 20 });
      await db.query(`ALTER ROLE "${role.name}" NOREPLICATION`);
      const terminated = await db.query<{ pid: number }>(
        'SELECT pg_terminate_backend(active_pid) AS pid FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
        [setup.slot],
      );
      expect(terminated).toHaveLength(1);
      const revokedAt = Date.now();
      // The privilege retry waits 60 s (src/pipeline/job.ts); this must not take that long.
      await bridge.waitForOutput(/capture method log -> poll, position epoch 1/, 'the fallback to polling', 75_000);
      fallbackMs = Date.now() - revokedAt;
      const atFallback = second.count();
      await waitFor(() => second.count() >= atFallback + 40, { what: 'the load to run while polling', timeoutMs: 20_000, intervalMs: 20 });
    } finally {
      await second.stop();
    }
    console.log(`[log-to-poll] fallback logged ${fallbackMs} ms after the walsender was terminated`);
    expect(bridge.output()).toMatch(/"event":"capture_method"[^\n]*"from":"log"[^\n]*"to":"poll"[^\n]*"epoch":1/);
    // Without REPLICATION the account may not drop the old slot: it stays, and the log says how to.
    expect(bridge.output()).toContain(`SELECT pg_drop_replication_slot('${setup.slot}');`);
    expect(await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [setup.slot])).toHaveLength(1);

    // Phase 3, polling: inserts, updates and deletes again.
    const third = startMixedLoad(db.url, { firstId: 5000, max: 150, deletes: true });
    expect(await third.finished).toBe(150);
    const messages = await streamEqualsTable('the stream (latest by position) to equal the table after the fallback');

    expect(streamProblems(messages, entity)).toEqual([]);
    expect(strictPositionProblems(messages, entity)).toEqual([]);
    const firstPoll = messages.findIndex((m) => m.body.source.capture === 'poll');
    expect(firstPoll).toBeGreaterThan(0);
    const before = messages.slice(0, firstPoll);
    const after = messages.slice(firstPoll);
    expect(new Set(before.map((m) => m.body.source.capture))).toEqual(new Set(['snapshot', 'log']));
    expect(before.every((m) => /^[0-9A-F]{16}-[0-9A-F]{8}$/.test(m.body.source.position))).toBe(true);
    for (const m of after) {
      expect(m.body.source.capture).toBe('poll');
      expect(m.body.source.position, JSON.stringify(m.body.source)).toMatch(/^~0001-\d{13}-[0-9A-F]{8}-[0-9A-F]{8}$/);
    }
    // The poll epoch starts from nothing: every row of the table at that moment as r, then c/u/d.
    expect(new Set(after.map((m) => m.body.op))).toEqual(new Set(['r', 'c', 'u', 'd']));
    expect(await bridge.stop()).toBe(0);
  }, 150_000);
  // Changes of a paused table held during the log epoch belong to that epoch: polling never
  // replays them (its first read sends the table's rows as they are), and they must not be
  // replayed by a later log epoch either, where they would carry the new epoch's prefix with
  // an old LSN and sort after the newer state.
  it('PostgreSQL: changes held by a paused table under log capture are not replayed as newer after log -> poll -> log', async () => {
    await using db = await freshDatabase('logpolllog');
    using ws = workspace();
    const natsUrl = sharedNatsUrl();
    const { role, setup } = await autoCaptureCounters(db, ws, { id: uniqueName('logpolllog'), rows: 20, replication: true, poll: POLL });
    const { entity } = setup;
    const { heldMessages } = pausedStream(natsUrl, setup.stream);
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    const streamEqualsTable = async (what: string, timeoutMs = 30_000): Promise<StoredMessage[]> =>
      waitForLastWriteWins(natsUrl, setup.stream, entity, await counterRows(db.url, entity), { what, bridge, timeoutMs, intervalMs: 300 });
    await bridge.waitForOutput(/streaming changes/, 'log capture to stream');
    await db.query('UPDATE counters SET version = version + 1');
    await streamEqualsTable('the stream to equal the table under log capture');

    // Paused under log capture: its changes go to the holding stream.
    expect((await runCli(['pause', '-c', setup.configPath, '--source', 'src', '--table', 'public.counters'])).code).toBe(0);
    for (let i = 0; i < 3; i++) await db.query('UPDATE counters SET version = version + 1 WHERE id <= 10');
    await waitFor(async () => (await heldMessages()) >= 30, { what: 'the 30 changes to be held', timeoutMs: 15_000, intervalMs: 100 });

    // Log capture stops being possible: polling in epoch 1; resumed, the table is read whole.
    await db.query(`ALTER ROLE "${role.name}" NOREPLICATION`);
    await db.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL', [setup.slot]);
    await bridge.waitForOutput(/capture method log -> poll, position epoch 1/, 'the fallback to polling', 75_000);
    // The held changes belong to the log epoch: discarded (the poll epoch reads the table whole).
    expect(bridge.output()).toMatch(/"event":"held_changes_discarded"[^\n]*"table":"public\.counters","discarded":30/);
    expect(await heldMessages()).toBe(0);
    expect((await runCli(['resume', '-c', setup.configPath, '--source', 'src', '--table', 'public.counters'])).code).toBe(0);
    await streamEqualsTable('the poll epoch to send the table');
    // Newer versions under polling than any held one.
    await db.query('UPDATE counters SET version = version + 10 WHERE id <= 5');
    await streamEqualsTable('polling to send the updates');

    // Log capture possible again: poll -> log in epoch 2.
    await db.query(`ALTER ROLE "${role.name}" REPLICATION`);
    await bridge.waitForOutput(/capture method poll -> log, position epoch 2/, 'the switch back to log capture', 30_000);
    await waitFor(() => (bridge.output().match(/streaming changes/g) ?? []).length >= 2, { what: 'log capture to stream again', timeoutMs: 30_000 });
    await db.query('UPDATE counters SET version = version + 1 WHERE id = 20');
    const messages = await streamEqualsTable('the stream (latest by position) to equal the table in epoch 2', 15_000);
    expect(messages.at(-1)?.body.source.position).toMatch(/^~0002-/);
    expect(strictPositionProblems(messages, entity)).toEqual([]);
    expect(streamProblems(messages, entity)).toEqual([]);
    expect(await heldMessages()).toBe(0);
    expect(await bridge.stop()).toBe(0);
  }, 150_000);
});
