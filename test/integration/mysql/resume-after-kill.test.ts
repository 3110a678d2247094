// MariaDB: the bridge SIGKILLed mid-snapshot, under load, and in the middle of publishing one
// large transaction resumes from what JetStream acknowledged, with nothing lost and no duplicate.
import { describe, expect, inject, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import mysql from 'mysql2/promise';
import { startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { legacyMariadb, readWholeStream, streamCount } from './helpers.ts';
import { COUNTER_MAPPING, createCounters, expectStreamEqualsTable, runCounterLoad } from './load.ts';

describe('resume-after-kill (MariaDB)', () => {
  it('resumes a snapshot killed half-way with the same ids, then streams what changed meanwhile', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.rootUrl, 30_000);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_killsnap'),
      source: { name: 'src', kind: 'mysql', url: db.readerUrl, extra: 'poll: { chunkSize: 500 }' },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= 5_000, { what: '5000 snapshot rows', timeoutMs: 60_000 });
      await bridge.kill();
      expect(await streamCount(natsUrl, setup.stream)).toBeLessThan(30_000);
      // Progress was recorded per chunk: the next run resumes, it does not start over.
      const progress = await withNats(natsUrl, async (nc) => (await (await new Kvm(nc).open(setup.bucket)).get('mysql.src'))?.json<any>());
      expect(progress.snapshot.status).toBe('running');
      expect(progress.snapshot.tables['legacy.counters'].lastKey[0]).toMatch(/^\d+$/);
      // Changes while the bridge is down, before its snapshot finished.
      await runCounterLoad(db.rootUrl, { rows: 30_000, transactions: 50, perTx: 10 });
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/resuming snapshot/, 'the snapshot to resume');
      const entity = `${setup.prefix}.src.counter.`;
      await expectStreamEqualsTable(natsUrl, setup.stream, entity, db.rootUrl);
      const all = (await readWholeStream(natsUrl, setup.stream)).filter((m) => m.subject.startsWith(entity));
      // Every row was sent by the snapshot once: rows re-read after the kill carried the same ids.
      const snapshotRows = all.filter((m) => m.body.op === 'r');
      expect(snapshotRows).toHaveLength(30_000);
      expect(new Set(snapshotRows.map((m) => m.body.source.position)).size).toBe(1);
      expect(all.filter((m) => m.body.op === 'u').length).toBeGreaterThanOrEqual(400);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 150_000);

  it('loses nothing when killed repeatedly under load and while a large transaction is being published', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.rootUrl, 5_000);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_killstream'),
      source: { name: 'src', kind: 'mysql', url: db.readerUrl },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    const entity = `${setup.prefix}.src.counter.`;
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      const load = runCounterLoad(db.rootUrl, { rows: 5_000, transactions: 400, perTx: 10 });
      for (const atLeast of [7_000, 8_500]) {
        await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= atLeast, { what: `${atLeast} messages`, timeoutMs: 60_000 });
        await bridge.kill();
        bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      }
      await load;

      // One transaction of 30 000 changes (every row, six times); the bridge is killed once
      // part of it is in the stream and before its commit could be confirmed.
      const before = await streamCount(natsUrl, setup.stream);
      const big = (async () => {
        const connection = await mysql.createConnection({ uri: db.rootUrl });
        try {
          await connection.query('BEGIN');
          for (let i = 0; i < 6; i++) await connection.query('UPDATE counters SET version = version + 1');
          await connection.query('COMMIT');
        } finally {
          await connection.end();
        }
      })();
      await big;
      await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= before + 1_000, { what: 'part of the large transaction', timeoutMs: 60_000, intervalMs: 20 });
      await bridge.kill();
      const atKill = await streamCount(natsUrl, setup.stream);
      expect(atKill - before, 'the kill came before the whole transaction was published').toBeLessThan(30_000);
      const state = await withNats(natsUrl, async (nc) => (await (await new Kvm(nc).open(setup.bucket)).get('mysql.src'))?.json<any>());
      const [end] = await db.query<Array<{ Position: number }>>('SHOW MASTER STATUS');
      expect(state.confirmed.pos, 'the large transaction was not confirmed').toBeLessThan(Number(end!.Position));

      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await expectStreamEqualsTable(natsUrl, setup.stream, entity, db.rootUrl);
      // The transaction replayed after the kill deduplicated: its 30 000 changes are there once each.
      const all = (await readWholeStream(natsUrl, setup.stream)).filter((m) => m.subject.startsWith(entity));
      const bigTx = all[all.length - 1]!.body.source.position.slice(0, 21);
      expect(all.filter((m) => m.body.source.position.startsWith(bigTx))).toHaveLength(30_000);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 200_000);
});
