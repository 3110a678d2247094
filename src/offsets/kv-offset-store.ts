import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { OffsetStore } from '../ports.ts';

/**
 * Positions, snapshot progress and leases live in a NATS KV bucket, so a bridge process is
 * replaceable: another machine with the same config continues where this one stopped.
 */
export class KvOffsetStore implements OffsetStore {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, bucket: string, replicas = 1): Promise<KvOffsetStore> {
    try {
      const kv = await new Kvm(nc).create(bucket, { history: 5, replicas });
      return new KvOffsetStore(kv);
    } catch (error) {
      throw new HmsSyncError('NATS', `cannot open KV bucket ${bucket}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    return entry.json<T>();
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.kv.put(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
  }
}
