import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { workspace } from '../../support/bridge.ts';
import { requestJson } from '../../support/http.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { TOKEN, startSubscriberBridge, webhookReceiver } from './helpers.ts';

describe('webhook subscriber registered at run time', () => {
  it('retries while the webhook is down, then delivers every change in order, signed, with attempts and latencies recorded', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using receiver = await webhookReceiver();
    await db.query(`CREATE TABLE crews ("CREW_ID" char(6) PRIMARY KEY, "NAME" text, "SIZE" integer)`);
    await db.query(`INSERT INTO crews VALUES ('C1', 'North', 3)`);
    const { bridge, base, setup } = await startSubscriberBridge(ws, { id: uniqueName('sub_down'), dbUrl: db.url });
    await using _bridge = bridge;

    const created = await requestJson(`${base}/api/subscribers`, {
      method: 'POST',
      token: TOKEN,
      json: {
        id: 'hook-1',
        type: 'webhook',
        endpoint: receiver.url,
        topics: ['crew'],
        maxAttempts: 100,
        secret: 'hmac-key-1',
        heartbeat: '200ms',
        timeout: '2s',
        backoff: { initial: '100ms', max: '400ms' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'hook-1', type: 'webhook', topics: ['crew'], signed: true, origin: 'api', from: 'next' });
    expect(JSON.stringify(created.body)).not.toContain('hmac-key-1');
    const listed = await requestJson(`${base}/api/subscribers`);
    expect(listed.body.map((s: any) => s.id)).toEqual(['hook-1']);
    expect(JSON.stringify(listed.body)).not.toContain('hmac-key-1');
    await waitFor(async () => (await requestJson(`${base}/api/subscribers/hook-1`)).body.state === 'online', { what: 'hook-1 online', timeoutMs: 10_000 });

    // The receiver goes away; changes keep coming.
    await receiver.down();
    await db.query(`INSERT INTO crews VALUES ('C2', 'South', 4)`);
    await db.query(`UPDATE crews SET "SIZE" = 5 WHERE "CREW_ID" = 'C1'`);
    await db.query(`UPDATE crews SET "SIZE" = 6 WHERE "CREW_ID" = 'C1'`);
    await db.query(`DELETE FROM crews WHERE "CREW_ID" = 'C2'`);
    for (let i = 3; i <= 8; i += 1) await db.query(`INSERT INTO crews VALUES ($1, $2, $3)`, [`C${i}`, `Crew ${i}`, i]);

    const pending = await waitFor(async () => {
      const r = await requestJson(`${base}/api/deliveries?limit=10`);
      return r.body.find((d: any) => d.status === 'pending' && d.attempts >= 3) ?? false;
    }, { what: 'a pending delivery retried 3 times', timeoutMs: 20_000 });
    expect(pending).toMatchObject({ sub: 'hook-1', latencyMs: null });
    expect(pending.error).toMatch(/ECONNREFUSED/);
    const offline = await waitFor(async () => {
      const r = await requestJson(`${base}/api/subscribers/hook-1`);
      return r.body.state === 'offline' ? r.body : false;
    }, { what: 'hook-1 reported offline', timeoutMs: 10_000 });
    expect(offline.reason).toMatch(/ECONNREFUSED/);

    // Back: everything arrives, in stream order, signed.
    await receiver.up();
    const entity = `${setup.prefix}.fhwa.crew.`;
    const published = (await waitFor(async () => {
      const all = await readStream(inject('natsUrl'), setup.stream, `${entity}>`);
      return all.length >= 11 ? all : false;
    }, { what: '11 envelopes in the stream', timeoutMs: 20_000 })).filter((m) => m.body.op !== 'r');
    await waitFor(() => receiver.accepted.length >= published.length, { what: `${published.length} deliveries accepted`, timeoutMs: 30_000 });
    expect(receiver.accepted.map((r) => r.body.id)).toEqual(published.map((m) => m.body.id));
    for (const r of receiver.accepted) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['hms-sync-id']).toBe(r.body.id);
      expect(r.headers['hms-sync-signature']).toBe(`sha256=${createHmac('sha256', 'hmac-key-1').update(r.raw).digest('hex')}`);
    }
    expect(receiver.accepted.map((r) => `${r.body.op} ${r.body.key.crewId}`)).toEqual([
      'c C2', 'u C1', 'u C1', 'd C2', 'c C3', 'c C4', 'c C5', 'c C6', 'c C7', 'c C8',
    ]);

    const deliveries = await waitFor(async () => {
      const r = await requestJson(`${base}/api/deliveries?limit=100`);
      return r.body.length === published.length && r.body.every((d: any) => d.status === 'delivered') ? r.body : false;
    }, { what: 'every delivery recorded as delivered', timeoutMs: 10_000 });
    // Newest first; the first change waited out the outage, so it took more than one attempt.
    expect(deliveries.map((d: any) => d.id)).toEqual(published.map((m) => m.body.id).reverse());
    expect(deliveries.at(-1).attempts).toBeGreaterThan(1);
    for (const d of deliveries) {
      expect(d.sub).toBe('hook-1');
      expect(typeof d.latencyMs).toBe('number');
      expect(d.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect((await requestJson(`${base}/api/deliveries?limit=2`)).body).toHaveLength(2);
    expect((await requestJson(`${base}/api/deliveries?limit=zero`)).status).toBe(400);
    await waitFor(async () => (await requestJson(`${base}/api/subscribers/hook-1`)).body.state === 'online', { what: 'hook-1 online again', timeoutMs: 10_000 });

    // The audit subject holds every attempt, failed ones included.
    const audit = await readStream(inject('natsUrl'), `${setup.stream}_SUBSCRIBERS`, `${setup.prefix}_subscribers.hook-1.audit`);
    expect(audit.filter((m) => m.body.ok).map((m) => m.body.id)).toEqual(published.map((m) => m.body.id));
    expect(audit.filter((m) => !m.body.ok).length).toBeGreaterThanOrEqual(2);
    const status = await readStream(inject('natsUrl'), `${setup.stream}_SUBSCRIBERS`, `${setup.prefix}_subscribers.hook-1.status`);
    expect(status.map((m) => m.body.state)).toEqual(['online', 'offline', 'online']);
    expect(await bridge.stop()).toBe(0);
  });
});
