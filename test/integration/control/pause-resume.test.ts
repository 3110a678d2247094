import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
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
const TOKEN = 'pause-token';

/** Updates both tables, one transaction each, until stopped: a bounded, steady load. */
function startLoad(url: string): { stop: () => Promise<number> } {
  let stopped = false;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let transactions = 0;
    try {
      while (!stopped) {
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

async function gaugeVersions(url: string): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number; version: number }>('SELECT id, version FROM gauges');
    return new Map(rows.map((r) => [r.id, r.version]));
  } finally {
    await client.end();
  }
}

describe('pause and resume', () => {
  it('a paused table of a log source holds its changes (also across a restart) while the other flows; resume delivers all in order', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    const id = uniqueName('pause');
    await createCounters(db.url, ROWS);
    await db.query(`CREATE TABLE gauges (id integer PRIMARY KEY, version integer NOT NULL)`);
    await db.query(`INSERT INTO gauges SELECT g, 1 FROM generate_series(1, ${ROWS}) g`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id,
      source: { name: 'fhwa', url: db.url },
      mappings: { 'COUNTERS.yaml': COUNTER_MAPPING, 'GAUGES.yaml': GAUGE_MAPPING },
      top: `http: { host: 127.0.0.1, port: 0, token: ${TOKEN} }`,
    });
    const counterSubjects = `${setup.prefix}.fhwa.counter.`;
    const gaugeSubjects = `${setup.prefix}.fhwa.gauge.`;
    const count = async (prefix: string): Promise<number> => (await readStream(natsUrl, setup.stream, `${prefix}>`)).length;
    const grows = async (prefix: string, beyond: number, what: string): Promise<number> =>
      waitFor(async () => {
        const n = await count(prefix);
        return n > beyond ? n : false;
      }, { what, timeoutMs: 30_000, intervalMs: 200 });

    let bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      let base = await httpBaseUrl(bridge);
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      const load = startLoad(db.url);
      await grows(counterSubjects, ROWS + 20, 'counter changes to flow');

      // Pause one table from the CLI, in another process.
      const paused = await runCli(['pause', '-c', setup.configPath, '--source', 'fhwa', '--table', 'public.counters']);
      expect(paused.stderr).toBe('');
      expect(paused.code).toBe(0);
      expect(paused.stdout).toMatch(/paused table public\.counters of source fhwa/);
      await waitFor(async () => {
        const r = await requestJson(`${base}/api/sources`);
        return r.body[0]?.pausedTables?.includes('public.counters') ? true : false;
      }, { what: '/api/sources to show the pause', timeoutMs: 5_000, intervalMs: 50 });
      // Whatever was in flight when the pause arrived is through once later gauge changes are.
      await grows(gaugeSubjects, await count(gaugeSubjects), 'gauge changes after the pause');
      const heldAt = await count(counterSubjects);
      await grows(gaugeSubjects, (await count(gaugeSubjects)) + 30, 'gauges to keep flowing');
      expect(await count(counterSubjects)).toBe(heldAt);
      const sources = await requestJson(`${base}/api/sources`);
      expect(sources.body[0]).toMatchObject({ name: 'fhwa', paused: false, pausedTables: ['public.counters'], state: 'online' });

      // Restart while paused: the pause is read back from NATS, the held changes stay held.
      expect(await bridge.stop()).toBe(0);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      base = await httpBaseUrl(bridge);
      await bridge.waitForOutput(/streaming changes/, 'the restarted bridge to stream');
      await grows(gaugeSubjects, (await count(gaugeSubjects)) + 30, 'gauges to flow after the restart');
      expect(await count(counterSubjects)).toBe(heldAt);
      expect((await requestJson(`${base}/api/sources`)).body[0].pausedTables).toEqual(['public.counters']);

      // Resume under load: the held changes come first, then the live ones, in order.
      const resumed = await runCli(['resume', '-c', setup.configPath, '--source', 'fhwa', '--table', 'public.counters']);
      expect(resumed.code).toBe(0);
      await grows(counterSubjects, heldAt, 'counter changes after the resume');
      await bridge.waitForOutput(/public\.counters: held changes replayed, the table is live again/, 'the replay to finish');
      await grows(counterSubjects, await count(counterSubjects), 'live counter changes after the replay');
      await load.stop();

      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db.url);
      const gauges = await gaugeVersions(db.url);
      const all = await waitFor(async () => {
        const messages = await readStream(natsUrl, setup.stream);
        const live = liveRows(messages, gaugeSubjects);
        return [...gauges].every(([key, version]) => live.get(gaugeSubjects + key)?.version === version) ? messages : false;
      }, { what: 'the gauges in the stream to equal the table', timeoutMs: 60_000, intervalMs: 500 });
      expect(streamProblems(all, gaugeSubjects)).toEqual([]);
      expect(versionProblems(all, gaugeSubjects)).toEqual([]);
      // The held changes are purged once their envelopes are acknowledged.
      await waitFor(
        () => withNats(natsUrl, async (nc) => ((await (await jetstreamManager(nc)).streams.info(`${setup.stream}_HELD`)).state.messages === 0)),
        { what: 'the holding stream to be purged', timeoutMs: 15_000, intervalMs: 200 },
      );

      // The HTTP API: token required, unknown source 404, unknown table 400 naming it.
      expect((await requestJson(`${base}/api/sources/fhwa/pause`, { method: 'POST', json: {} })).status).toBe(401);
      expect((await requestJson(`${base}/api/sources/nope/pause`, { method: 'POST', json: {}, token: TOKEN })).status).toBe(404);
      const unknownTable = await requestJson(`${base}/api/sources/fhwa/pause`, { method: 'POST', json: { table: 'public.nope' }, token: TOKEN });
      expect(unknownTable.status).toBe(400);
      expect(unknownTable.body.error).toMatch(/unknown table "public\.nope"/);
      const cliUnknown = await runCli(['pause', '-c', setup.configPath, '--source', 'fhwa', '--table', 'public.nope']);
      expect(cliUnknown.code).toBe(2);
      expect(cliUnknown.stderr).toMatch(/unknown table "public\.nope"/);

      // Pause the whole source over HTTP: capture stops (the slot goes inactive), nothing is published.
      const whole = await requestJson(`${base}/api/sources/fhwa/pause`, { method: 'POST', token: TOKEN });
      expect(whole).toMatchObject({ status: 200, body: { source: 'fhwa', paused: true, pausedTables: [] } });
      await bridge.waitForOutput(/source fhwa paused/, 'capture to stop');
      await waitFor(async () => {
        const rows = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [setup.slot]);
        return rows[0]?.active === false;
      }, { what: 'the slot to go inactive', timeoutMs: 15_000, intervalMs: 100 });
      const before = await count(counterSubjects);
      await db.query('UPDATE counters SET version = version + 1 WHERE id <= 5');
      await db.query('UPDATE gauges SET version = version + 1 WHERE id <= 5');
      expect((await requestJson(`${base}/api/sources`)).body[0]).toMatchObject({ paused: true });
      expect(await count(counterSubjects)).toBe(before);
      const resumedSource = await requestJson(`${base}/api/sources/fhwa/resume`, { method: 'POST', token: TOKEN });
      expect(resumedSource.body).toMatchObject({ paused: false, pausedTables: [] });
      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db.url);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 240_000);
});
