// Two `hms-sync run` processes with one config, a PostgreSQL log source with two tables under a
// steady load. One table is paused; the leader is SIGKILLed while it holds that table's changes;
// the standby takes over. The pause lives in NATS KV, so the table must stay paused in the new
// leader (its changes held, the other table flowing); after the resume every per-key version of
// both tables must be in the stream once, in order.
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { httpBaseUrl, requestJson } from '../../support/http.ts';
import { COUNTER_MAPPING, createCounters, expectStreamEqualsTable, versionProblems } from '../../support/pg-load.ts';
import { liveRows, readStream, streamProblems, withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const GAUGE_MAPPING = `
table: public.gauges
entity: gauge
fields:
  id:      { from: id, type: integer }
  version: { from: version, type: integer }
`;

const ROWS = 40;
const LEASE_WON = /"event":"lease_won"/;

/** Updates both tables, one transaction each, until stopped (bounded). */
function startLoad(url: string): { stop: () => Promise<number> } {
  let stopped = false;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let transactions = 0;
    try {
      while (!stopped && transactions < 20_000) {
        const ids = Array.from({ length: 3 }, () => 1 + Math.floor(Math.random() * ROWS));
        await client.query('UPDATE counters SET version = version + 1 WHERE id = ANY($1::int[])', [ids]);
        await client.query('UPDATE gauges SET version = version + 1 WHERE id = ANY($1::int[])', [ids]);
        transactions += 2;
        // Pacing of the load generator, not a wait for a condition.
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await client.end();
    }
    return transactions;
  })();
  return {
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

describe('takeover during a pause', () => {
  it('the standby takes over a leader SIGKILLed while a table is paused; the table stays paused; resume loses nothing', async () => {
    await using db = await freshDatabase('hapause');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, ROWS);
    await db.query(`CREATE TABLE gauges (id integer PRIMARY KEY, version integer NOT NULL)`);
    await db.query(`INSERT INTO gauges SELECT g, 1 FROM generate_series(1, ${ROWS}) g`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('hapause'),
      source: { name: 'src', url: db.url },
      mappings: { 'COUNTERS.yaml': COUNTER_MAPPING, 'GAUGES.yaml': GAUGE_MAPPING },
      top: 'http: { host: 127.0.0.1, port: 0 }',
    });
    const counterSubjects = `${setup.prefix}.src.counter.`;
    const gaugeSubjects = `${setup.prefix}.src.gauge.`;
    const count = async (prefix: string): Promise<number> => (await readStream(natsUrl, setup.stream, `${prefix}>`)).length;
    const grows = async (prefix: string, beyond: number, what: string): Promise<number> =>
      waitFor(async () => {
        const n = await count(prefix);
        return n > beyond ? n : false;
      }, { what, timeoutMs: 30_000, intervalMs: 200 });
    const heldMessages = (): Promise<number> =>
      withNats(natsUrl, async (nc) => (await (await jetstreamManager(nc)).streams.info(`${setup.stream}_HELD`).catch(() => undefined))?.state.messages ?? 0);

    const args = ['run', '-c', setup.configPath];
    const leader: BridgeProcess = startBridgeProcess(args);
    let standby: BridgeProcess | undefined;
    let load: { stop: () => Promise<number> } | undefined;
    try {
      await leader.waitForOutput(LEASE_WON, 'the first process to win the lease');
      await leader.waitForOutput(/streaming changes/, 'the first process to stream');
      standby = startBridgeProcess(args);
      await standby.waitForOutput(/"event":"standby"/, 'the second process to stand by');
      const standbyHttp = await httpBaseUrl(standby);

      load = startLoad(db.url);
      await grows(counterSubjects, ROWS + 20, 'counter changes to flow');
      const paused = await runCli(['pause', '-c', setup.configPath, '--source', 'src', '--table', 'public.counters']);
      expect(paused.code).toBe(0);
      // The standby's watch sees the pause too (it is in KV, not in the leader).
      await waitFor(async () => {
        const r = await requestJson<Array<{ name: string; pausedTables?: string[] }>>(`${standbyHttp}/api/sources`);
        return r.body.find((s) => s.name === 'src')?.pausedTables?.includes('public.counters') ?? false;
      }, { what: 'the standby to show the pause', timeoutMs: 5_000, intervalMs: 50 });
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
      const view = await requestJson<Array<{ name: string; state: string; pausedTables: string[] }>>(`${standbyHttp}/api/sources`);
      expect(view.body.find((s) => s.name === 'src')).toMatchObject({ state: 'online', pausedTables: ['public.counters'] });

      // Resume under load: held changes of both leaders first, in order, then live ones.
      const resumed = await runCli(['resume', '-c', setup.configPath, '--source', 'src', '--table', 'public.counters']);
      expect(resumed.code).toBe(0);
      await standby.waitForOutput(/public\.counters: held changes replayed, the table is live again/, 'the replay to finish');
      await grows(counterSubjects, await count(counterSubjects), 'live counter changes after the replay');
      await load.stop();
      load = undefined;

      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db.url);
      const gauges = new Map((await db.query<{ id: number; version: number }>('SELECT id, version FROM gauges')).map((r) => [r.id, r.version]));
      const all = await waitFor(async () => {
        const messages = await readStream(natsUrl, setup.stream);
        const live = liveRows(messages, gaugeSubjects);
        return [...gauges].every(([key, version]) => live.get(gaugeSubjects + key)?.version === version) ? messages : false;
      }, { what: 'the gauges in the stream to equal the table', timeoutMs: 60_000, intervalMs: 500 });
      expect(streamProblems(all, gaugeSubjects)).toEqual([]);
      expect(versionProblems(all, gaugeSubjects)).toEqual([]);
      // Exactly one envelope per row version: the snapshot's r is version 1.
      const counters = all.filter((m) => m.subject.startsWith(counterSubjects));
      const counterVersions = (await db.query<{ version: number }>('SELECT version FROM counters')).reduce((sum, r) => sum + r.version, 0);
      expect(counters.length).toBe(counterVersions);
      await waitFor(async () => (await heldMessages()) === 0, { what: 'the holding stream to be purged', timeoutMs: 15_000, intervalMs: 200 });
      expect(await standby.stop()).toBe(0);
    } finally {
      await load?.stop();
      await leader.kill();
      await standby?.kill();
    }
  }, 240_000);
});
