// Replication slot safety: a slot that retains more WAL than maxSlotLag makes the source
// `lagging` (/api/sources, /healthz 200 "degraded" with a warning, the status subject, a
// `slot_lagging` log line), and it is `online` again once the slot has moved on.
//
// Deterministic hold-back: an open transaction that has written WAL pins a logical slot's
// restart_lsn (decoding must be able to restart before that transaction's first record), so
// WAL written meanwhile stays retained whatever the bridge confirms. Ending the transaction and
// forcing a running-xacts record (CHECKPOINT) lets the slot advance on the bridge's next confirm.
import { describe, expect, inject, it } from 'vitest';
import { workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { crewsMapping } from '../../support/crews-mapping.ts';
import { httpConfig, requestJson, startHttpBridge } from '../../support/http.ts';
import { pgSession } from '../../support/pg-helpers.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('replication slot safety', () => {
  it('reports the source lagging while the slot retains more than maxSlotLag, online again once it moves on', async () => {
    await using db = await freshDatabase('slotlag');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query(`CREATE TABLE crews ("CREW_ID" text PRIMARY KEY, "NAME" text)`);
    await db.query(`CREATE TABLE filler (id int, pad text)`);
    await db.query(`INSERT INTO crews VALUES ('C1', 'North')`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('slotlag'),
      source: { name: 'fhwa', url: db.url, extra: 'maxSlotLag: 8MB' },
      mappings: { 'CREWS.yaml': crewsMapping('name') },
      top: httpConfig('slot-token'),
    });
    await using bridge = await startHttpBridge(setup.configPath);
    const { base } = bridge;
    const source = async (): Promise<any> => (await requestJson(`${base}/api/sources`)).body[0];
    await waitFor(async () => (await source()).slot !== undefined, { what: 'the first slot reading', timeoutMs: 20_000 });
    expect((await source()).state).toBe('online');

    // Hold the slot back: a transaction that wrote WAL stays open while 30+ MB of WAL follow.
    await using held = await pgSession(db.url);
    await held.query('BEGIN');
    await held.query(`INSERT INTO filler VALUES (0, 'held')`);
    await db.query(`INSERT INTO filler SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 30000) g`);
    const lagging = await waitFor(async () => {
      const s = await source();
      return s.state === 'lagging' ? s : false;
    }, { what: 'the source reported lagging', timeoutMs: 30_000 });
    expect(lagging.slot.retainedBytes).toBeGreaterThan(8 * 1024 ** 2);
    expect(lagging.slot.maxBytes).toBe(8 * 1024 ** 2);
    expect(lagging.reason).toMatch(new RegExp(`replication slot ${setup.slot} retains \\d+\\.\\d MiB of WAL, more than maxSlotLag 8\\.0 MiB`));
    const health = await requestJson(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', sources: { fhwa: 'lagging' }, problems: [] });
    expect(health.body.warnings[0]).toMatch(/^source fhwa is lagging: replication slot/);
    expect(bridge.output()).toMatch(/"event":"slot_lagging"/);
    // Changes still flow while lagging.
    await db.query(`UPDATE crews SET "NAME" = 'East' WHERE "CREW_ID" = 'C1'`);
    await waitFor(async () => (await readStream(natsUrl, setup.stream, `${setup.prefix}.fhwa.crew.>`)).some((m) => m.body.after?.name === 'East'), {
      what: 'a change published while lagging',
      timeoutMs: 15_000,
    });

    // Release it: the next running-xacts record and the bridge's next confirm move restart_lsn.
    await held.query('ROLLBACK');
    let n = 0;
    await waitFor(
      async () => {
        await db.query('CHECKPOINT');
        await db.query(`UPDATE crews SET "NAME" = $1 WHERE "CREW_ID" = 'C1'`, [`v${++n}`]);
        return (await source()).state === 'online';
      },
      { what: 'the source online again', timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect((await source()).slot.retainedBytes).toBeLessThanOrEqual(8 * 1024 ** 2);
    expect(bridge.output()).toMatch(/"event":"slot_caught_up"/);
    expect((await requestJson(`${base}/healthz`)).body).toMatchObject({ status: 'ok', warnings: [] });

    // The status subject carried both changes, one message each.
    const states = (await readStream(natsUrl, setup.stream, `${setup.prefix}.fhwa.status`)).map((m) => m.body.state);
    expect(states).toEqual(['online', 'lagging', 'online']);
    const lagMessage = (await readStream(natsUrl, setup.stream, `${setup.prefix}.fhwa.status`))[1]!.body;
    expect(lagMessage.reason).toMatch(/more than maxSlotLag 8\.0 MiB/);
  }, 120_000);
});
