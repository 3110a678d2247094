import type { Envelope } from '../../envelope/index.ts';
import type { FieldType } from '../../mapping/types.ts';
import type { SubscriberSpec } from '../types.ts';
import { PostgresSink } from './postgres.ts';
import { WebhookSink } from './webhook.ts';

/**
 * Where a subscriber's envelopes go. One delivery at a time per sink (the runner never calls
 * deliver again before the previous call settled), so a sink may keep one connection.
 */
export interface SubscriberSink {
  /** Hands one envelope over; resolves once the system acknowledged it, throws otherwise. */
  deliver(envelope: Envelope, raw: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Heartbeat: resolves when the endpoint is reachable, throws (saying why) when not. */
  check(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Field types of the mapped entities, for sinks that create typed columns. */
export type EntityFieldTypes = (entity: string) => ReadonlyMap<string, FieldType> | undefined;

/** The one place that knows every sink type: a new sink is a file here and a case below. */
export function createSink(spec: SubscriberSpec, fieldTypes: EntityFieldTypes): SubscriberSink {
  switch (spec.type) {
    case 'webhook':
      return new WebhookSink({ url: spec.endpoint, secret: spec.secret, timeoutMs: spec.timeoutMs });
    case 'postgres':
      return new PostgresSink({ url: spec.endpoint, timeoutMs: spec.timeoutMs, fieldTypes });
  }
}

export { WebhookSink, signBody } from './webhook.ts';
export { PostgresSink, POSITIONS_TABLE } from './postgres.ts';
