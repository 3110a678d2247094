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
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { lastWriteWinsDifferences, strictPositionProblems } from '../../support/method-switch.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { readStream, streamProblems, withNats, type StoredMessage } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

interface Load {
  count(): number;
  /** Resolves once `max` statements ran (or the load was stopped). */
  finished: Promise<number>;
  stop(): Promise<number>;
}

/** Inserts, updates (and deletes, if asked) on counters until stopped; bounded by `max` statements. */
function startLoad(url: string, options: { firstId: number; max: number; deletes: boolean }): Load {
  let stopped = false;
  let n = 0;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let next = options.firstId;
    try {
      while (!stopped && n < options.max) {
        const r = Math.random();
        if (r < 0.4) await client.query(`INSERT INTO counters VALUES ($1, 1, $2)`, [next, `new ${next++}`]);
        else if (r < 0.8 || !options.deletes) await client.query(`UPDATE counters SET version = version + 1 WHERE id = (SELECT id FROM counters ORDER BY random() LIMIT 1)`);
        else await client.query(`DELETE FROM counters WHERE id = (SELECT id FROM counters ORDER BY random() LIMIT 1)`);
        n += 1;
        // Pacing of the load generator, not a wait for a condition.
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    } finally {
      await client.end();
    }
    return n;
  })();
  return {
    count: () => n,
    finished: done,
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

async function tableRows(url: string, entity: string): Promise<Map<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number; version: number; payload: string }>('SELECT id, version, payload FROM counters');
    return new Map(rows.map((r) => [entity + r.id, { id: r.id, version: r.version, payload: r.payload }]));
  } finally {
    await client.end();
  }
}

describe('capture: auto falls back from log capture to polling', () => {
  it('PostgreSQL: REPLICATION revoked and the walsender terminated -> polling in epoch 1, the stream still ends equal to the table', async () => {
    await using db = await freshDatabase('logtopoll');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 40);
    const role = await db.createRole('repl', 'REPLICATION');
    await db.query(`GRANT SELECT ON counters TO "${role.name}"`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('logtopoll'),
      source: { name: 'src', url: role.url, extra: 'capture: auto\npoll: { interval: 200ms, debounce: 0ms, recheck: 1s }' },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE counters`);
    const entity = `${setup.prefix}.src.counter.`;
    const streamEqualsTable = async (what: string): Promise<StoredMessage[]> => {
      const table = await tableRows(db.url, entity);
      let difference: string[] = [];
      return waitFor(
        async () => {
          const all = await readStream(natsUrl, setup.stream, `${entity}>`);
          difference = lastWriteWinsDifferences(all, entity, table);
          return difference.length === 0 ? all : false;
        },
        { what, timeoutMs: 30_000, intervalMs: 500 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${difference.length} differences, e.g.\n${difference.slice(0, 5).join('\n')}\n--- bridge ---\n${bridge.output().slice(-3000)}`);
      });
    };

    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/capture method log \(the server and the account allow log capture\)/, 'log capture');
    await bridge.waitForOutput(/streaming changes/, 'log capture to stream');

    // Phase 1, log capture: inserts, updates and deletes.
    const first = startLoad(db.url, { firstId: 1000, max: 150, deletes: true });
    expect(await first.finished).toBe(150);
    await streamEqualsTable('the stream to equal the table under log capture');

    // Phase 2: the account loses REPLICATION while inserts and updates go on.
    const second = startLoad(db.url, { firstId: 2000, max: 1500, deletes: false });
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
    const third = startLoad(db.url, { firstId: 5000, max: 150, deletes: true });
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
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 20);
    const role = await db.createRole('repl', 'REPLICATION');
    await db.query(`GRANT SELECT ON counters TO "${role.name}"`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('logpolllog'),
      source: { name: 'src', url: role.url, extra: 'capture: auto\npoll: { interval: 200ms, debounce: 0ms, recheck: 1s }' },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE counters`);
    const entity = `${setup.prefix}.src.counter.`;
    const heldMessages = (): Promise<number> =>
      withNats(natsUrl, async (nc) => (await (await jetstreamManager(nc)).streams.info(`${setup.stream}_HELD`).catch(() => undefined))?.state.messages ?? 0);
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    const streamEqualsTable = async (what: string, timeoutMs = 30_000): Promise<StoredMessage[]> => {
      const table = await tableRows(db.url, entity);
      let difference: string[] = [];
      return waitFor(
        async () => {
          const all = await readStream(natsUrl, setup.stream, `${entity}>`);
          difference = lastWriteWinsDifferences(all, entity, table);
          return difference.length === 0 ? all : false;
        },
        { what, timeoutMs, intervalMs: 300 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${difference.length} differences, e.g.\n${difference.slice(0, 5).join('\n')}\n--- bridge ---\n${bridge.output().slice(-3000)}`);
      });
    };
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
