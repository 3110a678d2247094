// The publisher reads its JetStream acks from the connection's bytes ahead of the NATS client's
// parser (src/publisher/ack-reader.ts). Against the real client and nats-server: every message
// is acknowledged and stored once, most acks take that path, and after the connection is cut
// and the client reconnects (with a new parser of its own) they take it again.
import net from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, inject, it } from 'vitest';
import type { OutgoingMessage } from '../../../src/ports.ts';
import { ensureStream, JetStreamPublisher } from '../../../src/publisher/index.ts';
import { uniqueName } from '../../support/context.ts';

/** A loopback proxy in front of nats-server whose connections can be cut. */
async function cuttableProxy(natsUrl: string): Promise<{ url: string; cut: () => void } & AsyncDisposable> {
  const target = new URL(natsUrl.includes('://') ? natsUrl : `nats://${natsUrl}`);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `nats://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('acks read from the connection', () => {
  it('acknowledge every message once, before and after a reconnect', async () => {
    await using proxy = await cuttableProxy(inject('natsUrl'));
    const prefix = uniqueName('ackread');
    const stream = prefix.toUpperCase();
    const nc = await connect({ servers: proxy.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      await ensureStream(nc, { stream, subjectPrefix: prefix, duplicateWindowMs: 120_000, replicas: 1 });
      const publisher = new JetStreamPublisher(nc, { maxInflight: 256, ackTimeoutMs: 1_000, maxSends: 30 });
      const publish = async (from: number, to: number): Promise<void> => {
        for (let i = from; i < to; i++) {
          const message: OutgoingMessage = {
            subject: `${prefix}.src.item.k${i % 500}`,
            msgId: `id-${i}`,
            op: 'c',
            payload: Buffer.from(JSON.stringify({ i, text: 'x'.repeat(i % 300) })),
          };
          const waiting = publisher.publish(message);
          if (waiting) await waiting;
        }
      };

      await publish(0, 1_500);
      await publisher.waitAcked(publisher.lastSequence);
      const before = publisher.acksReadDirectly;
      // Most acks arrive whole at the front of a chunk or after another whole ack.
      expect(before).toBeGreaterThan(1_000);

      const reconnected = (async () => {
        for await (const status of nc.status()) if (status.type === 'reconnect') return;
      })();
      proxy.cut();
      await Promise.race([
        reconnected,
        new Promise((_, reject) => setTimeout(() => reject(new Error('the client did not reconnect within 15 s')), 15_000).unref()),
      ]);
      await publish(1_500, 3_000);
      await publisher.waitAcked(publisher.lastSequence);
      expect(publisher.ackedThrough).toBe(3_000);
      // The client's new parser (made when it reconnected) is read ahead of too.
      expect(publisher.acksReadDirectly - before).toBeGreaterThan(1_000);
      await publisher.close();

      // Stored once each (re-sends after the cut are deduplicated by their ids).
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(stream)).state.messages).toBe(3_000);
      const last = await jsm.streams.getMessage(stream, { last_by_subj: `${prefix}.src.item.k499` });
      expect(JSON.parse(last!.string())).toMatchObject({ i: 2_999 });
    } finally {
      await nc.close();
    }
  });
});
