// Acknowledged JetStream publishes written straight to a socket, without the bridge or the NATS
// client: HPUBs with a Nats-Msg-Id each and up to `window` waiting for their acks (each ack a MSG
// on `_ACK.<n>`). What nats-server alone can store and acknowledge (bench/micro/nats-raw.ts,
// bench/micro/nats-subjects.ts).
import net from 'node:net';
import { connect } from '@nats-io/transport-node';
import { ensureStream } from '../../src/publisher/index.ts';
import { LOOPBACK } from '../../src/servers/index.ts';

export interface RawPublishOptions {
  messages: number;
  /** The subject of message `n`; the stream captures `raw.>`. */
  subject: (n: number) => string;
  payload: string;
  window?: number;
}

/** Creates the stream `RAW` on `raw.>` and publishes into it; resolves with the seconds taken. */
export async function rawPublish(port: number, options: RawPublishOptions): Promise<number> {
  const window = options.window ?? 4_096;
  const nc = await connect({ servers: `${LOOPBACK}:${port}` });
  await ensureStream(nc, { stream: 'RAW', subjectPrefix: 'raw', duplicateWindowMs: 120_000, replicas: 1 });
  await nc.close();
  const socket = net.connect(port, LOOPBACK);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\nSUB _ACK.* 1\r\n');
  let sent = 0;
  let acked = 0;
  let pending = '';
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${acked} of ${options.messages} acks within 120 s`)), 120_000);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      const pump = (): void => {
        const out: string[] = [];
        for (; sent < options.messages && sent - acked < window; sent++) {
          const headers = `NATS/1.0\r\nNats-Msg-Id: raw-${sent}\r\n\r\n`;
          const size = headers.length + options.payload.length;
          out.push(`HPUB ${options.subject(sent)} _ACK.${sent} ${headers.length} ${size}\r\n${headers}${options.payload}\r\n`);
        }
        if (out.length > 0) socket.write(out.join(''));
      };
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        // Count the acks; keep an incomplete tail for the next chunk.
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
        if (acked >= options.messages) {
          clearTimeout(timer);
          resolve();
        } else if (sent - acked <= (window * 3) / 4) pump();
      });
      pump();
    });
    return (performance.now() - started) / 1000;
  } finally {
    socket.destroy();
  }
}
