// Two `hms-sync run` processes with one config, a PostgreSQL log source with two tables under a
// steady load. One table is paused; the leader is SIGKILLed while it holds that table's changes;
// the standby takes over. The pause lives in NATS KV, so the table must stay paused in the new
// leader (its changes held, the other table flowing); after the resume every per-key version of
// both tables must be in the stream once, in order.
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { apiSource, httpBaseUrl, httpConfig } from '../../support/http.ts';
import { createCountersAndGauges, GAUGE_MAPPING, pausedStream, startCounterGaugeLoad, type SteadyLoad } from '../../support/pause-scenario.ts';
import { COUNTER_MAPPING, expectStreamEqualsTable } from '../../support/pg-load.ts';
import { waitFor } from '../../support/wait.ts';

const ROWS = 40;
const LEASE_WON = /"event":"lease_won"/;

describe('takeover during a pause', () => {
  it('the standby takes over a leader SIGKILLed while a table is paused; the table stays paused; resume loses nothing', async () => {
    await using db = await freshDatabase('hapause');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCountersAndGauges(db, ROWS);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('hapause'),
      source: { name: 'src', url: db.url },
      mappings: { 'COUNTERS.yaml': COUNTER_MAPPING, 'GAUGES.yaml': GAUGE_MAPPING },
      top: httpConfig(),
    });
    const counterSubjects = `${setup.prefix}.src.counter.`;
    const gaugeSubjects = `${setup.prefix}.src.gauge.`;
    const { count, grows, heldMessages, waitForHeldPurged } = pausedStream(natsUrl, setup.stream);

    const args = ['run', '-c', setup.configPath];
    const leader: BridgeProcess = startBridgeProcess(args);
    let standby: BridgeProcess | undefined;
    let load: SteadyLoad | undefined;
    try {
      await leader.waitForOutput(LEASE_WON, 'the first process to win the lease');
      await leader.waitForOutput(/streaming changes/, 'the first process to stream');
      standby = startBridgeProcess(args);
      await standby.waitForOutput(/"event":"standby"/, 'the second process to stand by');
      const standbyHttp = await httpBaseUrl(standby);

      load = startCounterGaugeLoad(db.url, ROWS, 20_000);
      await grows(counterSubjects, ROWS + 20, 'counter changes to flow');
      const paused = await runCli(['pause', '-c', setup.configPath, '--source', 'src', '--table', 'public.counters']);
      expect(paused.code).toBe(0);
      // The standby's watch sees the pause too (it is in KV, not in the leader).
      await waitFor(async () => (await apiSource<{ pausedTables?: string[] }>(standbyHttp, 'src'))?.pausedTables?.includes('public.counters') ?? false, {
        what: 'the standby to show the pause',
        timeoutMs: 5_000,
        intervalMs: 50,
      });
      await waitFor(async () => (await heldMessages()) > 20, { what: 'the leader to hold counter changes', timeoutMs: 15_000, intervalMs: 100 });
      await grows(gaugeSubjects, await count(gaugeSubjects), 'gauge changes after the pause');
      const heldAt = await count(counterSubjects);

      // SIGKILL the leader mid-load, with changes held and more arriving.
      await leader.kill();
      await standby.waitForOutput(LEASE_WON, 'the standby to win the lease', 20_000);
      await standby.waitForOutput(/public\.counters: held changes from an earlier run/, 'the new leader to find the held changes');
      await standby.waitForOutput(/streaming changes/, 'the new leader to stream');
      await grows(gaugeSubjects, (await count(gaugeSubjects)) + 30, 'gauges to flow under the new leader');
      expect(await count(counterSubjects)).toBe(heldAt);
      const held = await heldMessages();
      await waitFor(async () => (await heldMessages()) > held, { what: 'the new leader to keep holding counter changes', timeoutMs: 15_000, intervalMs: 100 });
      expect(await apiSource(standbyHttp, 'src')).toMatchObject({ state: 'online', pausedTables: ['public.counters'] });

      // Resume under load: held changes of both leaders first, in order, then live ones.
      const resumed = await runCli(['resume', '-c', setup.configPath, '--source', 'src', '--table', 'public.counters']);
      expect(resumed.code).toBe(0);
      await standby.waitForOutput(/public\.counters: held changes replayed, the table is live again/, 'the replay to finish');
      await grows(counterSubjects, await count(counterSubjects), 'live counter changes after the replay');
      await load.stop();
      load = undefined;

      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db.url);
      const all = await expectStreamEqualsTable(natsUrl, setup.stream, gaugeSubjects, db.url, 'gauges');
      // Exactly one envelope per row version: the snapshot's r is version 1.
      const counters = all.filter((m) => m.subject.startsWith(counterSubjects));
      const counterVersions = (await db.query<{ version: number }>('SELECT version FROM counters')).reduce((sum, r) => sum + r.version, 0);
      expect(counters.length).toBe(counterVersions);
      await waitForHeldPurged();
      expect(await standby.stop()).toBe(0);
    } finally {
      await load?.stop();
      await leader.kill();
      await standby?.kill();
    }
  }, 240_000);
});
