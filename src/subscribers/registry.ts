import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { SubscriberSpec } from './types.ts';

/**
 * Subscribers registered at run time, in the KV bucket `<stream lower>_subscribers` (key =
 * subscriber id, value = its spec as JSON), so they survive a restart and every bridge
 * process with the same config sees the same list.
 */
export class SubscriberRegistry {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string, replicas: number): Promise<SubscriberRegistry> {
    try {
      return new SubscriberRegistry(await new Kvm(nc).create(bucket, { history: 5, replicas }));
    } catch (error) {
      throw new HmsSyncError('NATS', `cannot open KV bucket ${bucket}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
  }

  async list(): Promise<SubscriberSpec[]> {
    const ids: string[] = [];
    for await (const key of await this.kv.keys()) ids.push(key);
    const specs: SubscriberSpec[] = [];
    for (const id of ids.sort()) {
      const spec = await this.get(id);
      if (spec !== undefined) specs.push(spec);
    }
    return specs;
  }

  async get(id: string): Promise<SubscriberSpec | undefined> {
    const entry = await this.kv.get(id);
    if (entry === null || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    return entry.json<SubscriberSpec>();
  }

  /** Registers a new id; false when it is taken (by this or another process). */
  async create(spec: SubscriberSpec): Promise<boolean> {
    try {
      await this.kv.create(spec.id, JSON.stringify(spec));
      return true;
    } catch (error) {
      if (/wrong last sequence|key exists/i.test(errorMessage(error))) return false;
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    await this.kv.delete(id);
  }

  /** Changes made from now on, by any process: a spec, or undefined for a removed id. */
  async watch(onChange: (id: string, spec: SubscriberSpec | undefined) => void): Promise<{ stop(): void }> {
    const watcher = await this.kv.watch({ include: 'updates' });
    void (async () => {
      for await (const entry of watcher as AsyncIterable<KvWatchEntry>) {
        if (entry.operation === 'PUT' && entry.length > 0) onChange(entry.key, entry.json<SubscriberSpec>());
        else onChange(entry.key, undefined);
      }
    })().catch(() => undefined);
    return { stop: () => watcher.stop() };
  }
}
