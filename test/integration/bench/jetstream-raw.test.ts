// The bench's raw limit of the publish side (bench/jetstream-raw.ts) against nats-server: every
// publish is acknowledged and stored before it resolves (it checks the stream's count), the
// messages have the bridge's shape, and the stream it made is gone afterwards.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, inject, it } from 'vitest';
import { envelopeShaped, rawPublish } from '../../../bench/jetstream-raw.ts';
import { uniqueName } from '../../support/context.ts';

describe('JetStream alone (bench)', () => {
  it('publishes the bridge-shaped messages, each stored once, and deletes its stream', async () => {
    const stream = uniqueName('BENCH_RAW').toUpperCase();
    const prefix = `benchraw.${stream.toLowerCase()}`;
    const messages = 3_000;
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      const seen: { subject: string; id: string | undefined; op: string | undefined; size: number }[] = [];
      const sub = nc.subscribe(`${prefix}.>`, {
        callback: (_error, msg) => {
          seen.push({ subject: msg.subject, id: msg.headers?.get('Nats-Msg-Id'), op: msg.headers?.get('Hms-Op'), size: msg.data.length });
        },
      });
      await nc.flush();
      const jsm = await jetstreamManager(nc);
      const port = Number(new URL(inject('natsUrl')).port);
      const seconds = await rawPublish(port, { messages, ...envelopeShaped, prefix, stream, window: 256 });
      await nc.flush();
      sub.unsubscribe();
      expect(seconds).toBeGreaterThan(0);
      expect(seen).toHaveLength(messages);
      expect(seen[0]).toEqual({ subject: `${prefix}.src.bench.0`, id: '0'.repeat(64), op: 'c', size: 440 });
      expect(new Set(seen.map((m) => m.subject)).size).toBe(messages);
      expect(new Set(seen.map((m) => m.id)).size).toBe(messages);
      await expect(jsm.streams.info(stream)).rejects.toThrow(/stream not found/i);
    } finally {
      await nc.close();
    }
  });
});
