import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { readStream, streamProblems, withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { jetstreamManager } from '@nats-io/jetstream';

/** Peak resident memory of a process (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}

describe('large-transaction', () => {
  it('streams 100k rows of one transaction with bounded memory, all of them, once', async () => {
    await using db = await freshDatabase('bigtx');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 0);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('bigtx'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const baseline = peakRssMiB(bridge.pid);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // ~300 bytes a row: 100k rows are ~30 MB of row data, ~60 MB of envelopes.
    await client.query(`INSERT INTO counters SELECT g, 1, repeat(md5(g::text), 8) FROM generate_series(1, 100000) g`);
    await client.end();

    await waitFor(
      async () => withNats(natsUrl, async (nc) => (await (await jetstreamManager(nc)).streams.info(setup.stream)).state.messages >= 100_000),
      { what: '100k envelopes', timeoutMs: 180_000, intervalMs: 500 },
    );
    const peak = peakRssMiB(bridge.pid);
    const messages = await readStream(natsUrl, setup.stream, `${setup.prefix}.src.counter.>`);
    expect(messages).toHaveLength(100_000);
    expect(streamProblems(messages, `${setup.prefix}.src.counter.`)).toEqual([]);
    expect(new Set(messages.map((m) => m.body.source.position.slice(0, 16))).size).toBe(1); // one commit
    expect(messages[99_999]!.body.source.position.endsWith('-000186A0')).toBe(true); // the 100000th change
    // Bounded: the transaction is streamed in batches, never held whole. Holding it would
    // cost several hundred MB (the row data plus 100k envelopes); the pipeline keeps at
    // most a few thousand in flight.
    expect(peak - baseline, `peak ${peak.toFixed(0)} MiB, baseline ${baseline.toFixed(0)} MiB`).toBeLessThan(150);
    expect(await bridge.stop()).toBe(0);
  }, 240_000);
});
