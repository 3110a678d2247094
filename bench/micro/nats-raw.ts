// The raw JetStream publish limit here, without the bridge or the NATS client: HPUBs of 600 bytes
// (unique subjects, a Nats-Msg-Id each) written straight to a socket with up to 4,096 waiting for
// their acks, into a file-storage stream; once with nats-server at Go's default GOMAXPROCS and once
// at GOMAXPROCS=1 (docs/benchmarks.md, "nats-server on a shared host").
//   node bin/run-ts.js bench/micro/nats-raw.ts [messages]
import { startNatsProcess } from '../../src/servers/index.ts';
import { measureRawPublish } from '../jetstream-raw.ts';

const messages = Number(process.argv[2] ?? 100_000);
const payload = 'a'.repeat(600);

for (const goMaxProcs of [undefined, 1]) {
  await using nats = await startNatsProcess({ purpose: 'bench', ...(goMaxProcs !== undefined && { goMaxProcs }) });
  const raw = await measureRawPublish(nats, { messages, subject: (n) => `t.k${n}`, payload });
  console.log(
    `nats-server GOMAXPROCS=${goMaxProcs ?? 'default'}: ${Math.round(raw.msgsPerS)} msgs/s acknowledged; nats-server ${raw.usPerMsg.toFixed(1)} µs CPU a message`,
  );
}
