// What nats-server spends a message with a subject per key (the envelope's
// `<prefix>.<source>.<entity>.<keytoken>`, DESIGN.md) against one subject for all, and where
// (its own CPU profile, bench/pprof.ts): raw acknowledged publishes of 600 bytes into a
// file-storage stream, nats-server at GOMAXPROCS=1 as in the bench, the two kinds alternated.
//   node bin/run-ts.js bench/micro/nats-subjects.ts [messages] [rounds]
import { freePort, startNatsProcess } from '../../src/servers/index.ts';
import { measureRawPublish } from '../jetstream-raw.ts';
import { describeNatsFrames, natsProfile } from '../nats-profile.ts';

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
    // The profile starts with the publishes and covers their first PROFILE_SECONDS.
    const profile = natsProfile(profilePort, PROFILE_SECONDS);
    const raw = await measureRawPublish(nats, { messages, subject: kind.subject, payload });
    const frames = describeNatsFrames(await profile);
    console.log(`round ${round}, ${kind.name}: ${Math.round(raw.msgsPerS)} msgs/s; nats-server ${raw.usPerMsg.toFixed(1)} µs CPU a message`);
    for (const line of frames) console.log(`    ${line}`);
  }
}
