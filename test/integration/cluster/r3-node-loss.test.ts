// Outgrowing one machine: the bridge against a 3-node JetStream cluster on loopback, stream
// and KV buckets with 3 replicas. The stream's leader node is SIGKILLed during capture; the
// stream must still hold every change exactly once.
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { startNatsCluster } from '../../../src/servers/index.ts';
import { startBridgeProcess, workspace, type BridgeProcess } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { runPacedCounterLoad } from '../../support/paced-load.ts';
import { COUNTER_MAPPING, createCounters, expectStreamEqualsTable, streamCount } from '../../support/pg-load.ts';
import { withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('r3-node-loss', () => {
  it('loses nothing when the stream leader node is killed during capture', async () => {
    await using cluster = await startNatsCluster({ nodes: 3 });
    await using db = await freshDatabase('r3');
    using ws = workspace();
    const rows = 2_000;
    await createCounters(db.url, rows);
    const id = uniqueName('r3');
    const stream = `T_${id}`.toUpperCase();
    const prefix = `t.${id}`;
    ws.write('mappings/src/counters.yaml', COUNTER_MAPPING);
    const configPath = ws.write(
      'hms-sync.yaml',
      [
        'nats:',
        `  servers: [${cluster.urls.join(', ')}]`,
        `  stream: ${stream}`,
        `  subjectPrefix: ${prefix}`,
        `  offsetsBucket: offsets_${id}`,
        '  replicas: 3',
        'sources:',
        '  - name: src',
        '    kind: postgres',
        `    url: ${db.url}`,
        `    publication: pub_${id}`,
        `    slot: slot_${id}`,
        '',
      ].join('\n'),
    );
    const bridge: BridgeProcess = startBridgeProcess(['run', '-c', configPath]);
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 60_000);
      const info = await withNats(cluster.urls[0]!, async (nc) => (await jetstreamManager(nc)).streams.info(stream));
      expect(info.config.num_replicas).toBe(3);
      const leaderName = info.cluster?.leader;
      const victim = cluster.serverNames.findIndex((name) => name === leaderName);
      expect(victim).toBeGreaterThanOrEqual(0);
      const survivor = cluster.urls[(victim + 1) % 3]!;

      const load = runPacedCounterLoad(db.url, { rows, transactions: 1_500, perTx: 10, rounds: 15, pauseMs: 300 });
      await waitFor(async () => (await streamCount(survivor, stream)) >= rows + 2_000, {
        what: 'part of the load in the stream',
        timeoutMs: 60_000,
      });
      await cluster.nodes[victim]!.kill();
      expect(await load).toBe(1_500);
      await expectStreamEqualsTable(survivor, stream, `${prefix}.src.counter.`, db.url);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 240_000);
});
