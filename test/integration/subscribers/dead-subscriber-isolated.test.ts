import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { workspace } from '../../support/bridge.ts';
import { requestJson } from '../../support/http.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { deadEndpoint, startSubscriberBridge, webhookReceiver } from './helpers.ts';

describe('two subscribers, one dead', () => {
  it('the live one gets every change while the dead one is still retrying; the dead one dead-letters after maxAttempts', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using live = await webhookReceiver();
    const dead = await deadEndpoint();
    await db.query(`CREATE TABLE crews ("CREW_ID" char(6) PRIMARY KEY, "NAME" text, "SIZE" integer)`);
    const subscribers = [
      'subscribers:',
      `  - { id: live, type: webhook, endpoint: "${live.url}", topics: [crew], heartbeat: 200ms }`,
      `  - { id: gone, type: webhook, endpoint: "${dead}", topics: ["*"], maxAttempts: 3, heartbeat: 200ms, timeout: 1s, backoff: { initial: 100ms, max: 200ms } }`,
    ].join('\n');
    const { bridge, base, setup } = await startSubscriberBridge(ws, { id: uniqueName('sub_dead'), dbUrl: db.url, subscribers });
    await using _bridge = bridge;
    const views = (await requestJson(`${base}/api/subscribers`)).body;
    expect(views.map((s: any) => [s.id, s.origin, s.maxAttempts])).toEqual([['gone', 'config', 3], ['live', 'config', 8]]);

    const changes = 20;
    for (let i = 1; i <= changes; i += 1) await db.query(`INSERT INTO crews VALUES ($1, $2, $3)`, [`C${i}`, `Crew ${i}`, i]);

    const deadLetters = () => readStream(inject('natsUrl'), `${setup.stream}_SUBSCRIBERS`, `${setup.prefix}_subscribers.gone.dlq`);
    await waitFor(() => live.accepted.length >= changes, { what: `${changes} deliveries to the live subscriber`, timeoutMs: 20_000 });
    // Each dead envelope costs at least two back-off waits (>= 150 ms): the live subscriber did
    // not wait for them.
    expect((await deadLetters()).length).toBeLessThan(changes);
    expect(live.accepted.map((r) => r.body.key.crewId)).toEqual(Array.from({ length: changes }, (_, i) => `C${i + 1}`));

    const letters = await waitFor(async () => {
      const all = await deadLetters();
      return all.length >= changes ? all : false;
    }, { what: `${changes} dead letters`, timeoutMs: 45_000 });
    expect(letters).toHaveLength(changes);
    expect(letters.map((m) => m.body.envelope.key.crewId)).toEqual(live.accepted.map((r) => r.body.key.crewId));
    for (const m of letters) {
      expect(m.body).toMatchObject({ subscriber: 'gone', attempts: 3 });
      expect(m.body.error).toMatch(/ECONNREFUSED/);
    }
    const deliveries = (await requestJson(`${base}/api/deliveries?limit=1000`)).body;
    expect(deliveries.filter((d: any) => d.sub === 'gone').every((d: any) => d.status === 'dead' && d.attempts === 3)).toBe(true);
    expect(deliveries.filter((d: any) => d.sub === 'live' && d.status === 'delivered')).toHaveLength(changes);
    const after = await waitFor(async () => {
      const r = (await requestJson(`${base}/api/subscribers`)).body;
      return r.find((s: any) => s.id === 'gone').state === 'offline' ? r : false;
    }, { what: 'gone reported offline', timeoutMs: 10_000 });
    expect(after.find((s: any) => s.id === 'gone')).toMatchObject({ dead: changes, delivered: 0 });
    expect(after.find((s: any) => s.id === 'live')).toMatchObject({ state: 'online', delivered: changes, dead: 0 });
    expect(await bridge.stop()).toBe(0);
  });
});
