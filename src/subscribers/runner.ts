import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Envelope } from '../envelope/index.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { backoffDelayMs } from './backoff.ts';
import { latencyMs, type DeliveryLog } from './deliveries.ts';
import { createSink, type EntityFieldTypes, type SubscriberSink } from './sinks/index.ts';
import { filterSubject, filterSubjects, takes, type SubscriberCounters, type SubscriberNames } from './spec.ts';
import { OFFLINE_AFTER_FAILURES, type DeliveryAttempt, type SubscriberDeadLetter, type SubscriberSpec, type SubscriberState } from './types.ts';

export interface RunnerContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: SubscriberNames;
  log: Logger;
  deliveries: DeliveryLog;
  fieldTypes: EntityFieldTypes;
  /** Whether the server takes several filter subjects on one consumer (nats-server 2.10+). */
  multipleFilters: boolean;
}

const NANOS = 1_000_000;
const decoder = new TextDecoder();

/**
 * One subscriber: its durable consumer's loop and its heartbeat, each owning its retries and
 * stopped by one AbortSignal. The consumer holds at most ONE unacknowledged message
 * (`max_ack_pending: 1`), so envelopes reach the sink one at a time in stream order, which
 * keeps every key's changes in commit order. A failed attempt is `nak`ed with the back-off
 * delay: the server keeps the message pending (nothing overtakes it) and counts the
 * deliveries, so attempts survive a restart of the bridge. Each subscriber has its own
 * consumer, so one that is slow or down holds back nobody else, nor the capture.
 */
export class SubscriberRunner {
  readonly counters: SubscriberCounters;
  private readonly controller = new AbortController();
  private readonly sink: SubscriberSink;
  private readonly log: Logger;
  private heartbeatFailures = 0;
  private attemptFailures = 0;
  private lastFailure: string | undefined;
  private running: Promise<void> | undefined;

  constructor(
    readonly spec: SubscriberSpec,
    private readonly ctx: RunnerContext,
    /** Whether the subscriber is still registered (a consumer that vanished is re-created only then). */
    private readonly isWanted: () => Promise<boolean>,
  ) {
    this.sink = createSink(spec, ctx.fieldTypes);
    this.log = ctx.log.child({ subscriber: spec.id });
    this.counters = { state: 'starting', since: new Date().toISOString(), delivered: 0, dead: 0, failedAttempts: 0 };
  }

  start(): void {
    const signal = this.controller.signal;
    this.running = Promise.all([this.consumeJob(signal), this.heartbeatJob(signal)]).then(() => undefined);
  }

  /** Lets the delivery in flight finish (bounded by the sink's timeout), then stops. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
    await this.sink.close().catch(() => undefined);
  }

  private async consumeJob(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!(await this.isWanted())) {
          this.log.info(`subscriber ${this.spec.id} is no longer registered; its consumer stops`);
          return;
        }
        await this.consume(signal, () => (failures = 0));
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        const delay = Math.min(15_000, 500 * 2 ** Math.min(failures - 1, 5));
        this.log.warn({ retryInMs: delay }, `subscriber ${this.spec.id}: consumer ${this.ctx.names.consumer(this.spec.id)}: ${errorMessage(error)}`);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private async consume(signal: AbortSignal, onReady: () => void): Promise<void> {
    await this.ensureConsumer();
    const consumer = await this.ctx.js.consumers.get(this.ctx.names.stream, this.ctx.names.consumer(this.spec.id));
    const messages = await consumer.consume({ max_messages: 8, abort_on_missing_resource: true });
    const stop = (): void => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    // Stopped while the consumer was being set up: the abort event has been and gone, and
    // the loop below would wait for messages for ever (a stop right after a start hung).
    if (signal.aborted) stop();
    onReady();
    try {
      for await (const msg of messages) {
        if (signal.aborted) {
          // Handed over after the stop: give it back at once rather than leave it pending
          // until ack_wait, which would hold this consumer up after a restart.
          msg.nak();
          continue;
        }
        await this.handle(msg);
      }
    } finally {
      signal.removeEventListener('abort', stop);
      messages.stop();
    }
    if (!signal.aborted) throw new Error('the consumer went away (deleted?)');
  }

  private consumerConfig(): Partial<ConsumerConfig> {
    const { names, multipleFilters } = this.ctx;
    const filters = multipleFilters ? filterSubjects(names.subjectPrefix, this.spec.topics) : undefined;
    return {
      durable_name: names.consumer(this.spec.id),
      description: `hms-sync subscriber ${this.spec.id} (${this.spec.type})`,
      ack_policy: AckPolicy.Explicit,
      // One envelope outstanding: the order guarantee (see the class comment).
      max_ack_pending: 1,
      max_deliver: -1,
      // Longer than one attempt may take, so a slow attempt is not handed out a second time.
      ack_wait: Math.max(30_000, this.spec.timeoutMs * 2 + 5_000) * NANOS,
      ...(filters !== undefined && filters.length > 1
        ? { filter_subjects: filters }
        : { filter_subject: filterSubject(names.subjectPrefix, this.spec.topics) }),
    };
  }

  private async ensureConsumer(): Promise<void> {
    const { jsm, names } = this.ctx;
    const name = names.consumer(this.spec.id);
    const wanted = this.consumerConfig();
    const existing = await jsm.consumers.info(names.stream, name).catch((error: unknown) => {
      if (/consumer not found/i.test(errorMessage(error))) return undefined;
      throw error;
    });
    if (existing === undefined) {
      await jsm.consumers.add(names.stream, {
        ...wanted,
        deliver_policy: this.spec.from === 'start' ? DeliverPolicy.All : DeliverPolicy.New,
      });
      this.log.info({ consumer: name, from: this.spec.from }, `subscriber ${this.spec.id}: consumer ${name} created`);
      return;
    }
    if (sameConsumer(existing, wanted)) return;
    try {
      await jsm.consumers.update(names.stream, name, {
        ack_wait: wanted.ack_wait,
        max_ack_pending: wanted.max_ack_pending,
        ...(wanted.filter_subjects !== undefined ? { filter_subjects: wanted.filter_subjects } : { filter_subject: wanted.filter_subject }),
      });
    } catch (error) {
      // A server that cannot change a consumer's filter: a new consumer continues where the
      // old one's acknowledgements ended, so nothing is skipped.
      const next = existing.ack_floor.stream_seq + 1;
      this.log.info({ consumer: name, reason: errorMessage(error), startSeq: next }, `subscriber ${this.spec.id}: re-creating consumer ${name} for new topics`);
      await jsm.consumers.delete(names.stream, name);
      await jsm.consumers.add(names.stream, { ...wanted, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next });
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { names } = this.ctx;
    if (!takes(names.subjectPrefix, this.spec.topics, msg.subject)) {
      msg.ack();
      return;
    }
    const attempt = msg.info.deliveryCount;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(decoder.decode(msg.data)) as Envelope;
      if (typeof envelope !== 'object' || envelope === null || typeof envelope.id !== 'string') throw new Error('no envelope id');
    } catch (error) {
      // Nothing a retry can fix: straight to the dead-letter subject.
      await this.deadLetter(msg, undefined, `not an envelope: ${errorMessage(error)}`, attempt);
      return;
    }
    const started = Date.now();
    let failure: string | undefined;
    try {
      await this.sink.deliver(envelope, msg.data);
    } catch (error) {
      failure = errorMessage(error);
    }
    const ended = Date.now();
    this.audit({ sub: this.spec.id, id: envelope.id, subject: msg.subject, streamSeq: msg.seq, attempt, ok: failure === undefined, ...(failure !== undefined && { error: failure }), durationMs: ended - started, at: new Date(ended).toISOString() });
    const record = {
      sub: this.spec.id,
      id: envelope.id,
      subject: msg.subject,
      entity: envelope.entity ?? null,
      op: envelope.op ?? null,
      position: envelope.source?.position ?? null,
      attempts: attempt,
    };
    if (failure === undefined) {
      await msg.ackAck().catch((error: unknown) => this.log.warn(`subscriber ${this.spec.id}: ack of seq ${msg.seq} not confirmed: ${errorMessage(error)}`));
      const ackedAt = Date.now();
      this.counters.delivered += 1;
      this.attemptFailures = 0;
      this.ctx.deliveries.record({ ...record, status: 'delivered', latencyMs: latencyMs(ackedAt, envelope.source?.commitTs, envelope.ts), at: new Date(ackedAt).toISOString() });
      this.updateState();
      return;
    }
    this.counters.failedAttempts += 1;
    this.attemptFailures += 1;
    this.lastFailure = failure;
    this.updateState();
    if (attempt >= this.spec.maxAttempts) {
      await this.deadLetter(msg, envelope, failure, attempt);
      this.ctx.deliveries.record({ ...record, status: 'dead', latencyMs: null, error: failure, at: new Date().toISOString() });
      return;
    }
    const delay = backoffDelayMs(attempt, this.spec.backoff);
    this.log.debug({ seq: msg.seq, attempt, retryInMs: delay }, `subscriber ${this.spec.id}: attempt ${attempt} failed: ${failure}`);
    msg.nak(delay);
    this.ctx.deliveries.record({ ...record, status: 'pending', latencyMs: null, error: failure, at: new Date(ended).toISOString() });
  }

  /** Publishes the dead letter and waits for JetStream to store it before acknowledging the envelope. */
  private async deadLetter(msg: JsMsg, envelope: Envelope | undefined, error: string, attempts: number): Promise<void> {
    const letter: SubscriberDeadLetter = {
      error,
      envelope: envelope ?? decoder.decode(msg.data),
      subscriber: this.spec.id,
      attempts,
      subject: msg.subject,
      streamSeq: msg.seq,
      at: new Date().toISOString(),
    };
    try {
      await this.ctx.js.publish(this.ctx.names.deadLetter(this.spec.id), JSON.stringify(letter), {
        msgID: `${this.spec.id}:${envelope?.id ?? `seq-${msg.seq}`}:dlq`,
      });
    } catch (publishError) {
      // Not stored, so not acknowledged either: the envelope comes back and is tried again.
      this.log.error(`subscriber ${this.spec.id}: cannot publish dead letter for seq ${msg.seq}: ${errorMessage(publishError)}`);
      msg.nak(this.spec.backoff.maxMs);
      return;
    }
    await msg.ackAck().catch(() => undefined);
    this.counters.dead += 1;
    this.log.warn({ seq: msg.seq, attempts }, `subscriber ${this.spec.id}: envelope ${envelope?.id ?? `seq ${msg.seq}`} dead-lettered after ${attempts} attempts: ${error}`);
  }

  private audit(attempt: DeliveryAttempt): void {
    this.ctx.js.publish(this.ctx.names.audit(this.spec.id), JSON.stringify(attempt)).catch((error: unknown) =>
      this.log.warn(`subscriber ${this.spec.id}: cannot record attempt in the audit subject: ${errorMessage(error)}`),
    );
  }

  private async heartbeatJob(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sink.check(signal);
        this.heartbeatFailures = 0;
      } catch (error) {
        if (signal.aborted) return;
        this.heartbeatFailures += 1;
        this.lastFailure = `heartbeat: ${errorMessage(error)}`;
      }
      this.updateState();
      await sleep(this.spec.heartbeatMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Offline after OFFLINE_AFTER_FAILURES heartbeats or attempts failed in a row; online once neither has. */
  private updateState(): void {
    const offline = this.heartbeatFailures >= OFFLINE_AFTER_FAILURES || this.attemptFailures >= OFFLINE_AFTER_FAILURES;
    const next: SubscriberState = offline ? 'offline' : 'online';
    if (next === this.counters.state) return;
    this.counters.state = next;
    this.counters.since = new Date().toISOString();
    if (offline) this.counters.reason = this.lastFailure;
    else delete this.counters.reason;
    const reason = offline ? (this.lastFailure ?? null) : null;
    (offline ? this.log.warn.bind(this.log) : this.log.info.bind(this.log))({ state: next, reason }, `subscriber ${this.spec.id} is ${next}${reason ? `: ${reason}` : ''}`);
    const body = JSON.stringify({ subscriber: this.spec.id, state: next, reason, ts: this.counters.since });
    this.ctx.js.publish(this.ctx.names.status(this.spec.id), body).catch((error: unknown) =>
      this.log.warn(`subscriber ${this.spec.id}: cannot publish ${next} status: ${errorMessage(error)}`),
    );
  }
}

function sameConsumer(info: ConsumerInfo, wanted: Partial<ConsumerConfig>): boolean {
  const filters = (config: Partial<ConsumerConfig>): string =>
    JSON.stringify(config.filter_subjects !== undefined && config.filter_subjects.length > 0 ? [...config.filter_subjects].sort() : [config.filter_subject ?? '']);
  return (
    filters(info.config) === filters(wanted) &&
    info.config.ack_wait === wanted.ack_wait &&
    info.config.max_ack_pending === wanted.max_ack_pending
  );
}
