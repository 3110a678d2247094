import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { httpBaseUrl, requestJson } from '../../support/http.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { TOKEN, startSubscriberBridge, webhookReceiver } from './helpers.ts';

describe('subscribers API', () => {
  it('guards and checks registrations, starts from the next change or the start, survives a restart, stops on DELETE', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using early = await webhookReceiver();
    await using late = await webhookReceiver();
    await db.query(`CREATE TABLE crews ("CREW_ID" char(6) PRIMARY KEY, "NAME" text, "SIZE" integer)`);
    await db.query(`INSERT INTO crews VALUES ('C1', 'North', 3), ('C2', 'South', 4)`);
    const first = await startSubscriberBridge(ws, { id: uniqueName('sub_api'), dbUrl: db.url });
    const { base, setup } = first;
    await using _first = first.bridge;
    const url = `${base}/api/subscribers`;
    const hook = (id: string, endpoint: string, extra: Record<string, unknown> = {}) => ({ id, type: 'webhook', endpoint, topics: ['crew'], heartbeat: '200ms', ...extra });

    // Token: missing or wrong is 401, on POST and DELETE alike.
    expect((await requestJson(url, { method: 'POST', json: hook('x', early.url) })).status).toBe(401);
    expect((await requestJson(url, { method: 'POST', json: hook('x', early.url), token: 'wrong' })).status).toBe(401);
    expect((await requestJson(`${url}/x`, { method: 'DELETE' })).status).toBe(401);
    // Bad bodies: 400 naming the field.
    const bad = async (body: unknown) => requestJson(url, { method: 'POST', json: body, token: TOKEN });
    const badJson = await requestJson(url, { method: 'POST', token: TOKEN, body: '{"id": "x",', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error).toMatch(/JSON/);
    const unknownType = await bad(hook('x', early.url, { type: 'ftp' }));
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.error).toBe('type: unknown type "ftp" (expected webhook or postgres)');
    expect((await bad(hook('x', early.url, { topics: [] }))).body.error).toBe('topics: expected a non-empty list');
    expect((await bad(hook('x', early.url, { topics: 'crew' }))).body.error).toMatch(/^topics: expected a non-empty list/);
    expect((await bad(hook('x', 'ftp://nowhere'))).body.error).toMatch(/^endpoint: expected an http/);
    expect((await bad(hook('x', early.url, { timeout: 5 }))).body.error).toMatch(/^timeout: /);
    expect((await bad(hook('x', early.url, { colour: 'red' }))).body.error).toBe('colour: unknown key');
    expect((await bad({ type: 'webhook', endpoint: early.url, topics: ['crew'] })).body.error).toBe('id: missing required key');
    expect((await bad([1, 2])).body.error).toMatch(/^body: expected a JSON object/);
    expect((await requestJson(url)).body).toEqual([]);

    // `from` default (next) versus `from: start`.
    expect((await requestJson(url, { method: 'POST', json: hook('early', early.url), token: TOKEN })).status).toBe(201);
    expect((await requestJson(url, { method: 'POST', json: hook('early', early.url), token: TOKEN })).status).toBe(409);
    await db.query(`INSERT INTO crews VALUES ('C3', 'East', 5)`);
    await waitFor(() => early.accepted.length >= 1, { what: 'C3 delivered to early', timeoutMs: 15_000 });
    expect((await requestJson(url, { method: 'POST', json: hook('late', late.url, { from: 'start' }), token: TOKEN })).status).toBe(201);
    await waitFor(() => late.accepted.length >= 3, { what: 'the whole stream delivered to late', timeoutMs: 15_000 });
    expect(late.accepted.map((r) => `${r.body.op} ${r.body.key.crewId}`)).toEqual(['r C1', 'r C2', 'c C3']);
    expect(early.accepted.map((r) => `${r.body.op} ${r.body.key.crewId}`)).toEqual(['c C3']);

    // Restart: run-time registrations come back from the KV bucket and go on delivering.
    expect(await first.bridge.stop()).toBe(0);
    await db.query(`INSERT INTO crews VALUES ('C4', 'West', 6)`);
    await using second = startBridgeProcess(['run', '-c', setup.configPath]);
    const base2 = await httpBaseUrl(second);
    const listed = (await requestJson(`${base2}/api/subscribers`)).body;
    expect(listed.map((s: any) => [s.id, s.origin, s.from])).toEqual([['early', 'api', 'next'], ['late', 'api', 'start']]);
    await waitFor(() => early.accepted.length >= 2 && late.accepted.length >= 4, { what: 'C4 delivered to both after the restart', timeoutMs: 20_000 });
    expect(early.accepted.map((r) => r.body.key.crewId)).toEqual(['C3', 'C4']);
    expect(late.accepted.map((r) => r.body.key.crewId)).toEqual(['C1', 'C2', 'C3', 'C4']);

    // DELETE: gone from the list, its consumer deleted, no further deliveries.
    expect((await requestJson(`${base2}/api/subscribers/early`, { method: 'DELETE', token: TOKEN })).status).toBe(200);
    expect((await requestJson(`${base2}/api/subscribers/early`, { method: 'DELETE', token: TOKEN })).status).toBe(404);
    expect((await requestJson(`${base2}/api/subscribers`)).body.map((s: any) => s.id)).toEqual(['late']);
    await db.query(`INSERT INTO crews VALUES ('C5', 'Up', 7)`);
    await waitFor(() => late.accepted.length >= 5, { what: 'C5 delivered to late', timeoutMs: 15_000 });
    const consumers = await readStream(inject('natsUrl'), setup.stream, `${setup.prefix}.fhwa.crew.>`);
    expect(consumers.length).toBe(5);
    expect(early.accepted.map((r) => r.body.key.crewId)).toEqual(['C3', 'C4']);
    expect(early.requests).toBe(2);
    expect(await second.stop()).toBe(0);
  });

  it('reports a subscriber offline after 3 failed heartbeats and online when it recovers, on the status subject too', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using receiver = await webhookReceiver();
    await db.query(`CREATE TABLE crews ("CREW_ID" char(6) PRIMARY KEY, "NAME" text, "SIZE" integer)`);
    const subscribers = `subscribers:\n  - { id: beat, type: webhook, endpoint: "${receiver.url}", topics: ["*"], heartbeat: 150ms, timeout: 1s }`;
    const { bridge, base, setup } = await startSubscriberBridge(ws, { id: uniqueName('sub_beat'), dbUrl: db.url, subscribers });
    await using _bridge = bridge;
    const state = async () => (await requestJson(`${base}/api/subscribers/beat`)).body;
    await waitFor(async () => (await state()).state === 'online', { what: 'beat online', timeoutMs: 10_000 });
    const headsBefore = receiver.heads;
    await receiver.down();
    const offline = await waitFor(async () => {
      const s = await state();
      return s.state === 'offline' ? s : false;
    }, { what: 'beat offline', timeoutMs: 10_000 });
    expect(offline.reason).toMatch(/^heartbeat: HEAD .*ECONNREFUSED/);
    await receiver.up();
    await waitFor(async () => (await state()).state === 'online', { what: 'beat online again', timeoutMs: 10_000 });
    expect(receiver.heads).toBeGreaterThan(headsBefore);
    const status = await readStream(inject('natsUrl'), `${setup.stream}_SUBSCRIBERS`, `${setup.prefix}_subscribers.beat.status`);
    expect(status.map((m) => m.body.state)).toEqual(['online', 'offline', 'online']);
    expect(status[1]!.body).toMatchObject({ subscriber: 'beat', state: 'offline' });
    expect(await bridge.stop()).toBe(0);
  });
});
