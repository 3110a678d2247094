// The bridge rides out a NATS outage and a PostgreSQL restart under load, and drains on SIGTERM.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters, expectStreamEqualsTable, runCounterLoad, streamCount } from '../../support/pg-load.ts';
import { startNats, startPostgres } from '../../support/servers.ts';
import { waitFor } from '../../support/wait.ts';

describe('nats-outage', () => {
  it('waits through a NATS stop and a NATS SIGKILL under load and loses nothing', async () => {
    await using nats = await startNats();
    await using db = await freshDatabase('natsout');
    using ws = workspace();
    await createCounters(db.url, 1_000);
    const setup = writeBridgeFiles(ws, { natsUrl: nats.url, id: uniqueName('natsout'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const load = runCounterLoad(db.url, { rows: 1_000, transactions: 800, perTx: 5 });
    await waitFor(async () => (await streamCount(nats.url, setup.stream)) >= 1_500, { what: '1500 messages', timeoutMs: 60_000 });
    await nats.stop();
    // Capture is held back, not failed: changes keep being committed meanwhile.
    await runCounterLoad(db.url, { rows: 1_000, transactions: 50, perTx: 5 });
    await nats.start();
    await waitFor(async () => (await streamCount(nats.url, setup.stream)) >= 3_000, { what: '3000 messages', timeoutMs: 60_000 });
    await nats.kill();
    await nats.start();
    await load;
    await expectStreamEqualsTable(nats.url, setup.stream, `${setup.prefix}.src.counter.`, db.url);
    expect(bridge.output()).not.toMatch(/"level":60/); // no fatal
    expect(await bridge.stop()).toBe(0);
  }, 240_000);
});

describe('postgres-restart', () => {
  it('reconnects after PostgreSQL restarts (clean and SIGKILL) under load and loses nothing', async () => {
    await using server = await startPostgres();
    const dbUrl = await server.createDatabase('legacy');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(dbUrl, 1_000);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('pgrestart'), source: { name: 'src', url: dbUrl }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const load = runCounterLoad(dbUrl, { rows: 1_000, transactions: 600, perTx: 5 });
    await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= 1_500, { what: '1500 messages', timeoutMs: 60_000 });
    await server.stop();
    await server.start();
    await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= 2_500, { what: '2500 messages', timeoutMs: 90_000 });
    await server.kill();
    await server.start();
    await load;
    await expectStreamEqualsTable(natsUrl, setup.stream, `${setup.prefix}.src.counter.`, dbUrl);
    expect(bridge.output()).toMatch(/postgres 127\.0\.0\.1:\d+\/legacy/); // the failure named the server
    expect(await bridge.stop()).toBe(0);
  }, 240_000);
});

describe('sigterm-drain', () => {
  it('drains, confirms the slot position and exits 0 on SIGTERM', async () => {
    await using db = await freshDatabase('drain');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 500);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('drain'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    const bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    await runCounterLoad(db.url, { rows: 500, transactions: 200, perTx: 5 });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const lastCommit = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    await expectStreamEqualsTable(natsUrl, setup.stream, `${setup.prefix}.src.counter.`, db.url);
    expect(await bridge.stop()).toBe(0);
    expect(bridge.output()).toMatch(/draining/);
    const slot = await client.query<{ confirmed: string; active: boolean; behind: string }>(
      `SELECT confirmed_flush_lsn::text AS confirmed, active, (confirmed_flush_lsn >= $2::pg_lsn)::text AS behind FROM pg_replication_slots WHERE slot_name = $1`,
      [setup.slot, lastCommit],
    );
    await client.end();
    // Every change up to the last commit is in JetStream, so the slot was confirmed past it.
    expect(slot.rows[0]!.behind).toBe('true');
  }, 120_000);
});
