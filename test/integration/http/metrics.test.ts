// GET /metrics of a running bridge: envelope counters by source/entity/op, dead letters, the
// publish latency histogram, capture lag and the replication slot's retained WAL; and
// GET /api/dead-letters for the row that did not map.
import { describe, expect, inject, it } from 'vitest';
import { workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { crewsMapping } from '../../support/crews-mapping.ts';
import { httpConfig, requestJson, startHttpBridge } from '../../support/http.ts';
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
});
