// Changes committed while a run reads are not drift: the bridge keeps streaming a busy table
// during reconcile, and no report is opened.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { cliJson, type ListedReport } from '../../support/reconcile-helpers.ts';
import { liveRows, readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('reconcile while the source changes', () => {
  it('reports nothing for updates, inserts and deletes committed during the run', async () => {
    await using db = await freshDatabase('inflight');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    const rows = 3000;
    await createCounters(db.url, rows);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('inflight'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    const entity = `${setup.prefix}.src.counter.`;
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    await waitFor(async () => liveRows(await readStream(natsUrl, setup.stream), entity).size === rows, { what: 'the snapshot in the stream', timeoutMs: 30_000 });

    // A busy source: updates, inserts and deletes, committed one after another until stopped.
    let stop = false;
    let committed = 0;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const load = (async () => {
      let next = rows + 1;
      while (!stop) {
        const ids = Array.from({ length: 10 }, () => 1 + Math.floor(Math.random() * rows));
        await client.query('UPDATE counters SET version = version + 1 WHERE id = ANY($1::int[])', [ids]);
        await client.query(`INSERT INTO counters VALUES ($1, 1, 'during')`, [next++]);
        await client.query('DELETE FROM counters WHERE id = $1', [next - 2]);
        committed += 3;
        // A steady ~150 changes/s, not as fast as one client can go: on a 2-core machine
        // running the whole suite, an unthrottled loop can outrun the bridge for longer than
        // any catch-up window, and the test would measure the machine, not the run.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    let inFlightOrSettled = 0;
    try {
      for (let run = 0; run < 3; run++) {
        const before = committed;
        const result = await runCli(['reconcile', '-c', setup.configPath, '--catch-up', '60s']);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/; clean\n/);
        expect(committed).toBeGreaterThan(before); // the source did change during this run
        const m = /in flight (\d+); settled after catching up (\d+)/.exec(result.stdout)!;
        inFlightOrSettled += Number(m[1]) + Number(m[2]);
      }
    } finally {
      stop = true;
      await load;
      await client.end();
    }
    // The runs did meet changes in flight, and set them aside instead of reporting them.
    expect(inFlightOrSettled).toBeGreaterThan(0);
    expect(await cliJson<ListedReport[]>(['review', 'list', '-c', setup.configPath, '--json'])).toEqual([]);
  }, 240_000);
});
