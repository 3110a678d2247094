// MariaDB capture rides out a NATS stop and a NATS SIGKILL under load (reading the binlog is held
// back, not failed), and a MariaDB restart and crash (the attempt fails with a message naming
// the server and is retried); nothing is lost, nothing duplicated.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { startNats } from '../../support/servers.ts';
import { waitFor } from '../../support/wait.ts';
import { legacyMariadb, streamCount } from './helpers.ts';
import { COUNTER_MAPPING, createCounters, expectStreamEqualsTable, runCounterLoad } from './load.ts';

describe('nats-outage (MariaDB)', () => {
  it('waits through a NATS stop and a NATS SIGKILL under load and loses nothing', async () => {
    await using nats = await startNats();
    await using db = await legacyMariadb();
    using ws = workspace();
    await createCounters(db.rootUrl, 1_000);
    const setup = writeBridgeFiles(ws, {
      natsUrl: nats.url,
      id: uniqueName('my_natsout'),
      source: { name: 'src', kind: 'mysql', url: db.readerUrl },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const load = runCounterLoad(db.rootUrl, { rows: 1_000, transactions: 2_000, perTx: 5 });
    // 1000 snapshot rows first, then changes.
    await waitFor(async () => (await streamCount(nats.url, setup.stream)) >= 2_000, { what: '2000 messages', timeoutMs: 60_000 });
    await nats.stop();
    // Changes keep being committed while NATS is down.
    await runCounterLoad(db.rootUrl, { rows: 1_000, transactions: 50, perTx: 5 });
    await nats.start();
    await waitFor(async () => (await streamCount(nats.url, setup.stream)) >= 4_000, { what: '4000 messages', timeoutMs: 60_000 });
    await nats.kill();
    await nats.start();
    await load;
    await expectStreamEqualsTable(nats.url, setup.stream, `${setup.prefix}.src.counter.`, db.rootUrl);
    expect(bridge.output()).not.toMatch(/"level":60/);
    expect(await bridge.stop()).toBe(0);
  }, 150_000);
});

describe('mariadb-restart', () => {
  it('reconnects after MariaDB restarts (clean and SIGKILL) under load and loses nothing', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.rootUrl, 1_000);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_dbrestart'),
      source: { name: 'src', kind: 'mysql', url: db.readerUrl },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const load = runCounterLoad(db.rootUrl, { rows: 1_000, transactions: 2_000, perTx: 5 });
    await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= 2_000, { what: '2000 messages', timeoutMs: 60_000 });
    await db.server.stop();
    await db.server.start();
    await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= 4_000, { what: '4000 messages', timeoutMs: 90_000 });
    await db.server.kill();
    await db.server.start();
    await load;
    await expectStreamEqualsTable(natsUrl, setup.stream, `${setup.prefix}.src.counter.`, db.rootUrl);
    // The failed attempts named the server, and were retried.
    expect(bridge.output()).toMatch(/"msg":"mysql 127\.0\.0\.1:\d+\/legacy: [^"]+"/);
    expect(bridge.output()).toMatch(/retryInMs/);
    expect(bridge.output().match(/streaming changes/g)!.length).toBeGreaterThanOrEqual(2);
    expect(await bridge.stop()).toBe(0);
  }, 150_000);
});
