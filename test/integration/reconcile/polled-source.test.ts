// Reconciliation of a POLLED PostgreSQL source against the stream. The run's start position
// must be in the poll position space: with an LSN start, every poll-format target position
// looked newer than the run and every difference was set aside as "in flight" (a silent false
// negative). Here a wrong update and a wrong tombstone with positions from an hour ago, and two
// keys purged from the stream, must all be reported; resync queues the keys for the running
// poll engine, which re-emits them; the next run is clean.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, inject, it } from 'vitest';
import { pollPosition } from '../../../capture/poll/position.ts';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { cliJson, reconcile, reportIdIn } from '../../support/reconcile-helpers.ts';
import { readStream, withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('reconcile a polled source', () => {
  it('reports drift the poll positions used to hide; resync goes through the poll engine; the next run is clean', async () => {
    await using db = await freshDatabase('reconpoll');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 100);
    const role = await db.createRole('selectonly');
    await db.query(`GRANT SELECT ON counters TO "${role.name}"`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('reconpoll'),
      source: { name: 'src', url: role.url, extra: 'capture: poll\npoll: { interval: 200ms, debounce: 0ms }' },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    const entity = `${setup.prefix}.src.counter.`;
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await waitFor(async () => (await readStream(natsUrl, setup.stream, `${entity}>`)).length >= 100, { what: 'the 100 rows', timeoutMs: 30_000 });

    const clean = await reconcile(setup.configPath);
    expect(clean).toMatch(/100 rows in source, 100 in target; clean/);

    // Drift in the stream: a wrong update of 5 and a wrong tombstone of 7, each at a poll
    // position of an hour ago (older than the run), and every envelope of 9 and 50 purged.
    const old = pollPosition(Date.now() - 3_600_000, 1, 0);
    await withNats(natsUrl, async (nc) => {
      const js = jetstream(nc);
      const [five] = (await readStream(natsUrl, setup.stream, `${entity}5`)).slice(-1);
      const wrong = { ...five!.body, id: 'drift-5', op: 'u', after: { ...five!.body.after, version: 999 }, source: { ...five!.body.source, position: old } };
      await js.publish(`${entity}5`, JSON.stringify(wrong));
      const [seven] = (await readStream(natsUrl, setup.stream, `${entity}7`)).slice(-1);
      const gone = { ...seven!.body, id: 'drift-7', op: 'd', after: null, source: { ...seven!.body.source, position: old } };
      await js.publish(`${entity}7`, JSON.stringify(gone));
      const jsm = await jetstreamManager(nc);
      for (const id of [9, 50]) await jsm.streams.purge(setup.stream, { filter: `${entity}${id}` });
    });

    const drift = await reconcile(setup.configPath);
    expect(drift).toMatch(/100 rows in source, 97 in target; missing in target 3, missing in source 0, different 1; report /);
    const id = reportIdIn(drift);
    const report = await cliJson<any>(['review', 'show', id, '-c', setup.configPath, '--json']);
    expect(report.runStartPosition).toMatch(/^\d{13}-00000000-00000000$/);
    expect(report.diffs).toEqual([
      { key: { id: 5 }, kind: 'different', fields: [{ field: 'version', source: 1, target: 999 }] },
      { key: { id: 7 }, kind: 'missingInTarget' },
      { key: { id: 9 }, kind: 'missingInTarget' },
      { key: { id: 50 }, kind: 'missingInTarget' },
    ]);

    const resync = await runCli(['review', 'resync', id, '-c', setup.configPath, '--by', 'tester']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(resync.stdout).toMatch(/4 keys queued for the poll engine/);
    const resolved = await cliJson<any>(['review', 'show', id, '-c', setup.configPath, '--json']);
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolution).toMatchObject({ action: 'resync', by: 'tester', queued: true });

    // The running bridge re-emits the four keys at its own positions, and deletes the request.
    const reemitted = await waitFor(
      async () => {
        const stream = await readStream(natsUrl, setup.stream, `${entity}>`);
        const rows = stream.filter((m) => m.body.op === 'r' && m.body.source.position > old && [5, 7, 9, 50].includes(m.body.key.id) && m.seq > 100);
        return rows.length >= 4 ? rows : false;
      },
      { what: 'the re-emitted rows', timeoutMs: 30_000 },
    );
    expect(reemitted.map((m) => m.body.key.id).sort((a: number, b: number) => a - b)).toEqual([5, 7, 9, 50]);
    for (const m of reemitted) expect(m.body.source).toMatchObject({ capture: 'poll' });
    await bridge.waitForOutput(/re-emit request [^\n]*: 4 envelopes/, 'the engine to log the request');

    const again = await reconcile(setup.configPath);
    expect(again).toMatch(/100 rows in source, 100 in target; clean/);
    expect(await bridge.stop()).toBe(0);
  }, 120_000);
});
