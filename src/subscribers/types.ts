/**
 * What the subscriber module works with: a subscriber's spec with every default filled in,
 * the state it is reported in, and one record per envelope handed to it.
 */

export type SubscriberType = 'webhook' | 'postgres';
export type SubscriberOrigin = 'config' | 'api';
export type SubscriberState = 'starting' | 'online' | 'offline';
export type DeliveryStatus = 'delivered' | 'pending' | 'dead';

export interface SubscriberSpec {
  id: string;
  type: SubscriberType;
  /** webhook: http(s) URL; postgres: connection URL. Holds secrets: show it through redactUrl. */
  endpoint: string;
  /** Entity names, or `*` for every entity. */
  topics: string[];
  /** Attempts per envelope before it goes to the subscriber's dead-letter subject. */
  maxAttempts: number;
  /** Where a new subscriber starts: the next change, or the first message of the stream. */
  from: 'next' | 'start';
  /** webhook: HMAC-SHA256 key of the hms-sync-signature header. Never shown by the API. */
  secret?: string;
  /** webhook: how long one POST may take. */
  timeoutMs: number;
  /** How often the endpoint is checked. */
  heartbeatMs: number;
  /** Delay after the first failed attempt; doubles per attempt up to maxMs, with jitter. */
  backoff: { initialMs: number; maxMs: number };
  /** Tokens scoped to a role see and manage only subscribers of that role. */
  role?: string;
  /** Declared in the config file, or registered through POST /api/subscribers. */
  origin: SubscriberOrigin;
  createdAt: string;
}

export const SUBSCRIBER_DEFAULTS = {
  from: 'next',
  timeoutMs: 10_000,
  heartbeatMs: 30_000,
  backoff: { initialMs: 1_000, maxMs: 60_000 },
} as const;

/** Consecutive failed heartbeats (or attempts) after which a subscriber is reported offline. */
export const OFFLINE_AFTER_FAILURES = 3;

/** One envelope handed to one subscriber: updated on each attempt, newest first in the API. */
export interface DeliveryRecord {
  sub: string;
  /** The envelope's id. */
  id: string;
  subject: string;
  entity: string | null;
  op: string | null;
  position: string | null;
  status: DeliveryStatus;
  attempts: number;
  /** From the source commit (or the envelope's ts where the source gives no commit time) to the subscriber's acknowledgement. */
  latencyMs: number | null;
  /** The last attempt's error, while pending or once dead. */
  error?: string;
  /** When the last attempt ended. */
  at: string;
}

/** One attempt, as the audit subject records it. */
export interface DeliveryAttempt {
  sub: string;
  id: string;
  subject: string;
  streamSeq: number;
  attempt: number;
  ok: boolean;
  error?: string;
  durationMs: number;
  at: string;
}

/** What goes to the subscriber's dead-letter subject once its attempts are used up. */
export interface SubscriberDeadLetter {
  error: string;
  /** The envelope as published (parsed), or its text where it is not JSON. */
  envelope: unknown;
  subscriber: string;
  attempts: number;
  subject: string;
  streamSeq: number;
  at: string;
}
