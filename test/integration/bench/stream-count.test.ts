// The bench's envelope count (bench/support.ts StreamCount) against nats-server: the status
// messages an earlier bridge left in the stream, and dead letters, neither start the clock
// nor count as envelopes.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describe, expect, inject, it, vi } from 'vitest';
import { StreamCount } from '../../../bench/support.ts';
import { deadLetterSubject, entitySubject, statusSubject } from '../../../src/envelope/index.ts';
import { uniqueName } from '../../support/context.ts';

describe('StreamCount', () => {
  it('starts at the first envelope and counts envelopes only', async () => {
    const stream = uniqueName('BENCH_COUNT').toUpperCase();
    const prefix = `bench.${stream.toLowerCase()}`;
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
      const js = jetstream(nc);
      // An earlier bridge's "online", before the counter opened (as in the MariaDB phase).
      await js.publish(statusSubject(prefix, 'src'), '{"state":"online"}');
      await using counter = await StreamCount.open(inject('natsUrl'), stream, prefix);
      await js.publish(statusSubject(prefix, 'src'), '{"state":"online"}');
      await js.publish(deadLetterSubject(prefix, 'src', 'bench'), '{"error":"x"}');
      // Every message published so far has reached the counter's subscription.
      await (counter as unknown as { nc: NatsConnection }).nc.flush();
      await new Promise((resolve) => setImmediate(resolve));
      expect(counter.firstEnvelopeAt).toBeUndefined();
      expect(await counter.messages()).toBe(3);
      expect(await counter.envelopes()).toBe(0);

      const before = process.hrtime.bigint();
      for (let id = 1; id <= 5; id++) await js.publish(entitySubject(prefix, 'src', 'bench', { id }), `{"id":${id}}`);
      await js.publish(statusSubject(prefix, 'src'), '{"state":"lagging"}');
      await vi.waitFor(() => expect(counter.firstEnvelopeAt).toBeDefined(), { timeout: 5_000 });
      expect(counter.firstEnvelopeAt! > before).toBe(true);
      expect(await counter.messages()).toBe(9);
      expect(await counter.envelopes()).toBe(5);
      await jsm.streams.delete(stream);
    } finally {
      await nc.close();
    }
  });

  it('keeps the time of the first envelope of a burst delivered before its unsubscribe', async () => {
    const stream = uniqueName('BENCH_BURST').toUpperCase();
    const prefix = `bench.${stream.toLowerCase()}`;
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
      // A clock that counts its readings: the first envelope must be read at tick 1, and no
      // later envelope of the burst may read it again.
      let ticks = 0n;
      await using counter = await StreamCount.open(inject('natsUrl'), stream, prefix, () => ++ticks);
      // Core publishes in one write: all three reach the counter's subscription together.
      for (let id = 1; id <= 3; id++) nc.publish(entitySubject(prefix, 'src', 'bench', { id }), `{"id":${id}}`);
      await nc.flush();
      // Everything the server delivered to the counter before its UNSUB has been read.
      await (counter as unknown as { nc: NatsConnection }).nc.flush();
      expect(counter.firstEnvelopeAt).toBe(1n);
      expect(ticks).toBe(1n);
      await jsm.streams.delete(stream);
    } finally {
      await nc.close();
    }
  });
});
