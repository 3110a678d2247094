// JetStream's own limit here, without the bridge or the NATS client: acknowledged publishes
// written straight to a socket as HPUBs, with up to `window` waiting for their acks (each ack a
// MSG on `_ACK.<n>`), into a file-storage stream of their own. The bench measures it with the
// bridge's message shape (envelopeShaped); bench/micro/nats-raw.ts and nats-subjects.ts vary it.
import net from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ensureStream } from '../src/publisher/index.ts';
import { LOOPBACK, type NatsProcessServer } from '../src/servers/index.ts';
import { cpuSeconds, log } from './support.ts';

export interface RawPublishOptions {
  messages: number;
  /** Message `n`'s subject after the prefix. */
  subject: (n: number) => string;
  /** The stream captures `<prefix>.>` (default `raw`). */
  prefix?: string;
  /** Message `n`'s header lines after `NATS/1.0`, each ending in CRLF; a Nats-Msg-Id by default. */
  headers?: (n: number) => string;
  payload: string;
  /** Messages waiting for their acks at most (the bridge's nats.maxInflight is 4,096). */
  window?: number;
  /** The stream's name; it is deleted afterwards (default RAW). */
  stream?: string;
}

/**
 * The bridge's message shape for the bench's table: a subject per key
 * (`<prefix>.<source>.<entity>.<keytoken>`), its three headers with a 64-character id, and a
 * 440-byte body (a PostgreSQL bench envelope's size).
 */
export const envelopeShaped: Pick<RawPublishOptions, 'subject' | 'headers' | 'payload'> = {
  subject: (n) => `src.bench.${n}`,
  headers: (n) => `Nats-Msg-Id: ${n.toString(16).padStart(64, '0')}\r\nHms-Op: c\r\nContent-Type: application/json\r\n`,
  payload: JSON.stringify({ id: '0'.repeat(64), x: 'a'.repeat(440 - 80) }),
};

/** Creates the stream on `<prefix>.>`, publishes into it and deletes it; resolves with the seconds taken. */
export async function rawPublish(port: number, options: RawPublishOptions): Promise<number> {
  const window = options.window ?? 4_096;
  const stream = options.stream ?? 'RAW';
  const prefix = options.prefix ?? 'raw';
  const headersOf = options.headers ?? ((n: number) => `Nats-Msg-Id: raw-${n}\r\n`);
  const nc = await connect({ servers: `${LOOPBACK}:${port}` });
  try {
    await ensureStream(nc, { stream, subjectPrefix: prefix, duplicateWindowMs: 120_000, replicas: 1 });
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
            const headers = `NATS/1.0\r\n${headersOf(sent)}\r\n`;
            const size = headers.length + options.payload.length;
            out.push(`HPUB ${prefix}.${options.subject(sent)} _ACK.${sent} ${headers.length} ${size}\r\n${headers}${options.payload}\r\n`);
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
      const seconds = (performance.now() - started) / 1000;
      // Every publish was acknowledged: the stream holds them all, or the figure is not one.
      const stored = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
      if (stored !== options.messages) throw new Error(`stream ${stream} holds ${stored} messages after ${options.messages} acknowledged publishes`);
      return seconds;
    } finally {
      socket.destroy();
    }
  } finally {
    // Not in the way of an error the run already has (a dead connection fails this too).
    await jetstreamManager(nc)
      .then((jsm) => jsm.streams.delete(stream))
      .catch(() => undefined);
    await nc.close();
  }
}

export interface JetStreamRaw {
  msgsPerS: number;
  /** nats-server's CPU a message, µs. */
  usPerMsg: number;
}

/** `rawPublish` on `nats`, with nats-server's CPU over it a message. */
export async function measureRawPublish(nats: NatsProcessServer, options: RawPublishOptions): Promise<JetStreamRaw & { seconds: number }> {
  const cpu0 = cpuSeconds(nats.pid);
  const seconds = await rawPublish(nats.port, options);
  const usPerMsg = ((cpuSeconds(nats.pid) - cpu0) * 1e6) / options.messages;
  return { msgsPerS: options.messages / seconds, usPerMsg, seconds };
}

/** JetStream alone on the bench's nats-server: `messages` acknowledged publishes of the bridge's shape. */
export async function jetstreamRaw(nats: NatsProcessServer, messages: number, stream: string): Promise<JetStreamRaw> {
  const { seconds, ...raw } = await measureRawPublish(nats, { messages, ...envelopeShaped, stream });
  log(`JetStream alone: ${messages} acknowledged publishes in ${seconds.toFixed(2)} s; nats-server ${raw.usPerMsg.toFixed(1)} µs CPU a message`);
  return raw;
}
