// GET /metrics of a running bridge: envelope counters by source/entity/op, dead letters, the
// publish latency histogram, capture lag and the replication slot's retained WAL; and
// GET /api/dead-letters for the row that did not map; and what the capture reports to the
// bridge (src/metrics/observer.ts): a snapshot's progress in /api/sources, polling passes in /metrics.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess, type Workspace } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { crewsMapping } from '../../support/crews-mapping.ts';
import { httpBaseUrl, httpConfig, requestJson, startHttpBridge } from '../../support/http.ts';
import { waitFor } from '../../support/wait.ts';

/** Sample lines of the exposition text as name{labels} -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(base: string): Promise<{ text: string; values: Map<string, number> }> {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  return { text, values: samples(text) };
}

describe('GET /metrics', () => {
  it('counts envelopes by source/entity/op and dead letters, times publishes, and shows the slot lag', async () => {
    await using db = await freshDatabase('metrics');
    using ws = workspace();
    await db.query(`CREATE TABLE crews ("CREW_ID" text PRIMARY KEY, "SIZE" text)`);
    await db.query(`INSERT INTO crews SELECT 'C' || g, g::text FROM generate_series(1, 25) g`);
    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('metrics'),
      source: { name: 'fhwa', url: db.url },
      mappings: { 'CREWS.yaml': crewsMapping('size') },
      top: httpConfig('metrics-token'),
    });
    await using bridge = await startHttpBridge(setup.configPath);
    const { base } = bridge;

    // A backlog of changes: updates, deletes, inserts, and one row that does not map.
    await db.query(`UPDATE crews SET "SIZE" = (("SIZE")::int + 100)::text WHERE "CREW_ID" IN ('C1', 'C2', 'C3')`);
    await db.query(`DELETE FROM crews WHERE "CREW_ID" IN ('C4', 'C5')`);
    await db.query(`INSERT INTO crews SELECT 'N' || g, g::text FROM generate_series(1, 40) g`);
    await db.query(`INSERT INTO crews VALUES ('BAD', 'not a number <b>')`);

    const key = (op: string): string => `hms_sync_envelopes_total{source="fhwa",entity="crew",op="${op}"}`;
    const { text, values } = await waitFor(
      async () => {
        const s = await scrape(base);
        return s.values.get(key('c')) === 40 && s.values.get('hms_sync_dead_letters_total{source="fhwa",entity="crew"}') === 1 ? s : false;
      },
      { what: 'the changes counted in /metrics', timeoutMs: 20_000 },
    );
    expect(values.get(key('r'))).toBe(25);
    expect(values.get(key('u'))).toBe(3);
    expect(values.get(key('d'))).toBe(2);
    // Every envelope and the dead letter went through the publisher and got its ack timed.
    await waitFor(async () => (await scrape(base)).values.get('hms_sync_publish_latency_seconds_count{source="fhwa"}') === 25 + 3 + 2 + 40 + 1, {
      what: 'every publish acknowledged and timed',
      timeoutMs: 15_000,
    });
    expect(text).toContain('# TYPE hms_sync_publish_latency_seconds histogram');
    expect(values.get('hms_sync_source_state{source="fhwa",state="online"}')).toBe(1);
    expect(text).toContain('process_resident_memory_bytes');

    // Capture lag (commit -> ack) once a change was acknowledged; the slot's retained WAL once sampled.
    const lagged = await waitFor(
      async () => {
        const s = await scrape(base);
        const retained = s.values.get(`hms_sync_pg_slot_retained_wal_bytes{source="fhwa",slot="${setup.slot}"}`);
        return retained !== undefined && retained > 0 && s.values.has('hms_sync_capture_lag_seconds{source="fhwa"}') ? s.values : false;
      },
      { what: 'the slot lag sampled', timeoutMs: 20_000 },
    );
    expect(lagged.get('hms_sync_capture_lag_seconds{source="fhwa"}')).toBeGreaterThanOrEqual(0);
    expect(lagged.get(`hms_sync_pg_slot_unconfirmed_wal_bytes{source="fhwa",slot="${setup.slot}"}`)).toBeGreaterThanOrEqual(0);

    // /api/sources carries the slot reading too. The reading above may be one taken while the
    // snapshot ran, before the stream attached to the slot (active false then, and correctly
    // so); the slot is read every 5 s, so a reading from after the attach comes within one interval.
    const sources = await waitFor(
      async () => {
        const body = (await requestJson(`${base}/api/sources`)).body;
        return body[0]?.slot?.active === true ? body : false;
      },
      { what: 'a slot reading taken while the stream is attached', timeoutMs: 15_000 },
    );
    expect(sources[0].slot).toMatchObject({ slot: setup.slot, maxBytes: 1024 ** 3, active: true });
    expect(sources[0].slot.retainedBytes).toBeGreaterThan(0);

    // The row that did not map is listed by GET /api/dead-letters, its values as text.
    const dead = await requestJson(`${base}/api/dead-letters?limit=5`);
    expect(dead.status).toBe(200);
    expect(dead.body).toHaveLength(1);
    expect(dead.body[0]).toMatchObject({ source: 'fhwa', entity: 'crew', table: 'public.crews', op: 'c', raw: { CREW_ID: 'BAD', SIZE: 'not a number <b>' } });
    expect(dead.body[0].error).toMatch(/SIZE|size/);
    expect((await requestJson(`${base}/api/dead-letters?limit=0`)).status).toBe(400);

    // State changes carry a stable event field in the log.
    expect(bridge.output()).toMatch(/"event":"capture_method".*"capture":"log"/);
    expect(bridge.output()).toMatch(/"event":"source_state","state":"online","previous":"starting"/);
  }, 90_000);

  it('shows a running snapshot with its progress in /api/sources, and times polling passes in /metrics', async () => {
    await using db = await freshDatabase('observer');
    await db.query(`CREATE TABLE crews ("CREW_ID" text PRIMARY KEY, "SIZE" text)`);
    await db.query(`INSERT INTO crews SELECT 'C' || g, g::text FROM generate_series(1, 100000) g`);
    await db.query('ANALYZE crews');
    // A bridge on the table, started without startHttpBridge: that waits for "streaming changes",
    // which a log source prints after its snapshot and a polled source never.
    const start = async (ws: Workspace, name: string, extra: string): Promise<{ bridge: BridgeProcess; base: string }> => {
      const setup = writeBridgeFiles(ws, {
        natsUrl: inject('natsUrl'),
        id: uniqueName(name),
        source: { name: 'fhwa', url: db.url, extra },
        mappings: { 'CREWS.yaml': crewsMapping('size') },
        top: httpConfig('metrics-token'),
      });
      const bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      try {
        return { bridge, base: await httpBaseUrl(bridge) };
      } catch (error) {
        await bridge.kill();
        throw error;
      }
    };
    {
      // Log capture: the snapshot reads 100,000 rows 200 at a time (seconds), and the HTTP API
      // is up before it starts, so its progress is there to be seen while it runs.
      using logWs = workspace();
      const started = await start(logWs, 'observerlog', 'poll:\n  chunkSize: 200');
      await using bridge = started.bridge;
      const { base } = started;
      const running = await waitFor(
        async () => {
          const body = (await requestJson(`${base}/api/sources`)).body;
          return body[0]?.progress?.done > 0 ? body[0].progress : false;
        },
        { what: 'snapshot progress in /api/sources', timeoutMs: 60_000, intervalMs: 20 },
      );
      expect(running).toMatchObject({ task: 'snapshot', source: 'fhwa', table: 'public.crews' });
      expect(running.done).toBeLessThan(100_000);
      // The total is the planner's estimate (ANALYZE above), which reaches the snapshot through the observer too.
      expect(running.total).toBeGreaterThan(50_000);
      await waitFor(
        async () => {
          const body = (await requestJson(`${base}/api/sources`)).body;
          return body[0]?.progress === undefined && body[0]?.envelopes === 100_000;
        },
        { what: 'the snapshot done and its progress cleared', timeoutMs: 60_000 },
      );
    }
    // Polling: every pass ends in the pass-duration histogram (a small table: the first pass reads it all).
    await db.query(`DELETE FROM crews WHERE length("CREW_ID") > 3`);
    using pollWs = workspace();
    const polled = await start(pollWs, 'observerpoll', 'capture: poll\npoll:\n  interval: 100ms');
    await using pollBridge = polled.bridge;
    const pollBase = polled.base;
    await waitFor(async () => ((await scrape(pollBase)).values.get('hms_sync_poll_pass_duration_seconds_count{source="fhwa",kind="full"}') ?? 0) >= 2, {
      what: 'polling passes timed in /metrics',
      timeoutMs: 30_000,
    });
  }, 150_000);
});
