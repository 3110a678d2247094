// Scoped tokens: a role's token registers, reads and removes only its role's subscribers and
// deliveries; it cannot use what its permissions leave out (pausing sources, the review
// queue); reads of subscribers need a token once scoped tokens exist.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { requestJson, startHttpBridge } from '../../support/http.ts';
import { waitFor } from '../../support/wait.ts';
import { CREWS_MAPPING, webhookReceiver } from '../subscribers/helpers.ts';

const ADMIN = 'admin-token-0123456789';
const BILLING = 'billing-token-0123456789';
const OPS = 'ops-token-0123456789abcd';

describe('scoped tokens', () => {
  it('limit a sink token to its own role and permissions', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await using billingHook = await webhookReceiver();
    await using permitsHook = await webhookReceiver();
    await db.query(`CREATE TABLE crews ("CREW_ID" char(6) PRIMARY KEY, "NAME" text, "SIZE" integer)`);
    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id: uniqueName('scoped'),
      source: { name: 'fhwa', url: db.url },
      mappings: { 'CREWS.yaml': CREWS_MAPPING },
      top: [
        'http:',
        '  host: 127.0.0.1',
        '  port: 0',
        `  token: ${ADMIN}`,
        '  tokens:',
        `    - { name: billing-sink, token: ${BILLING}, role: billing, allow: [subscribers] }`,
        `    - { name: ops, token: ${OPS}, allow: [sources, review] }`,
      ].join('\n'),
    });
    await using bridge = await startHttpBridge(setup.configPath);
    const { base } = bridge;
    const url = `${base}/api/subscribers`;
    const hook = (id: string, endpoint: string, extra: Record<string, unknown> = {}) => ({ id, type: 'webhook', endpoint, topics: ['crew'], ...extra });

    // The sink token registers for its role (taken from the token when the body names none)...
    const created = await requestJson(url, { method: 'POST', json: hook('billing-hook', billingHook.url), token: BILLING });
    expect(created.status).toBe(201);
    expect(created.body.role).toBe('billing');
    // ...but not for another role; the admin can.
    const foreign = await requestJson(url, { method: 'POST', json: hook('sneaky', billingHook.url, { role: 'permits' }), token: BILLING });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatch(/may register subscribers of role billing only/);
    expect((await requestJson(url, { method: 'POST', json: hook('permits-hook', permitsHook.url, { role: 'permits' }), token: ADMIN })).status).toBe(201);

    // Reads: no token is 401 once scoped tokens exist; a role token sees its own role only.
    expect((await requestJson(url)).status).toBe(401);
    expect((await requestJson(url, { token: 'not-a-token' })).status).toBe(401);
    expect((await requestJson(url, { token: BILLING })).body.map((s: { id: string }) => s.id)).toEqual(['billing-hook']);
    expect((await requestJson(url, { token: ADMIN })).body.map((s: { id: string }) => s.id)).toEqual(['billing-hook', 'permits-hook']);
    expect((await requestJson(`${url}/permits-hook`, { token: BILLING })).status).toBe(404);

    await db.query(`INSERT INTO crews VALUES ('C1', 'North', 3)`);
    await waitFor(() => billingHook.accepted.length >= 1 && permitsHook.accepted.length >= 1, { what: 'both hooks to get the change', timeoutMs: 20_000 });
    const deliveries = await waitFor(async () => {
      const r = await requestJson(`${base}/api/deliveries?limit=10`, { token: ADMIN });
      return r.body.filter((d: { status: string }) => d.status === 'delivered').length >= 2 ? r.body : false;
    }, { what: 'two delivery records', timeoutMs: 15_000 });
    expect(new Set(deliveries.map((d: { sub: string }) => d.sub))).toEqual(new Set(['billing-hook', 'permits-hook']));
    const own = (await requestJson(`${base}/api/deliveries?limit=10`, { token: BILLING })).body;
    expect(own.length).toBeGreaterThan(0);
    expect(new Set(own.map((d: { sub: string }) => d.sub))).toEqual(new Set(['billing-hook']));
    expect((await requestJson(`${base}/api/deliveries?sub=permits-hook`, { token: BILLING })).body).toEqual([]);

    // Out of scope: the sink token cannot remove another role's subscriber, pause a source or
    // resync a report; the ops token cannot register subscribers.
    expect((await requestJson(`${url}/permits-hook`, { method: 'DELETE', token: BILLING })).status).toBe(404);
    const pause = await requestJson(`${base}/api/sources/fhwa/pause`, { method: 'POST', json: {}, token: BILLING });
    expect(pause.status).toBe(403);
    expect(pause.body.error).toMatch(/billing-sink/);
    expect((await requestJson(`${base}/api/review/any/resync`, { method: 'POST', json: {}, token: BILLING })).status).toBe(403);
    const opsRegister = await requestJson(url, { method: 'POST', json: hook('ops-hook', billingHook.url), token: OPS });
    expect(opsRegister.status).toBe(403);
    expect(opsRegister.body.error).toMatch(/token "ops" may not use subscribers/);
    // Its own subscriber it can remove.
    expect((await requestJson(`${url}/billing-hook`, { method: 'DELETE', token: BILLING })).status).toBe(200);
    expect((await requestJson(url, { token: ADMIN })).body.map((s: { id: string }) => s.id)).toEqual(['permits-hook']);
  });
});
