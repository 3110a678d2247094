// Micro-benchmark of the publisher against a real nats-server: CPU of this process per
// message for publish + ack handling, with messages already translated, and (last round,
// under the sampling heap profiler) the bytes it allocates a message. Every 1,000 messages a
// waiter for their acks is added, as the pipeline's committer does for each batch.
//   node bin/run-ts.js bench/micro/publish.ts [rows]
import { connect } from '@nats-io/transport-node';
import { parseMapping } from '../../src/mapping/index.ts';
import type { Mapping, SourceColumn } from '../../src/mapping/types.ts';
import { tableRoute, translate } from '../../src/pipeline/translate.ts';
import { ensureStream, JetStreamPublisher } from '../../src/publisher/index.ts';
import type { OutgoingMessage } from '../../src/ports.ts';
import { startNatsProcess } from '../../src/servers/index.ts';
import { cpuSeconds } from '../support.ts';
import { measureAllocation } from './allocation.ts';
import { PG_MAPPING } from '../postgres.ts';

const rows = Number(process.argv[2] ?? 100_000);
const mapping = parseMapping('bench.yaml', PG_MAPPING).mapping as Mapping;
const route = tableRoute(mapping, ['id']);
const columns = new Map<string, SourceColumn>([
  ['id', { name: 'id', kind: 'integer', nativeType: 'integer' }],
  ['code', { name: 'code', kind: 'text', nativeType: 'character(8)' }],
  ['amount', { name: 'amount', kind: 'decimal', nativeType: 'numeric(12,2)' }],
  ['note', { name: 'note', kind: 'text', nativeType: 'text' }],
]);
await using nats = await startNatsProcess({ purpose: 'bench' });
const nc = await connect({ servers: nats.url });
const ROUNDS = 3;
for (let round = 0; round < ROUNDS; round++) {
  const prefix = `bench.p${round}`;
  const ctx = { sourceName: 'src', sourceKind: 'postgres', subjectPrefix: prefix };
  await ensureStream(nc, { stream: `P${round}`, subjectPrefix: prefix, duplicateWindowMs: 120_000, replicas: 1 });
  const messages: OutgoingMessage[] = [];
  for (let i = 1; i <= rows; i++) {
    const row = { id: String(i), code: `C${i % 97}`.padEnd(8), amount: (i * 0.25).toFixed(2), note: 'ab'.repeat(32) };
    messages.push(translate({ op: 'c', table: 'public.bench', position: `00000000016B3A28-${i.toString(16).padStart(8, '0')}`, commitTs: null, capture: 'log', row, before: null, keyRow: { id: row.id }, columns }, route, ctx, 'now').message);
  }
  const publisher = new JetStreamPublisher(nc, { maxInflight: 4096, ackTimeoutMs: 10_000, maxSends: 5 });
  const cpu0 = cpuSeconds(process.pid);
  const nats0 = cpuSeconds(nats.pid);
  const started = performance.now();
  const run = async (): Promise<void> => {
    const batches: Array<Promise<void>> = [];
    for (const [i, m] of messages.entries()) {
      const p = publisher.publish(m);
      if (p) await p;
      if (i % 1000 === 999) batches.push(publisher.waitAcked(publisher.lastSequence));
    }
    await Promise.all(batches);
    await publisher.waitAcked(publisher.lastSequence);
  };
  const allocated = round === ROUNDS - 1 ? (await measureAllocation(run)).bytes : (await run(), undefined);
  const ms = performance.now() - started;
  const cpu = cpuSeconds(process.pid) - cpu0;
  const natsCpu = cpuSeconds(nats.pid) - nats0;
  console.log(
    `publish: ${Math.round(rows / (ms / 1000))} msgs/s; CPU µs a message: this process ${((cpu * 1e6) / rows).toFixed(1)}, nats-server ${((natsCpu * 1e6) / rows).toFixed(1)}` +
      (allocated === undefined ? '' : `; ${Math.round(allocated / rows)} bytes allocated a message (under the heap profiler)`),
  );
  await publisher.close();
}
await nc.close();
