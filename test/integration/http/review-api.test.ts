// The review queue over HTTP: drift, a reconcile run, then GET /api/review, GET
// /api/review/:id, POST …/resync (refused without the token, 400 for a bad body) and the next
// run is clean; POST …/resolve on a second report, 409 once resolved, 404 for unknown ids.
import { describe, expect, inject, it } from 'vitest';
import { workspace } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { writeCountersConfig } from '../../support/counters-source.ts';
import { httpConfig, requestJson, startHttpBridge } from '../../support/http.ts';
import { createCounters } from '../../support/pg-load.ts';
import { cliJson, reconcile, reportIdIn, type ListedReport } from '../../support/reconcile-helpers.ts';
import { TAMPERED, makeStreamDrift, updateAfterSnapshot } from './review-drift.ts';

const TOKEN = 'review-api-token';

describe('review queue over HTTP', () => {
  it('lists, shows, resyncs (token required) and resolves reports like the CLI', async () => {
    await using db = await freshDatabase('reviewapi');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 300);
    const setup = writeCountersConfig(ws, { id: uniqueName('reviewapi'), url: db.url, top: httpConfig(TOKEN) });
    const { entity } = setup;
    await using bridge = await startHttpBridge(setup.configPath);
    const { base } = bridge;
    await updateAfterSnapshot(db, natsUrl, setup.stream, entity);

    expect((await requestJson(`${base}/api/review`)).body).toEqual([]);
    await makeStreamDrift(natsUrl, setup.stream, entity);
    const id = reportIdIn(await reconcile(setup.configPath));

    // GET /api/review: the same items as `review list --json`.
    const list = await requestJson<ListedReport[]>(`${base}/api/review`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual(await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json']));
    expect(list.body).toEqual([
      expect.objectContaining({ id, source: 'src', table: 'public.counters', status: 'open', counts: { missingInTarget: 2, missingInSource: 0, different: 1 } }),
    ]);
    expect((await requestJson(`${base}/api/review?status=resolved`)).body).toEqual([]);
    const badStatus = await requestJson(`${base}/api/review?status=closed`);
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error).toMatch(/^status: expected open or resolved, got "closed"/);

    // GET /api/review/:id: the same report as `review show --json`.
    const shown = await requestJson(`${base}/api/review/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual(await cliJson(['review', 'show', id, '-c', setup.configPath, '--json']));
    expect(shown.body.diffs).toEqual([
      { key: { id: 5 }, kind: 'different', fields: [{ field: 'payload', source: `${'x'.repeat(60)}5`, target: TAMPERED }] },
      { key: { id: 9 }, kind: 'missingInTarget' },
      { key: { id: 250 }, kind: 'missingInTarget' },
    ]);
    expect((await requestJson(`${base}/api/review/nope`)).status).toBe(404);
    expect((await requestJson(`${base}/api/review/nope`)).body.error).toMatch(/no report "nope"/);

    // Mutating calls: no token 401; a bad body 400 naming the field; an unknown id 404.
    const anonymous = await requestJson(`${base}/api/review/${id}/resync`, { method: 'POST', json: {} });
    expect(anonymous.status).toBe(401);
    const wrong = await requestJson(`${base}/api/review/${id}/resync`, { method: 'POST', json: {}, token: 'not-it' });
    expect(wrong.status).toBe(401);
    const badBy = await requestJson(`${base}/api/review/${id}/resync`, { method: 'POST', json: { by: 42 }, token: TOKEN });
    expect(badBy.status).toBe(400);
    expect(badBy.body.error).toBe('by: expected a string, got number');
    const extra = await requestJson(`${base}/api/review/${id}/resolve`, { method: 'POST', json: { note: 'x', reason: 'y' }, token: TOKEN });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatch(/^reason: unknown field/);
    const badJson = await requestJson(`${base}/api/review/${id}/resolve`, { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' }, token: TOKEN });
    expect(badJson.status).toBe(400);
    expect((await requestJson(`${base}/api/review/nope/resync`, { method: 'POST', json: {}, token: TOKEN })).status).toBe(404);
    expect((await requestJson(`${base}/api/review/${id}`)).body.status).toBe('open');

    // With the token: the keys are re-emitted from the source and the report is resolved.
    const resync = await requestJson(`${base}/api/review/${id}/resync`, { method: 'POST', json: { by: 'ana', note: 'checked' }, token: TOKEN });
    expect(resync.status, JSON.stringify(resync.body)).toBe(200);
    expect(resync.body).toMatchObject({ rows: 3, tombstones: 0, deadLetters: 0, report: { id, status: 'resolved', resolution: { action: 'resync', by: 'ana', note: 'checked', rows: 3 } } });
    expect(resync.body.message).toMatch(/3 rows re-emitted as r envelopes, 0 d tombstones/);
    expect((await requestJson(`${base}/api/review?status=open`)).body).toEqual([]);
    expect(await reconcile(setup.configPath)).toMatch(/300 rows in source, 300 in target; clean/);

    // Resolve: a second report, resolved without a resync; resolving it again is 409.
    await makeStreamDrift(natsUrl, setup.stream, entity);
    const second = reportIdIn(await reconcile(setup.configPath));
    const resolved = await requestJson(`${base}/api/review/${second}/resolve`, { method: 'POST', json: { note: 'known drift' }, token: TOKEN });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ id: second, status: 'resolved', resolution: { action: 'resolve', by: 'http:admin', note: 'known drift' } });
    const again = await requestJson(`${base}/api/review/${second}/resolve`, { method: 'POST', token: TOKEN });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already resolved \(by http:admin/);
    expect((await requestJson<ListedReport[]>(`${base}/api/review`)).body.map((r) => [r.id, r.status])).toEqual([
      [second, 'resolved'],
      [id, 'resolved'],
    ]);
    expect(bridge.output()).toMatch(/"event":"review_resynced"/);
  }, 120_000);
});
