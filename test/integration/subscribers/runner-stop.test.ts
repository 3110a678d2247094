// A subscriber stopped while its consumer is still being set up (the demo stops everything it
// started when its --port is taken, a moment after the subscribers start) must stop: the
// consumer loop registered its abort listener only after the setup, so a stop in between was
// never heard and the stop waited for ever. Against the real nats-server, at several moments.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../../src/log.ts';
import { ensureStream } from '../../../src/publisher/index.ts';
import { DeliveryLog } from '../../../src/subscribers/deliveries.ts';
import { SubscriberRunner } from '../../../src/subscribers/runner.ts';
import { subscriberNames } from '../../../src/subscribers/spec.ts';
import type { SubscriberSpec } from '../../../src/subscribers/types.ts';
import { uniqueName } from '../../support/context.ts';

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('subscriber runner', () => {
  it('stops when stopped at any moment of its start, and leaves no consumer loop behind', async () => {
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      const prefix = uniqueName('runstop');
      const stream = prefix.toUpperCase();
      await ensureStream(nc, { stream, subjectPrefix: prefix, duplicateWindowMs: 120_000, replicas: 1 });
      const names = subscriberNames(stream, prefix);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: names.subscriberStream, subjects: [`${names.subscriberPrefix}.>`] });
      const ctx = {
        nc,
        js: jetstream(nc),
        jsm,
        names,
        log: createLogger('silent'),
        deliveries: new DeliveryLog(10),
        fieldTypes: () => undefined,
        multipleFilters: false,
      };
      const spec: SubscriberSpec = {
        id: 'stopper',
        type: 'webhook',
        // Nothing listens there, and no envelope is ever delivered: only the start and stop matter.
        endpoint: 'http://127.0.0.1:9/hook',
        topics: ['*'],
        maxAttempts: 3,
        from: 'next',
        timeoutMs: 1_000,
        heartbeatMs: 60_000,
        backoff: { initialMs: 1_000, maxMs: 2_000 },
        origin: 'config',
        createdAt: new Date().toISOString(),
      };
      // 0: right after start (the stop lands while the runner asks whether it is wanted); the
      // others land in the consumer's setup (info/add, get, consume) or after it.
      for (const delayMs of [0, 0, 1, 2, 5, 10, 20, 50, 200]) {
        const runner = new SubscriberRunner(spec, ctx, async () => true);
        runner.start();
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        await within(runner.stop(), 10_000, `stop ${delayMs} ms after start`);
      }
      // The durable consumer exists (made by the runners) and nothing is left pulling from it.
      const info = await jsm.consumers.info(stream, names.consumer(spec.id));
      expect(info.config.max_ack_pending).toBe(1);
      expect(info.num_waiting).toBe(0);
    } finally {
      await nc.close();
    }
  });
});
