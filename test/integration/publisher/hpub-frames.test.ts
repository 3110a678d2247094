// The publisher writes whole HPUB frames through the NATS client's protocol handler
// (src/publisher/hpub-frames.ts) instead of calling nc.publish. Recorded on the wire between
// the real client and the real nats-server: the frame is byte for byte what nc.publish writes
// with the client's own headers for the same message, JetStream stores and acknowledges it
// (and deduplicates it by its Nats-Msg-Id), and frames made one after another, small and
// large, each keep their own bytes.
import net from 'node:net';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, inject, it } from 'vitest';
import { HpubWriter } from '../../../src/publisher/hpub-frames.ts';
import { ensureStream } from '../../../src/publisher/index.ts';
import type { OutgoingMessage } from '../../../src/ports.ts';
import { uniqueName } from '../../support/context.ts';
import { hpubFrames } from '../../support/hpub-frames.ts';
import { waitFor } from '../../support/wait.ts';

/** A loopback proxy in front of nats-server that keeps every byte the client sent. */
async function recordingProxy(natsUrl: string): Promise<{ url: string; sent: () => Buffer } & AsyncDisposable> {
  const target = new URL(natsUrl.includes('://') ? natsUrl : `nats://${natsUrl}`);
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      chunks.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `nats://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    sent: () => Buffer.concat(chunks),
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function message(subject: string, msgId: string, payload: string, op = 'c'): OutgoingMessage {
  return { subject, msgId, op, payload: Buffer.from(payload, 'utf8') };
}

async function withClient(url: string, run: (nc: NatsConnection) => Promise<void>): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await run(nc);
  } finally {
    await nc.close();
  }
}

describe('HPUB frames', () => {
  it('are byte for byte what nc.publish writes, and JetStream stores and dedupes them', async () => {
    await using proxy = await recordingProxy(inject('natsUrl'));
    const prefix = uniqueName('frames');
    const stream = prefix.toUpperCase();
    await withClient(proxy.url, async (nc) => {
      await ensureStream(nc, { stream, subjectPrefix: prefix, duplicateWindowMs: 120_000, replicas: 1 });
      const acks = new Map<string, { seq: number; duplicate?: boolean }>();
      nc.subscribe('_frames_ack.*', { callback: (_err, msg) => void acks.set(msg.subject, msg.json()) });
      // Multibyte payload text: the header and total lengths are byte counts.
      const m = message(`${prefix}.src.crew.C-7`, '0123456789abcdef0123456789abcdef', '{"after":{"name":"Zoë 漢字 😀"}}');
      const h = headers();
      h.set('Nats-Msg-Id', m.msgId);
      h.set('Hms-Op', m.op);
      h.set('Content-Type', 'application/json');
      nc.publish(m.subject, m.payload, { headers: h, reply: '_frames_ack.1' });
      await nc.flush();
      const writer = new HpubWriter(nc);
      writer.send(writer.frame(m, '_frames_ack.2'));
      const other = message(`${prefix}.src.crew.C-8`, 'fedcba9876543210fedcba9876543210', '{"after":{}}', 'dlq');
      writer.send(writer.frame(other, '_frames_ack.3'));
      await nc.flush();
      await waitFor(() => acks.size === 3, { what: 'three acks', timeoutMs: 10_000 });

      const [client, ours, third] = hpubFrames(proxy.sent());
      expect(client!.toString('utf8')).toContain('Nats-Msg-Id: 0123456789abcdef0123456789abcdef');
      expect(ours!.toString('latin1').replace(' _frames_ack.2 ', ' _frames_ack.1 ')).toBe(client!.toString('latin1'));
      expect(third!.toString('utf8')).toMatch(/^HPUB \S+ _frames_ack\.3 \d+ \d+\r\nNATS\/1\.0\r\nNats-Msg-Id: fedcba9876543210fedcba9876543210\r\nHms-Op: dlq\r\n/);

      // Stored once: the second is a duplicate of the first by its id.
      expect(acks.get('_frames_ack.1')).toMatchObject({ seq: 1 });
      expect(acks.get('_frames_ack.1')?.duplicate).toBeUndefined();
      expect(acks.get('_frames_ack.2')).toMatchObject({ seq: 1, duplicate: true });
      expect(acks.get('_frames_ack.3')).toMatchObject({ seq: 2 });
      const jsm = await jetstreamManager(nc);
      const stored = await jsm.streams.getMessage(stream, { seq: 1 });
      expect(stored?.string()).toBe('{"after":{"name":"Zoë 漢字 😀"}}');
      expect(stored?.header.get('Hms-Op')).toBe('c');
      expect((await jsm.streams.info(stream)).state.messages).toBe(2);
    });
  });

  it('sent one after another go to the client as one run, in the order sent, a re-send between them included', async () => {
    await using proxy = await recordingProxy(inject('natsUrl'));
    const prefix = uniqueName('runs');
    await withClient(proxy.url, async (nc) => {
      await ensureStream(nc, { stream: prefix.toUpperCase(), subjectPrefix: prefix, duplicateWindowMs: 120_000, replicas: 1 });
      const acks = new Map<string, { seq: number; duplicate?: boolean }>();
      nc.subscribe('_runs_ack.*', { callback: (_err, msg) => void acks.set(msg.subject, msg.json()) });
      await nc.flush();
      // What the writer hands to the client: one call a run.
      const protocol = (nc as unknown as { protocol: { sendCommand: (bytes: Uint8Array) => void; outbound: { size(): number } } }).protocol;
      const handed: string[][] = [];
      const sendCommand = protocol.sendCommand.bind(protocol);
      protocol.sendCommand = (bytes) => {
        const frames = hpubFrames(bytes);
        if (frames.length > 0) handed.push(frames.map((f) => f.toString('latin1').split(' ')[2]!));
        sendCommand(bytes);
      };
      const writer = new HpubWriter(nc);
      const place: Array<[Buffer, number, number]> = [];
      const send = (key: string, reply: string): void => {
        writer.write(message(`${prefix}.src.crew.${key}`, `id-${key}`, `{"key":"${key}"}`), reply);
        place.push([writer.buffer, writer.start, writer.end]);
        writer.send(writer.buffer, writer.start, writer.end);
      };
      send('A', '_runs_ack.1');
      send('B', '_runs_ack.2');
      send('C', '_runs_ack.3');
      writer.send(...place[0]!); // a re-send of A: not next to C in the slab
      send('D', '_runs_ack.5');
      // A, B and C were neighbours in the slab: one call, made when the re-send broke the run;
      // the re-send alone, since D does not follow it in the slab; D at the end of the tick.
      expect(handed).toEqual([['_runs_ack.1', '_runs_ack.2', '_runs_ack.3'], ['_runs_ack.1']]);
      // Each run is written as it is handed over: two never wait together in the client's
      // write buffer, which would copy them into a new array to join them.
      expect(protocol.outbound.size()).toBe(0);
      await Promise.resolve();
      expect(handed).toEqual([['_runs_ack.1', '_runs_ack.2', '_runs_ack.3'], ['_runs_ack.1'], ['_runs_ack.5']]);
      expect(protocol.outbound.size()).toBe(0);
      await waitFor(() => acks.size === 4 && acks.get('_runs_ack.5') !== undefined, { what: 'the acks of A (twice), B, C and D', timeoutMs: 10_000 });
      // On the wire in the order sent; stored once each, A's re-send a duplicate.
      const onWire = hpubFrames(proxy.sent()).map((f) => f.toString('latin1').split(' ')[1]!.split('.').at(-1));
      expect(onWire).toEqual(['A', 'B', 'C', 'A', 'D']);
      expect([1, 2, 3, 5].map((n) => acks.get(`_runs_ack.${n}`)?.seq)).toEqual([1, 2, 3, 4]);
      expect(acks.get('_runs_ack.1')?.duplicate).toBe(true); // the later of A's two acks
    });
  });

  it('keep their own bytes when made one after another, small and large', async () => {
    await withClient(inject('natsUrl'), async (nc) => {
      const writer = new HpubWriter(nc);
      const sizes = [0, 1, 700, 16_383, 16_385, 40_000, 3];
      const made: Array<{ frame: Buffer; payload: string }> = [];
      for (let i = 0; i < 600; i++) {
        const payload = String.fromCharCode(97 + (i % 26)).repeat(sizes[i % sizes.length]!);
        made.push({ frame: writer.frame(message(`x.y.z.k${i}`, `id${i}`, payload), `r.${i}`), payload });
      }
      for (const [i, { frame, payload }] of made.entries()) {
        const text = frame.toString('latin1');
        const headersText = `NATS/1.0\r\nNats-Msg-Id: id${i}\r\nHms-Op: c\r\nContent-Type: application/json\r\n\r\n`;
        expect(text).toBe(`HPUB x.y.z.k${i} r.${i} ${headersText.length} ${headersText.length + payload.length}\r\n${headersText}${payload}\r\n`);
      }
      // The publisher's form: the reply as an inbox and a sequence, the same bytes.
      for (const seq of [0, 7, 10, 99, 100, 123_456_789]) {
        const m = message('x.y.z.k', 'id', '{}');
        expect(writer.frame(m, '_INBOX.abc', seq).equals(writer.frame(m, `_INBOX.abc.${seq}`))).toBe(true);
      }
      expect(() => writer.frame(message('x.y', 'id', '{}'), 'in box', 1)).toThrow(/cannot carry/);
    });
  });

  it('refuses what would break the framing or the server, and a closed connection', async () => {
    await withClient(inject('natsUrl'), async (nc) => {
      const writer = new HpubWriter(nc);
      expect(() => writer.frame(message('a b', 'id', '{}'), 'r.1')).toThrow(/cannot carry subject "a b"/);
      expect(() => writer.frame(message('a.b', 'id\r\nX: y', '{}'), 'r.1')).toThrow(/cannot carry/);
      expect(() => writer.frame(message('a.b', 'id', '{}'), '')).toThrow(/cannot carry/);
      // Header values: inner spaces are kept, edge spaces (the client trims them) and non-ASCII refused.
      for (const id of [' id', 'id ', '', 'ïd']) expect(() => writer.frame(message('a.b', id, '{}'), 'r.1')).toThrow(/cannot carry/);
      expect(() => writer.frame(message('a.b', 'id', '{}', ' c'), 'r.1')).toThrow(/cannot carry/);
      expect(() => writer.frame(message('a.\u00e9', 'id', '{}'), 'r.1')).toThrow(/cannot carry/);
      expect(writer.frame(message('a.b', 'i d', '{}'), 'r.1').toString('latin1')).toContain('\r\nNats-Msg-Id: i d\r\n');
      const max = nc.info!.max_payload;
      expect(() => writer.frame(message('a.b', 'id', 'x'.repeat(max)), 'r.1')).toThrow(
        // The header block of id "id" and op "c" is 72 bytes.
        new RegExp(`a message of ${max + 72} bytes exceeds the NATS server's max_payload of ${max} bytes`),
      );
      const frame = writer.frame(message('a.b', 'id', '{}'), 'r.1');
      await nc.close();
      expect(() => writer.send(frame)).toThrow(/NATS connection closed/);
    });
  });

  it('are refused at start by a client without the protocol handler they go through', () => {
    expect(() => new HpubWriter({} as NatsConnection)).toThrow(/pin @nats-io\/transport-node to 3\.4\.x/);
  });
});
