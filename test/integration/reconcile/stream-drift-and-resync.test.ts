// The bridge streams a table, stops; then the source drifts (and envelopes vanish from the
// stream). reconcile names exactly those keys, resync repairs them, the next run is clean.
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { cliJson, reconcile, reportIdIn, type ListedReport } from '../../support/reconcile-helpers.ts';
import { liveRows, readStream, withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('reconcile against the stream', () => {
  it('reports exactly the drifted keys; resync repairs them; the next run is clean', async () => {
    await using db = await freshDatabase('recon');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 300);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('recon'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    const entity = `${setup.prefix}.src.counter.`;
    const bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    await db.query('UPDATE counters SET version = 2 WHERE id <= 20');
    await waitFor(async () => [...liveRows(await readStream(natsUrl, setup.stream), entity).values()].filter((r) => r.version === 2).length === 20, {
      what: 'the updates to reach the stream',
      timeoutMs: 30_000,
    });
    expect(await bridge.stop()).toBe(0);

    // A clean run opens no report.
    const clean = await reconcile(setup.configPath);
    expect(clean).toMatch(/src public\.counters -> counter \(stream\): 300 rows in source, 300 in target; clean/);
    expect(await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json'])).toEqual([]);

    // Drift: the bridge is stopped, so none of this reaches the stream.
    await db.query(`UPDATE counters SET version = 9, payload = 'edited' WHERE id = 5`);
    await db.query('DELETE FROM counters WHERE id = 7');
    await db.query(`INSERT INTO counters VALUES (301, 1, 'new')`);
    // And two keys' envelopes vanish from the stream.
    await withNats(natsUrl, async (nc) => {
      const jsm = await jetstreamManager(nc);
      for (const id of [9, 250]) await jsm.streams.purge(setup.stream, { filter: `${entity}${id}` });
    });

    const drift = await reconcile(setup.configPath);
    expect(drift).toMatch(/300 rows in source, 298 in target; missing in target 3, missing in source 1, different 1; report /);
    const id = reportIdIn(drift);

    const list = await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json']);
    expect(list).toHaveLength(1);
    expect(Object.keys(list[0]!).sort()).toEqual(['counts', 'createdAt', 'id', 'source', 'status', 'table']);
    expect(list[0]).toMatchObject({ id, source: 'src', table: 'public.counters', status: 'open', counts: { missingInTarget: 3, missingInSource: 1, different: 1 } });

    const report = await cliJson<any>(['review', 'show', id, '-c', setup.configPath, '--json']);
    expect(report).toMatchObject({ id, source: 'src', table: 'public.counters', entity: 'counter', status: 'open', moreDiffs: 0 });
    expect(report.runStartPosition).toMatch(/^[0-9A-F]{16}-00000000$/);
    expect(report.diffs).toEqual([
      { key: { id: 5 }, kind: 'different', fields: [{ field: 'version', source: 9, target: 2 }, { field: 'payload', source: 'edited', target: `${'x'.repeat(60)}5` }] },
      { key: { id: 7 }, kind: 'missingInSource' },
      { key: { id: 9 }, kind: 'missingInTarget' },
      { key: { id: 250 }, kind: 'missingInTarget' },
      { key: { id: 301 }, kind: 'missingInTarget' },
    ]);
    const human = await runCli(['review', 'show', id, '-c', setup.configPath]);
    expect(human.stdout).toMatch(/version: source 9 {2}target 2/);

    const resync = await runCli(['review', 'resync', id, '-c', setup.configPath, '--by', 'tester']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(resync.stdout).toMatch(/4 rows re-emitted as r envelopes, 1 d tombstones, 0 to the dead-letter subject/);
    const after = await cliJson<any>(['review', 'show', id, '-c', setup.configPath, '--json']);
    expect(after.status).toBe('resolved');
    expect(after.resolution).toMatchObject({ action: 'resync', by: 'tester', rows: 4, tombstones: 1 });
    expect(Date.parse(after.resolution.at)).toBeGreaterThan(Date.parse(report.createdAt) - 1);
    // The resync envelopes sort after everything the bridge had streamed.
    const stream = await readStream(natsUrl, setup.stream, `${entity}>`);
    const resynced = stream.filter((m) => m.body.source.capture === 'snapshot' && m.body.source.position === after.resolution.position);
    expect(resynced.map((m) => `${m.body.op}${m.body.key.id}`).sort()).toEqual(['d7', 'r250', 'r301', 'r5', 'r9']);

    const again = await reconcile(setup.configPath);
    expect(again).toMatch(/300 rows in source, 300 in target; clean/);
    const finalList = await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json']);
    expect(finalList.map((r) => [r.id, r.status])).toEqual([[id, 'resolved']]);

    const unknown = await runCli(['review', 'show', 'nope', '-c', setup.configPath, '--json']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no report "nope"/);
    const badSource = await runCli(['reconcile', '-c', setup.configPath, '--source', 'nope']);
    expect(badSource.code).toBe(2);
  }, 90_000);
});
