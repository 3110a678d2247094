// The bench's envelope count (bench/support.ts StreamCount) against nats-server: the status
// messages an earlier bridge left in the stream, and dead letters, neither start the clock
// nor count as envelopes; the first envelope of a burst sets the clock once.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describe, expect, inject, it, vi } from 'vitest';
import { StreamCount } from '../../../bench/support.ts';
import { deadLetterSubject, entitySubject, statusSubject } from '../../../src/envelope/index.ts';
import { uniqueName } from '../../support/context.ts';

interface BenchStream {
  stream: string;
  prefix: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/** A stream of its own on the shared nats-server, as a bench phase makes one; deleted after. */
async function withStream(name: string, body: (s: BenchStream) => Promise<void>): Promise<void> {
  const stream = uniqueName(name).toUpperCase();
  const prefix = `bench.${stream.toLowerCase()}`;
  const nc = await connect({ servers: inject('natsUrl') });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
    await body({ stream, prefix, nc, jsm });
  } finally {
    await nc.close();
  }
}

/** Everything the server delivered to the counter so far has been read by it. */
async function counterCaughtUp(counter: StreamCount): Promise<void> {
  await (counter as unknown as { nc: NatsConnection }).nc.flush();
}

describe('StreamCount', () => {
  it('starts at the first envelope and counts envelopes only', async () => {
    await withStream('BENCH_COUNT', async ({ stream, prefix, nc, jsm }) => {
      const js = jetstream(nc);
      // An earlier bridge's "online", before the counter opened (as in the MariaDB phase).
      await js.publish(statusSubject(prefix, 'src'), '{"state":"online"}');
      await using counter = await StreamCount.open(inject('natsUrl'), stream, prefix);
      await js.publish(statusSubject(prefix, 'src'), '{"state":"online"}');
      await js.publish(deadLetterSubject(prefix, 'src', 'bench'), '{"error":"x"}');
      await counterCaughtUp(counter);
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
    });
  });

  it('keeps the time of the first envelope of a burst delivered before its unsubscribe, and deletes the stream', async () => {
    await withStream('BENCH_BURST', async ({ stream, prefix, nc, jsm }) => {
      // A clock that counts its readings: the first envelope must be read at tick 1, and no
      // later envelope of the burst may read it again.
      let ticks = 0n;
      await using counter = await StreamCount.open(inject('natsUrl'), stream, prefix, () => ++ticks);
      // Core publishes in one write: all three reach the counter's subscription together.
      for (let id = 1; id <= 3; id++) nc.publish(entitySubject(prefix, 'src', 'bench', { id }), `{"id":${id}}`);
      await nc.flush();
      await counterCaughtUp(counter);
      expect(counter.firstEnvelopeAt).toBe(1n);
      expect(ticks).toBe(1n);
      expect(await counter.messages()).toBe(3);

      await counter.deleteStream();
      await expect(jsm.streams.info(stream)).rejects.toThrow(/stream not found/i);
      expect(await counter.messages()).toBe(0);
    });
  });
});
