/**
 * Subscriber specs: from the config or an API body to a SubscriberSpec, the names of what a
 * subscriber owns in NATS, and which envelopes it takes. Pure.
 */
import type { z } from 'zod';
import type { SubscriberConfig } from '../config/index.ts';
import { subscriberConfig } from '../config/load-config.ts';
import { subscriberSchema } from '../config/schema.ts';
import { redactUrl } from '../util/secrets.ts';
import { SUBSCRIBER_DEFAULTS, type SubscriberOrigin, type SubscriberSpec, type SubscriberState } from './types.ts';

export function resolveSpec(config: SubscriberConfig, origin: SubscriberOrigin, createdAt = new Date().toISOString()): SubscriberSpec {
  const initialMs = config.backoff?.initialMs ?? SUBSCRIBER_DEFAULTS.backoff.initialMs;
  return {
    id: config.id,
    type: config.type,
    endpoint: config.endpoint,
    topics: [...new Set(config.topics)],
    maxAttempts: config.maxAttempts,
    from: config.from ?? SUBSCRIBER_DEFAULTS.from,
    ...(config.secret !== undefined && { secret: config.secret }),
    timeoutMs: config.timeoutMs ?? SUBSCRIBER_DEFAULTS.timeoutMs,
    heartbeatMs: config.heartbeatMs ?? SUBSCRIBER_DEFAULTS.heartbeatMs,
    backoff: { initialMs, maxMs: config.backoff?.maxMs ?? Math.max(initialMs, SUBSCRIBER_DEFAULTS.backoff.maxMs) },
    ...(config.role !== undefined && { role: config.role }),
    origin,
    createdAt,
  };
}

export type ParsedSubscriber = { ok: true; spec: SubscriberSpec } | { ok: false; problems: string[] };

/** The body of POST /api/subscribers, checked with the config's own schema; problems name the field. */
export function parseSubscriberBody(body: unknown): ParsedSubscriber {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, problems: ['body: expected a JSON object such as {"id": "...", "type": "webhook", "endpoint": "...", "topics": ["..."]}'] };
  }
  // Messages the schema does not write itself (a missing key, a wrong JSON type) in the same words as the config file's.
  const result = subscriberSchema.safeParse(body, {
    reportInput: true,
    error: (issue) => {
      if (issue.code !== 'invalid_type') return undefined;
      return issue.input === undefined ? 'missing required key' : `expected ${issue.expected}, got ${jsonKind(issue.input)}`;
    },
  });
  if (!result.success) return { ok: false, problems: result.error.issues.map(issueText) };
  return { ok: true, spec: resolveSpec(subscriberConfig(result.data), 'api') };
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function issueText(issue: z.core.$ZodIssue): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${path === '' ? '' : `${path}.`}${key}: unknown key`).join('; ');
  }
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** A spec as GET /api/subscribers shows it: no secret, no password in the endpoint. */
export interface SubscriberView {
  id: string;
  type: SubscriberSpec['type'];
  endpoint: string;
  topics: string[];
  maxAttempts: number;
  from: SubscriberSpec['from'];
  signed: boolean;
  timeoutMs: number;
  heartbeatMs: number;
  backoff: SubscriberSpec['backoff'];
  role?: string;
  origin: SubscriberOrigin;
  createdAt: string;
  state: SubscriberState;
  /** Why it is offline (the last failure), when it is. */
  reason?: string;
  since: string;
  delivered: number;
  dead: number;
  failedAttempts: number;
  consumer: string;
  deadLetterSubject: string;
}

export interface SubscriberCounters {
  state: SubscriberState;
  reason?: string;
  since: string;
  delivered: number;
  dead: number;
  failedAttempts: number;
}

export function subscriberView(spec: SubscriberSpec, counters: SubscriberCounters, names: SubscriberNames): SubscriberView {
  return {
    id: spec.id,
    type: spec.type,
    endpoint: redactUrl(spec.endpoint),
    topics: spec.topics,
    maxAttempts: spec.maxAttempts,
    from: spec.from,
    signed: spec.secret !== undefined,
    timeoutMs: spec.timeoutMs,
    heartbeatMs: spec.heartbeatMs,
    backoff: spec.backoff,
    ...(spec.role !== undefined && { role: spec.role }),
    origin: spec.origin,
    createdAt: spec.createdAt,
    state: counters.state,
    ...(counters.reason !== undefined && { reason: counters.reason }),
    since: counters.since,
    delivered: counters.delivered,
    dead: counters.dead,
    failedAttempts: counters.failedAttempts,
    consumer: names.consumer(spec.id),
    deadLetterSubject: names.deadLetter(spec.id),
  };
}

/**
 * Names of what the subscribers own in NATS. Dead letters, the audit trail and subscriber
 * status live on their own stream `<STREAM>_SUBSCRIBERS` under `<prefix>_subscribers.>`: a
 * subject under `<prefix>.>` would belong to the bridge's stream (JetStream gives a subject to
 * one stream only), would be read back by subscribers of `*`, and would mix delivery
 * bookkeeping into the change stream that reconciliation reads.
 */
export interface SubscriberNames {
  stream: string;
  subjectPrefix: string;
  /** `<STREAM>_SUBSCRIBERS` */
  subscriberStream: string;
  /** `<prefix>_subscribers` */
  subscriberPrefix: string;
  /** KV bucket of run-time registrations: `<stream lower>_subscribers`. */
  bucket: string;
  consumer(id: string): string;
  deadLetter(id: string): string;
  audit(id: string): string;
  status(id: string): string;
}

export function subscriberNames(stream: string, subjectPrefix: string): SubscriberNames {
  const subscriberPrefix = `${subjectPrefix}_subscribers`;
  return {
    stream,
    subjectPrefix,
    subscriberStream: `${stream}_SUBSCRIBERS`,
    subscriberPrefix,
    bucket: `${stream.toLowerCase()}_subscribers`,
    consumer: (id) => `hms_sub_${id}`,
    deadLetter: (id) => `${subscriberPrefix}.${id}.dlq`,
    audit: (id) => `${subscriberPrefix}.${id}.audit`,
    status: (id) => `${subscriberPrefix}.${id}.status`,
  };
}

/**
 * The consumer's filter. nats-server before 2.10 takes one filter subject, so one topic gets
 * `<prefix>.*.<topic>.>` and anything else the whole prefix; `takes` then decides per message.
 */
export function filterSubject(subjectPrefix: string, topics: readonly string[]): string {
  if (topics.length === 1 && topics[0] !== '*') return `${subjectPrefix}.*.${topics[0]}.>`;
  return `${subjectPrefix}.>`;
}

/** The filters for a server that takes several (2.10 and later), or undefined for all entities. */
export function filterSubjects(subjectPrefix: string, topics: readonly string[]): string[] | undefined {
  if (topics.includes('*')) return undefined;
  return topics.map((topic) => `${subjectPrefix}.*.${topic}.>`);
}

/**
 * Whether a stream subject is an envelope for these topics: `<prefix>.<source>.<entity>.<key>`.
 * Source status (`<prefix>.<source>.status`) has no key token, and dead letters
 * (`<prefix>.<source>.dlq.<entity>`) use the reserved entity name `dlq`; neither is delivered.
 */
export function takes(subjectPrefix: string, topics: readonly string[], subject: string): boolean {
  if (!subject.startsWith(`${subjectPrefix}.`)) return false;
  const tokens = subject.slice(subjectPrefix.length + 1).split('.');
  if (tokens.length !== 3) return false;
  const entity = tokens[1]!;
  if (entity === 'dlq' || entity === 'status') return false;
  return topics.includes('*') || topics.includes(entity);
}

/** Whether two specs need a different consumer (a new filter) or a new sink. */
export function sameDelivery(a: SubscriberSpec, b: SubscriberSpec): boolean {
  return JSON.stringify({ ...a, createdAt: '' }) === JSON.stringify({ ...b, createdAt: '' });
}
