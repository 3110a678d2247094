import { describe, expect, inject, it } from 'vitest';
import { runCli, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { httpConfig, requestJson, startHttpBridge } from '../../support/http.ts';
import { createCountersAndGauges, GAUGE_MAPPING, pausedStream, startCounterGaugeLoad } from '../../support/pause-scenario.ts';
import { COUNTER_MAPPING, expectStreamEqualsTable } from '../../support/pg-load.ts';
import { waitFor } from '../../support/wait.ts';

const ROWS = 40;
const TOKEN = 'pause-token';

describe('pause and resume', () => {
  it('a paused table of a log source holds its changes (also across a restart) while the other flows; resume delivers all in order', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    const id = uniqueName('pause');
    await createCountersAndGauges(db, ROWS);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id,
      source: { name: 'fhwa', url: db.url },
      mappings: { 'COUNTERS.yaml': COUNTER_MAPPING, 'GAUGES.yaml': GAUGE_MAPPING },
      top: httpConfig(TOKEN),
    });
    const counterSubjects = `${setup.prefix}.fhwa.counter.`;
    const gaugeSubjects = `${setup.prefix}.fhwa.gauge.`;
    const { count, grows, waitForHeldPurged } = pausedStream(natsUrl, setup.stream);

    let bridge = await startHttpBridge(setup.configPath);
    try {
      const load = startCounterGaugeLoad(db.url, ROWS);
      await grows(counterSubjects, ROWS + 20, 'counter changes to flow');

      // Pause one table from the CLI, in another process.
      const paused = await runCli(['pause', '-c', setup.configPath, '--source', 'fhwa', '--table', 'public.counters']);
      expect(paused.stderr).toBe('');
      expect(paused.code).toBe(0);
      expect(paused.stdout).toMatch(/paused table public\.counters of source fhwa/);
      await waitFor(async () => {
        const r = await requestJson(`${bridge.base}/api/sources`);
        return r.body[0]?.pausedTables?.includes('public.counters') ? true : false;
      }, { what: '/api/sources to show the pause', timeoutMs: 5_000, intervalMs: 50 });
      // Whatever was in flight when the pause arrived is through once later gauge changes are.
      await grows(gaugeSubjects, await count(gaugeSubjects), 'gauge changes after the pause');
      const heldAt = await count(counterSubjects);
      await grows(gaugeSubjects, (await count(gaugeSubjects)) + 30, 'gauges to keep flowing');
      expect(await count(counterSubjects)).toBe(heldAt);
      const sources = await requestJson(`${bridge.base}/api/sources`);
      expect(sources.body[0]).toMatchObject({ name: 'fhwa', paused: false, pausedTables: ['public.counters'], state: 'online' });

      // Restart while paused: the pause is read back from NATS, the held changes stay held.
      expect(await bridge.stop()).toBe(0);
      bridge = await startHttpBridge(setup.configPath, 'the restarted bridge');
      await grows(gaugeSubjects, (await count(gaugeSubjects)) + 30, 'gauges to flow after the restart');
      expect(await count(counterSubjects)).toBe(heldAt);
      expect((await requestJson(`${bridge.base}/api/sources`)).body[0].pausedTables).toEqual(['public.counters']);

      // Resume under load: the held changes come first, then the live ones, in order.
      const resumed = await runCli(['resume', '-c', setup.configPath, '--source', 'fhwa', '--table', 'public.counters']);
      expect(resumed.code).toBe(0);
      await grows(counterSubjects, heldAt, 'counter changes after the resume');
      await bridge.waitForOutput(/public\.counters: held changes replayed, the table is live again/, 'the replay to finish');
      await grows(counterSubjects, await count(counterSubjects), 'live counter changes after the replay');
      await load.stop();

      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db.url);
      await expectStreamEqualsTable(natsUrl, setup.stream, gaugeSubjects, db.url, 'gauges');
      // The held changes are purged once their envelopes are acknowledged.
      await waitForHeldPurged();

      // The HTTP API: token required, unknown source 404, unknown table 400 naming it.
      expect((await requestJson(`${bridge.base}/api/sources/fhwa/pause`, { method: 'POST', json: {} })).status).toBe(401);
      expect((await requestJson(`${bridge.base}/api/sources/nope/pause`, { method: 'POST', json: {}, token: TOKEN })).status).toBe(404);
      const unknownTable = await requestJson(`${bridge.base}/api/sources/fhwa/pause`, { method: 'POST', json: { table: 'public.nope' }, token: TOKEN });
      expect(unknownTable.status).toBe(400);
      expect(unknownTable.body.error).toMatch(/unknown table "public\.nope"/);
      const cliUnknown = await runCli(['pause', '-c', setup.configPath, '--source', 'fhwa', '--table', 'public.nope']);
      expect(cliUnknown.code).toBe(2);
      expect(cliUnknown.stderr).toMatch(/unknown table "public\.nope"/);

      // Pause the whole source over HTTP: capture stops (the slot goes inactive), nothing is published.
      const whole = await requestJson(`${bridge.base}/api/sources/fhwa/pause`, { method: 'POST', token: TOKEN });
      expect(whole).toMatchObject({ status: 200, body: { source: 'fhwa', paused: true, pausedTables: [] } });
      await bridge.waitForOutput(/source fhwa paused/, 'capture to stop');
      await waitFor(async () => {
        const rows = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [setup.slot]);
        return rows[0]?.active === false;
      }, { what: 'the slot to go inactive', timeoutMs: 15_000, intervalMs: 100 });
      const before = await count(counterSubjects);
      await db.query('UPDATE counters SET version = version + 1 WHERE id <= 5');
      await db.query('UPDATE gauges SET version = version + 1 WHERE id <= 5');
      expect((await requestJson(`${bridge.base}/api/sources`)).body[0]).toMatchObject({ paused: true });
      expect(await count(counterSubjects)).toBe(before);
      const resumedSource = await requestJson(`${bridge.base}/api/sources/fhwa/resume`, { method: 'POST', token: TOKEN });
      expect(resumedSource.body).toMatchObject({ paused: false, pausedTables: [] });
      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db.url);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 240_000);
});
