import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { entitySubject, envelopeId, keyToken, type Envelope, type Op } from '../envelope/index.ts';
import { HmsSyncError } from '../errors.ts';
import type { JsonObject, JsonValue } from '../mapping/types.ts';
import { connectNats } from '../nats/connection.ts';
import { ensureStream } from '../publisher/index.ts';
import { PositionClock } from '../webhook/position.ts';

export interface ConnectOptions {
  /** NATS server URL(s). */
  servers: string | string[];
  /** The bridge's stream and subject prefix (`nats.stream`, `nats.subjectPrefix`). */
  stream?: string;
  subjectPrefix?: string;
  /** Name of this application as a source of envelopes ([a-z0-9_-]+). Default `app`. */
  source?: string;
  user?: string;
  password?: string;
  token?: string;
  /** Path of a .creds file (user JWT + NKey seed). */
  creds?: string;
  /** Paths: the CA to trust, and a client certificate and key where the server asks for one. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Used only when the stream does not exist yet and is created here. */
  duplicateWindowMs?: number;
  replicas?: number;
}

export interface EmitOptions {
  /** Default `u` when `after` is given, `d` when it is null. */
  op?: Exclude<Op, 't'>;
  /**
   * The change's position in your application (sorts as a plain string in commit order,
   * e.g. a zero-padded version or sequence number). Emitting the same change again with the
   * same position gives the same id, so JetStream drops the repeat. Default: this client's
   * clock and counter, unique per call.
   */
  position?: string;
  before?: JsonObject | null;
  /** ISO 8601 commit time in your application; default now. */
  commitTs?: string;
  /** Table or resource name recorded in `source.table`; default the entity. */
  table?: string;
}

export interface EmitResult {
  id: string;
  subject: string;
  position: string;
  /** Stream sequence of the envelope. */
  seq: number;
  /** True when JetStream already held an envelope with this id (a repeat). */
  duplicate: boolean;
}

export interface SubscribeOptions {
  /** Durable consumer name ([A-Za-z0-9_-]+); default `lib_<entity>`. Reusing it resumes. */
  durable?: string;
  /** Where a new durable starts: the next change (default) or the start of the stream. */
  from?: 'next' | 'start';
  /** Tries per envelope before it is given up (then `onDeadLetter`). Default 5. */
  maxAttempts?: number;
  /** First retry delay, doubled each attempt (with jitter), at most 30 s. Default 500 ms. */
  retryDelayMs?: number;
  /** Called when an envelope is given up after `maxAttempts`; the subscription goes on. */
  onDeadLetter?: (envelope: Envelope, error: unknown) => void | Promise<void>;
}

export type EnvelopeHandler = (envelope: Envelope) => void | Promise<void>;

export interface Subscription {
  /** Stops after the envelope in hand; resolves when stopped. */
  stop(): Promise<void>;
  /** Resolves when the subscription ended (stop() or the client closed). */
  readonly done: Promise<void>;
}

export interface HmsSyncClient extends AsyncDisposable {
  readonly nc: NatsConnection;
  emitChange(entity: string, key: JsonObject, after: JsonObject | null, options?: EmitOptions): Promise<EmitResult>;
  subscribe(entity: string, handler: EnvelopeHandler, options?: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

const ENTITY = /^[a-z0-9_]+$/;
const NAME = /^[A-Za-z0-9_-]+$/;

/**
 * The library API: application code publishes conforming envelopes and consumes them
 * through a durable consumer, without running a bridge (README "Library API").
 */
export async function connect(options: ConnectOptions): Promise<HmsSyncClient> {
  const stream = options.stream ?? 'HMS_SYNC';
  const prefix = options.subjectPrefix ?? 'hms.sync';
  const sourceName = options.source ?? 'app';
  if (!/^[a-z0-9_-]+$/.test(sourceName)) throw new HmsSyncError('CONFIG', `connect: source "${sourceName}" must match [a-z0-9_-]+`);
  const nc = await connectNats({
    servers: Array.isArray(options.servers) ? options.servers : [options.servers],
    name: `hms-sync-lib:${sourceName}`,
    ...(options.user !== undefined ? { user: options.user, password: options.password ?? '' } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.creds !== undefined ? { creds: options.creds } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
  });
  try {
    await ensureStream(nc, {
      stream,
      subjectPrefix: prefix,
      duplicateWindowMs: options.duplicateWindowMs ?? 120_000,
      replicas: options.replicas ?? 1,
    });
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
  const js = jetstream(nc);
  const subscriptions = new Set<Subscription>();
  // Default positions: this client's clock (never going back) and a counter, then a random
  // instance tag so two processes emitting in the same millisecond never share a position.
  const instance = randomBytes(4).toString('hex').toUpperCase();
  const clock = new PositionClock();
  const nextPosition = (): string => `${clock.next()}-${instance}`;

  const client: HmsSyncClient = {
    nc,
    async emitChange(entity, key, after, emit = {}) {
      checkEntity(entity);
      checkKey(key);
      if (after !== null && (typeof after !== 'object' || Array.isArray(after))) {
        throw new HmsSyncError('CONFIG', 'emitChange: after must be an object, or null for a delete');
      }
      const op: Op = emit.op ?? (after === null ? 'd' : 'u');
      if (op === 'd' && after !== null) throw new HmsSyncError('CONFIG', 'emitChange: a delete (op d) carries after: null');
      if (op !== 'd' && after === null) throw new HmsSyncError('CONFIG', `emitChange: op ${op} needs an after image`);
      const position = emit.position ?? nextPosition();
      const table = emit.table ?? entity;
      const token = keyToken(Object.values(key) as JsonValue[]);
      const id = envelopeId(sourceName, position, table, token, op);
      const envelope: Envelope = {
        id,
        op,
        entity,
        key,
        before: emit.before ?? null,
        after,
        source: { name: sourceName, kind: 'app', table, capture: 'api', position, commitTs: emit.commitTs ?? new Date().toISOString() },
        mapping: 'app',
        ts: new Date().toISOString(),
      };
      const subject = entitySubject(prefix, sourceName, entity, key);
      const h = natsHeaders();
      h.set('Hms-Op', op);
      h.set('Content-Type', 'application/json');
      const ack = await js.publish(subject, JSON.stringify(envelope), { msgID: id, headers: h });
      return { id, subject, position, seq: ack.seq, duplicate: ack.duplicate };
    },

    async subscribe(entity, handler, sub = {}) {
      checkEntity(entity);
      const durable = sub.durable ?? `lib_${entity}`;
      if (!NAME.test(durable)) throw new HmsSyncError('CONFIG', `subscribe: durable "${durable}" must match [A-Za-z0-9_-]+`);
      const maxAttempts = sub.maxAttempts ?? 5;
      const firstDelay = sub.retryDelayMs ?? 500;
      const jsm = await jetstreamManager(nc);
      const filter = `${prefix}.*.${entity}.>`;
      const existing = await jsm.consumers.info(stream, durable).catch(() => undefined);
      if (existing === undefined) {
        await jsm.consumers.add(stream, {
          durable_name: durable,
          filter_subject: filter,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: sub.from === 'start' ? DeliverPolicy.All : DeliverPolicy.New,
          ack_wait: 30_000_000_000,
          max_ack_pending: 1,
        });
      } else if (existing.config.filter_subject !== filter) {
        throw new HmsSyncError('CONFIG', `subscribe: durable ${durable} exists with filter ${existing.config.filter_subject}, not ${filter}`);
      }
      const consumer = await js.consumers.get(stream, durable);
      const messages = await consumer.consume({ max_messages: 1 });
      const stopping = new AbortController();
      // One envelope at a time, retried in place: a failed envelope is never overtaken by a
      // later change to the same key (per-key order), and the ack wait is extended meanwhile.
      const deliver = async (msg: JsMsg): Promise<void> => {
        const envelope = msg.json<Envelope>();
        for (let attempt = 1; ; attempt += 1) {
          try {
            await handler(envelope);
            msg.ack();
            return;
          } catch (error) {
            if (attempt >= maxAttempts || stopping.signal.aborted) {
              if (attempt >= maxAttempts) {
                await sub.onDeadLetter?.(envelope, error);
                // No reason text: nats-server 2.9 does not parse "+TERM <reason>" and would leave the message pending.
                msg.term();
              } else msg.nak();
              return;
            }
            msg.working();
            const delay = Math.min(30_000, firstDelay * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
            await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
          }
        }
      };
      const done = (async () => {
        for await (const msg of messages) {
          await deliver(msg);
          if (stopping.signal.aborted) break;
        }
      })();
      const subscription: Subscription = {
        done,
        async stop() {
          stopping.abort();
          await messages.close().catch(() => undefined);
          await done.catch(() => undefined);
          subscriptions.delete(subscription);
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    async close() {
      for (const subscription of [...subscriptions]) await subscription.stop();
      await nc.drain().catch(() => undefined);
    },
    async [Symbol.asyncDispose]() {
      await client.close();
    },
  };
  return client;
}

function checkEntity(entity: string): void {
  if (!ENTITY.test(entity) || entity === 'dlq' || entity === 'status') {
    throw new HmsSyncError('CONFIG', `entity "${entity}" must match [a-z0-9_]+ and not be dlq or status`);
  }
}

function checkKey(key: JsonObject): void {
  if (key === null || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length === 0) {
    throw new HmsSyncError('CONFIG', 'emitChange: key must be a non-empty object of field values');
  }
  for (const [field, value] of Object.entries(key)) {
    if (value === null || typeof value === 'object') throw new HmsSyncError('CONFIG', `emitChange: key field ${field} must be a string, number or boolean`);
  }
}
