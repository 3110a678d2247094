import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters, expectStreamEqualsTable, runCounterLoad, streamCount } from '../../support/pg-load.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('resume-after-kill', () => {
  it('resumes a snapshot killed half-way without duplicates or gaps', async () => {
    await using db = await freshDatabase('killsnap');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 30_000);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('killsnap'),
      source: { name: 'src', url: db.url, extra: 'poll: { chunkSize: 500 }' },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= 5_000, { what: '5000 snapshot rows', timeoutMs: 60_000 });
      await bridge.kill();
      const atKill = await streamCount(natsUrl, setup.stream);
      expect(atKill).toBeLessThan(30_000);
      // Changes made while the bridge is down, before its snapshot finished.
      await runCounterLoad(db.url, { rows: 30_000, transactions: 50, perTx: 10 });
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/resuming snapshot/, 'the snapshot to resume');
      const entity = `${setup.prefix}.src.counter.`;
      await expectStreamEqualsTable(natsUrl, setup.stream, entity, db.url);
      const all = await readStream(natsUrl, setup.stream, `${entity}>`);
      // Every row was read by the snapshot once: rows re-read after the kill were deduplicated.
      const snapshotRows = all.filter((m) => m.body.op === 'r');
      expect(snapshotRows).toHaveLength(30_000);
      expect(new Set(snapshotRows.map((m) => m.body.source.position)).size).toBe(1);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 180_000);

  it('loses nothing when killed repeatedly under load, mid large transaction included', async () => {
    await using db = await freshDatabase('killstream');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 2_000);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('killstream'),
      source: { name: 'src', url: db.url },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      const load = runCounterLoad(db.url, { rows: 2_000, transactions: 600, perTx: 10 });
      // A large transaction (every row, several times) in the middle of the small ones.
      const big = (async () => {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        await client.query('BEGIN');
        for (let i = 0; i < 5; i++) await client.query('UPDATE counters SET version = version + 1');
        await client.query('COMMIT');
        await client.end();
      })();
      for (const atLeast of [3_000, 9_000, 14_000]) {
        await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= atLeast, { what: `${atLeast} messages`, timeoutMs: 90_000 });
        await bridge.kill();
        bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      }
      await Promise.all([load, big]);
      await expectStreamEqualsTable(natsUrl, setup.stream, `${setup.prefix}.src.counter.`, db.url);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 240_000);
});
