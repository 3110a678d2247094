// The raw JetStream publish limit here, without the bridge or the NATS client: HPUBs of 600 bytes
// (unique subjects, a Nats-Msg-Id each) written straight to a socket with up to 4,096 waiting for
// their acks, into a file-storage stream; once with nats-server at Go's default GOMAXPROCS and once
// at GOMAXPROCS=1 (docs/benchmarks.md, "nats-server on a shared host").
//   node bin/run-ts.js bench/micro/nats-raw.ts [messages]
import net from 'node:net';
import { connect } from '@nats-io/transport-node';
import { ensureStream } from '../../src/publisher/index.ts';
import { startNatsProcess } from '../../src/servers/index.ts';
import { cpuSeconds } from '../support.ts';

const messages = Number(process.argv[2] ?? 100_000);
const WINDOW = 4_096;
const payload = 'a'.repeat(600);

for (const goMaxProcs of [undefined, 1]) {
  await using nats = await startNatsProcess({ purpose: 'bench', ...(goMaxProcs !== undefined && { goMaxProcs }) });
  const nc = await connect({ servers: nats.url });
  await ensureStream(nc, { stream: 'RAW', subjectPrefix: 'raw', duplicateWindowMs: 120_000, replicas: 1 });
  await nc.close();
  const socket = net.connect(nats.port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\nSUB _ACK.* 1\r\n');
  let sent = 0;
  let acked = 0;
  let pending = '';
  const cpu0 = cpuSeconds(nats.pid!);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${acked} of ${messages} acks within 120 s`)), 120_000);
    const pump = (): void => {
      const out: string[] = [];
      for (; sent < messages && sent - acked < WINDOW; sent++) {
        const headers = `NATS/1.0\r\nNats-Msg-Id: raw-${sent}\r\n\r\n`;
        out.push(`HPUB raw.t.k${sent} _ACK.${sent} ${headers.length} ${headers.length + payload.length}\r\n${headers}${payload}\r\n`);
      }
      if (out.length > 0) socket.write(out.join(''));
    };
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      // Count the acks (each a MSG on _ACK.<n>); keep an incomplete tail for the next chunk.
      let at = pending.indexOf('MSG _ACK.');
      while (at >= 0) {
        acked++;
        pending = pending.slice(at + 9);
        at = pending.indexOf('MSG _ACK.');
      }
      if (pending.includes('PING\r\n')) {
        socket.write('PONG\r\n');
        pending = pending.replace('PING\r\n', '');
      }
      if (acked >= messages) {
        clearTimeout(timer);
        resolve();
      } else if (sent - acked <= (WINDOW * 3) / 4) pump();
    });
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(nats.pid!) - cpu0;
  socket.destroy();
  console.log(
    `nats-server GOMAXPROCS=${goMaxProcs ?? 'default'}: ${Math.round(messages / seconds)} msgs/s acknowledged; nats-server ${((cpu * 1e6) / messages).toFixed(1)} µs CPU a message`,
  );
}
