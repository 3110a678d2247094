import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import { freshDatabase, sharedPgSuperuserUrl, uniqueName } from '../../support/context.ts';
import { workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { crewsMapping } from '../../support/crews-mapping.ts';
import { httpConfig, requestJson, startHttpBridge } from '../../support/http.ts';
import { waitFor } from '../../support/wait.ts';

describe('HTTP API basics', () => {
  it('serves /healthz and /api/sources, 503 once the source is offline, and refuses mutating calls without the token', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    const id = uniqueName('http');
    await db.query(`CREATE TABLE crews ("CREW_ID" char(6) PRIMARY KEY, "NAME" text)`);
    await db.query(`INSERT INTO crews VALUES ('C1', 'North'), ('C2', 'South')`);
    const setup = writeBridgeFiles(ws, {
      natsUrl: inject('natsUrl'),
      id,
      source: { name: 'fhwa', url: db.url },
      mappings: { 'CREWS.yaml': crewsMapping('name') },
      top: httpConfig('s3cret-token'),
    });
    await using bridge = await startHttpBridge(setup.configPath);
    const { base } = bridge;
    expect(new URL(base).hostname).toBe('127.0.0.1');

    const health = await waitFor(async () => {
      const r = await requestJson(`${base}/healthz`);
      return r.status === 200 ? r : false;
    }, { what: 'healthz 200', timeoutMs: 15_000 });
    expect(health.body).toMatchObject({ status: 'ok', nats: 'connected', sources: { fhwa: 'online' }, problems: [] });

    await db.query(`UPDATE crews SET "NAME" = 'East' WHERE "CREW_ID" = 'C1'`);
    const sources = await waitFor(async () => {
      const r = await requestJson(`${base}/api/sources`);
      return r.body[0]?.position?.match(/^[0-9A-F]{16}-0{7}1$/) ? r.body : false;
    }, { what: 'the update acknowledged in /api/sources', timeoutMs: 15_000 });
    expect(sources).toHaveLength(1);
    expect(sources[0]).toMatchObject({ name: 'fhwa', kind: 'postgres', method: 'log', state: 'online', envelopes: 3, deadLetters: 0 });
    expect(typeof sources[0].lagSeconds).toBe('number');
    expect(JSON.stringify(sources)).not.toContain(db.url.split('@')[0]!.split(':').pop()!);

    // Mutating calls: missing, malformed and wrong tokens are 401, whatever the path.
    expect((await requestJson(`${base}/api/anything`, { method: 'POST', json: {} })).status).toBe(401);
    expect((await requestJson(`${base}/api/anything`, { method: 'POST', json: {}, headers: { authorization: 'Basic abc' } })).body.error).toMatch(/malformed/);
    expect((await requestJson(`${base}/api/anything`, { method: 'DELETE', token: 'nope' })).body.error).toBe('wrong bearer token');
    // The right token gets through to routing: this path does not exist.
    expect((await requestJson(`${base}/api/anything`, { method: 'POST', json: {}, token: 's3cret-token' })).status).toBe(404);

    // The source goes offline when its database refuses us: /healthz turns 503 and names it.
    const admin = new pg.Client({ connectionString: sharedPgSuperuserUrl() });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    } finally {
      await admin.end();
    }
    const unhealthy = await waitFor(async () => {
      const r = await requestJson(`${base}/healthz`);
      return r.status === 503 ? r : false;
    }, { what: 'healthz 503', timeoutMs: 20_000 });
    expect(unhealthy.body.sources.fhwa).toBe('offline');
    expect(unhealthy.body.problems.join('\n')).toMatch(/source fhwa is offline/);
  });
});
