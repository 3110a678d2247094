// What nats-server spends a message with a subject per key (the envelope's
// `<prefix>.<source>.<entity>.<keytoken>`, DESIGN.md) against one subject for all, and where
// (its own CPU profile, bench/pprof.ts): raw acknowledged publishes of 600 bytes into a
// file-storage stream, nats-server at GOMAXPROCS=1 as in the bench, the two kinds alternated.
//   node bin/run-ts.js bench/micro/nats-subjects.ts [messages] [rounds]
import { freePort, startNatsProcess } from '../../src/servers/index.ts';
import { describeNatsFrames } from '../nats-profile.ts';
import { readCpuProfile } from '../pprof.ts';
import { cpuSeconds } from '../support.ts';
import { rawPublish } from '../jetstream-raw.ts';

const messages = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
const payload = 'a'.repeat(600);
const PROFILE_SECONDS = 2;
const kinds = [
  { name: 'a subject per key', subject: (n: number) => `t.k${n}` },
  { name: 'one subject', subject: () => 't.k' },
];

for (let round = 1; round <= rounds; round++) {
  for (const kind of kinds) {
    const profilePort = await freePort();
    await using nats = await startNatsProcess({ purpose: 'bench', goMaxProcs: 1, args: ['--profile', String(profilePort)] });
    const cpu0 = cpuSeconds(nats.pid!);
    // The profile starts with the publishes and covers their first PROFILE_SECONDS.
    const profile = fetch(`http://127.0.0.1:${profilePort}/debug/pprof/profile?seconds=${PROFILE_SECONDS}`).then(async (response) =>
      readCpuProfile(new Uint8Array(await response.arrayBuffer())),
    );
    const seconds = await rawPublish(nats.port, { messages, subject: kind.subject, payload });
    const cpu = cpuSeconds(nats.pid!) - cpu0;
    const frames = describeNatsFrames(await profile);
    console.log(`round ${round}, ${kind.name}: ${Math.round(messages / seconds)} msgs/s; nats-server ${((cpu * 1e6) / messages).toFixed(1)} µs CPU a message`);
    for (const line of frames) console.log(`    ${line}`);
  }
}
