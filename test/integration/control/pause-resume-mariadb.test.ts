// Pause and resume with a MariaDB binlog source (test/integration/control/pause-resume.test.ts
// is the PostgreSQL twin): one table paused from the CLI under a steady load while the other
// keeps flowing, the bridge restarted while paused, the table resumed under load; then the whole
// source paused and resumed. Every per-key version of both tables must arrive once, in order.
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { pausedStream, startSteadyLoad, versionMapping, type SteadyLoad } from '../../support/pause-scenario.ts';
import { versionProblems } from '../../support/pg-load.ts';
import { liveRows, readStream, streamProblems, type StoredMessage } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { legacyMariadb, mysqlSession, type LegacyMariadb } from '../mysql/helpers.ts';

const COUNTER_MAPPING = versionMapping('legacy.counters', 'counter');
const GAUGE_MAPPING = versionMapping('legacy.gauges', 'gauge');

const ROWS = 40;

/** Updates both tables, one transaction each, until stopped: a bounded, steady load. */
function startLoad(url: string): SteadyLoad {
  return startSteadyLoad(
    () => mysqlSession(url),
    async (session) => {
      const ids = Array.from({ length: 3 }, () => 1 + Math.floor(Math.random() * ROWS));
      await session.query('UPDATE counters SET version = version + 1 WHERE id IN (?)', [ids]);
      await session.query('UPDATE gauges SET version = version + 1 WHERE id IN (?)', [ids]);
      return 2;
    },
    20_000,
  );
}

async function versions(db: LegacyMariadb, table: string): Promise<Map<number, number>> {
  const rows = await db.query<Array<{ id: number; version: number }>>(`SELECT id, version FROM ${table}`);
  return new Map(rows.map((r) => [r.id, r.version]));
}

/** Waits until the stream's latest version per key equals the table's; then checks ids, positions and versions. */
async function expectStreamEqualsTable(natsUrl: string, stream: string, entity: string, db: LegacyMariadb, table: string): Promise<StoredMessage[]> {
  const expected = await versions(db, table);
  let last = '';
  const messages = await waitFor(
    async () => {
      const all = await readStream(natsUrl, stream);
      const live = liveRows(all, entity);
      const wrong = [...expected].filter(([id, version]) => live.get(entity + id)?.version !== version);
      last = `${wrong.length} of ${expected.size} ${table} rows differ, e.g. ${JSON.stringify(wrong.slice(0, 3).map(([id, v]) => [id, v, live.get(entity + id)]))}`;
      return wrong.length === 0 && live.size === expected.size ? all : false;
    },
    { what: `the stream to equal ${table}`, timeoutMs: 60_000, intervalMs: 500 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${last}`);
  });
  expect(streamProblems(messages, entity)).toEqual([]);
  expect(versionProblems(messages, entity)).toEqual([]);
  return messages;
}

describe('pause and resume (MariaDB binlog source)', () => {
  it('a paused table holds its changes (also across a restart) while the other flows; resume delivers all in order', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query('CREATE TABLE counters (id int PRIMARY KEY, version int NOT NULL)');
    await db.query('CREATE TABLE gauges (id int PRIMARY KEY, version int NOT NULL)');
    await db.query(`INSERT INTO counters SELECT seq, 1 FROM seq_1_to_${ROWS}`);
    await db.query(`INSERT INTO gauges SELECT seq, 1 FROM seq_1_to_${ROWS}`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_pause'),
      source: { name: 'fhwa', kind: 'mysql', url: db.readerUrl },
      mappings: { 'COUNTERS.yaml': COUNTER_MAPPING, 'GAUGES.yaml': GAUGE_MAPPING },
    });
    const counterSubjects = `${setup.prefix}.fhwa.counter.`;
    const gaugeSubjects = `${setup.prefix}.fhwa.gauge.`;
    const { count, grows, heldMessages, waitForHeldPurged } = pausedStream(natsUrl, setup.stream);

    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    let load: SteadyLoad | undefined;
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      load = startLoad(db.rootUrl);
      await grows(counterSubjects, ROWS + 20, 'counter changes to flow');

      // Pause one table from the CLI, in another process.
      const paused = await runCli(['pause', '-c', setup.configPath, '--source', 'fhwa', '--table', 'legacy.counters']);
      expect(paused.stderr).toBe('');
      expect(paused.code).toBe(0);
      expect(paused.stdout).toMatch(/paused table legacy\.counters of source fhwa/);
      // Whatever was in flight when the pause arrived is through once the holding stream
      // grows and later gauge changes are through.
      await waitFor(async () => (await heldMessages()) > 0, { what: 'counter changes to be held', timeoutMs: 15_000, intervalMs: 100 });
      await grows(gaugeSubjects, await count(gaugeSubjects), 'gauge changes after the pause');
      const heldAt = await count(counterSubjects);
      await grows(gaugeSubjects, (await count(gaugeSubjects)) + 30, 'gauges to keep flowing');
      expect(await count(counterSubjects)).toBe(heldAt);

      // Restart while paused: the pause is read back from NATS, the held changes stay held.
      expect(await bridge.stop()).toBe(0);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/legacy\.counters: held changes from an earlier run/, 'the restarted bridge to find the held changes');
      await bridge.waitForOutput(/streaming changes/, 'the restarted bridge to stream');
      await grows(gaugeSubjects, (await count(gaugeSubjects)) + 30, 'gauges to flow after the restart');
      expect(await count(counterSubjects)).toBe(heldAt);

      // Resume under load: the held changes come first, then the live ones, in order.
      const resumed = await runCli(['resume', '-c', setup.configPath, '--source', 'fhwa', '--table', 'legacy.counters']);
      expect(resumed.code).toBe(0);
      await grows(counterSubjects, heldAt, 'counter changes after the resume');
      await bridge.waitForOutput(/legacy\.counters: held changes replayed, the table is live again/, 'the replay to finish');
      await grows(counterSubjects, await count(counterSubjects), 'live counter changes after the replay');
      await load.stop();
      load = undefined;

      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db, 'counters');
      await expectStreamEqualsTable(natsUrl, setup.stream, gaugeSubjects, db, 'gauges');
      // The held changes are purged once their envelopes are acknowledged.
      await waitForHeldPurged();

      // Resumed while no bridge runs: the next bridge replays the held changes at its start,
      // before anything else of that table (they used to be skipped there, then purged unsent).
      expect((await runCli(['pause', '-c', setup.configPath, '--source', 'fhwa', '--table', 'legacy.counters'])).code).toBe(0);
      await db.query('UPDATE counters SET version = version + 1 WHERE id <= 10');
      await db.query('DELETE FROM counters WHERE id = 39');
      // The pause reaches the bridge within milliseconds; changes made before it are live.
      await waitFor(
        async () => {
          if ((await heldMessages()) >= 11) return true;
          await db.query('UPDATE counters SET version = version + 1 WHERE id <= 10');
          return false;
        },
        { what: 'counter changes to be held again', timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(await bridge.stop()).toBe(0);
      const heldWhileDown = await heldMessages();
      expect(heldWhileDown).toBeGreaterThanOrEqual(10);
      expect((await runCli(['resume', '-c', setup.configPath, '--source', 'fhwa', '--table', 'legacy.counters'])).code).toBe(0);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/legacy\.counters: held changes replayed, the table is live again/, 'the replay at start');
      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db, 'counters');
      await waitForHeldPurged('the holding stream to be purged again');

      // The whole source paused: capture stops, nothing is published; resume delivers it all.
      const whole = await runCli(['pause', '-c', setup.configPath, '--source', 'fhwa']);
      expect(whole.code).toBe(0);
      await bridge.waitForOutput(/source fhwa paused/, 'capture to stop');
      const before = (await readStream(natsUrl, setup.stream)).length;
      await db.query('UPDATE counters SET version = version + 1 WHERE id <= 5');
      await db.query('UPDATE gauges SET version = version + 1 WHERE id <= 5');
      await db.query('DELETE FROM counters WHERE id = 40');
      // The bridge waits for the resume without reading the binlog: the stream stays still
      // while a later change, made after those, shows a paused source has nothing in flight.
      await waitFor(async () => /source fhwa is paused: capture waits for resume/.test(bridge.output()) || /"event":"source_paused"/.test(bridge.output()), {
        what: 'the bridge to report the pause',
        timeoutMs: 10_000,
      });
      expect((await readStream(natsUrl, setup.stream)).length).toBe(before);
      const resumedSource = await runCli(['resume', '-c', setup.configPath, '--source', 'fhwa']);
      expect(resumedSource.code).toBe(0);
      await expectStreamEqualsTable(natsUrl, setup.stream, counterSubjects, db, 'counters');
      await expectStreamEqualsTable(natsUrl, setup.stream, gaugeSubjects, db, 'gauges');
      const all = await readStream(natsUrl, setup.stream, `${counterSubjects}40`);
      expect(all.at(-1)?.body.op).toBe('d');
      expect(await bridge.stop()).toBe(0);
    } finally {
      await load?.stop();
      await bridge.kill();
    }
  }, 240_000);
});
