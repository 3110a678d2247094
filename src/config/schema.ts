/**
 * The shape of `hms-sync.yaml`, as zod checks it (after `${VAR}` substitution). Checks that
 * need several keys or the file's folder are in load-config.ts.
 */
import { z } from 'zod';
import { isValidTimeZone } from '../mapping/index.ts';
import { describeValue } from '../util/yaml-source.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';
import { SIZE_HINT, parseSize } from './size.ts';
import { checkDatabaseUrl, checkHttpUrl, checkNatsUrl } from './urls.ts';

export const SOURCE_KINDS = ['postgres', 'mysql', 'oracle', 'mssql', 'sqlite', 'webhook'] as const;
export const CAPTURE_MODES = ['auto', 'log', 'poll'] as const;
export const SNAPSHOT_MODES = ['initial', 'never'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const DEFAULT_NATS_SERVER = 'nats://127.0.0.1:4222';

function duration(options: { min: number }) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? undefined
          : `expected ${DURATION_HINT}, got ${typeof issue.input === 'number' ? `${issue.input} (a bare number has no unit)` : describeValue(issue.input)}`,
    })
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(text)} (expected ${DURATION_HINT})` });
        return z.NEVER;
      }
      if (ms < options.min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${options.min}ms (got ${JSON.stringify(text)})` });
        return z.NEVER;
      }
      return ms;
    });
}

/** The default of `sources[].maxSlotLag`: 1 GiB of WAL held back by the replication slot. */
export const DEFAULT_MAX_SLOT_LAG_BYTES = 1024 ** 3;

/** A size with a unit ("1GB", "512MB", "100B") -> bytes. */
function size(options: { min: number }) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? undefined
          : `expected ${SIZE_HINT}, got ${typeof issue.input === 'number' ? `${issue.input} (a bare number has no unit)` : describeValue(issue.input)}`,
    })
    .transform((text, ctx) => {
      const bytes = parseSize(text);
      if (bytes === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid size ${JSON.stringify(text)} (expected ${SIZE_HINT})` });
        return z.NEVER;
      }
      if (bytes < options.min) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${options.min} bytes (got ${JSON.stringify(text)})` });
        return z.NEVER;
      }
      return bytes;
    });
}

/** An integer, also as digits from a `${VAR}` (which always gives text). */
function integer(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
    z.number().int().min(min).max(max),
  );
}

function pattern(regex: RegExp, description: string) {
  return z.string().regex(regex, description);
}

const natsUrl = z.string().superRefine((url, ctx) => {
  const problem = checkNatsUrl(url);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const timeZone = z.string().superRefine((zone, ctx) => {
  if (!isValidTimeZone(zone)) {
    ctx.addIssue({ code: 'custom', message: `unknown time zone ${JSON.stringify(zone)} (expected an IANA name such as UTC or America/Chicago)` });
  }
});

const CRON_FIELD = /^[0-9A-Za-z*/,?#LW-]+$/;
const cronSchedule = z.string().superRefine((schedule, ctx) => {
  const fields = schedule.trim().split(/\s+/);
  if ((fields.length !== 5 && fields.length !== 6) || !fields.every((field) => CRON_FIELD.test(field))) {
    ctx.addIssue({ code: 'custom', message: `expected a cron expression with 5 or 6 fields, such as "0 2 * * *" (got ${JSON.stringify(schedule)})` });
  }
});

const natsShape = z.strictObject({
  servers: z
    .union([natsUrl, z.array(natsUrl).min(1)], {
      error: (issue) => (issue.input === undefined ? undefined : `expected a NATS URL or a list of them, got ${describeValue(issue.input)}`),
    })
    .transform((servers) => (typeof servers === 'string' ? [servers] : servers))
    .default([DEFAULT_NATS_SERVER]),
  stream: pattern(/^[A-Za-z0-9_-]+$/, 'a stream name must match [A-Za-z0-9_-]+').default('HMS_SYNC'),
  subjectPrefix: pattern(
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
    'a subject prefix is tokens of [A-Za-z0-9_-] separated by dots, such as hms.sync',
  ).default('hms.sync'),
  duplicateWindow: duration({ min: 1 }).default(120_000),
  replicas: integer(1, 5).default(1),
  maxInflight: integer(1, 1_000_000).default(4096),
  offsetsBucket: pattern(/^[A-Za-z0-9_-]+$/, 'a KV bucket name must match [A-Za-z0-9_-]+').default('hms_sync_offsets'),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  token: z.string().min(1).optional(),
  /** A .creds file (JWT + NKey seed), relative to the config file. */
  creds: z.string().min(1).optional(),
  /** TLS to NATS: CA to trust, and a client certificate where the server asks for one (files, relative to the config file). */
  tls: z
    .strictObject({ ca: z.string().min(1).optional(), cert: z.string().min(1).optional(), key: z.string().min(1).optional() })
    .optional(),
  /** The per-source capture lease (docs/high-availability.md): taken over ttl after the holder's last renewal. */
  lease: z.strictObject({ ttl: duration({ min: 1000 }).default(10_000), renew: duration({ min: 100 }).default(3_000) }).prefault({}),
  /** How often each source's heartbeat goes to core NATS (outside the stream). */
  heartbeat: duration({ min: 100 }).default(10_000),
});

const natsSchema = natsShape.superRefine((nats, ctx) => {
  if (nats.password !== undefined && nats.user === undefined) {
    ctx.addIssue({ code: 'custom', path: ['password'], message: 'password needs user' });
  }
  if (nats.token !== undefined && nats.user !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['token'], message: 'give either user/password or token, not both' });
  }
  if (nats.creds !== undefined && (nats.user !== undefined || nats.token !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['creds'], message: 'give one of user/password, token or creds, not several' });
  }
  if (nats.tls !== undefined && (nats.tls.cert === undefined) !== (nats.tls.key === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['tls', nats.tls.cert === undefined ? 'cert' : 'key'], message: 'tls.cert and tls.key go together' });
  }
  if (nats.lease.renew * 2 > nats.lease.ttl) {
    ctx.addIssue({ code: 'custom', path: ['lease', 'renew'], message: 'must be at most half of lease.ttl, so one late renewal does not lose the lease' });
  }
});

const pollSchema = z.strictObject({
  interval: duration({ min: 1 }).default(5000),
  debounce: duration({ min: 0 }).default(2000),
  chunkSize: integer(1, 1_000_000).default(1000),
  /** Statements against the source at once (one connection each). */
  concurrency: integer(1, 64).default(1),
  /** Server-side limit per statement (PostgreSQL statement_timeout, MariaDB max_statement_time, MySQL max_execution_time). */
  statementTimeout: duration({ min: 1 }).default(30_000),
  /** capture: auto while polling: how often to check whether log capture became possible. */
  recheck: duration({ min: 1 }).default(300_000),
});

const sourceShape = z.strictObject({
  name: pattern(/^[a-z0-9_-]+$/, 'a source name must match [a-z0-9_-]+'),
  kind: z.enum(SOURCE_KINDS),
  /** Required for every kind but webhook (checked below). */
  url: z.string().min(1).optional(),
  capture: z.enum(CAPTURE_MODES).default('auto'),
  poll: pollSchema.prefault({}),
  mappings: z.string().min(1).optional(),
  publication: pattern(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a publication name must be a plain identifier of at most 63 characters').default(
    'hms_sync',
  ),
  slot: pattern(/^[a-z0-9_]{1,63}$/, 'a replication slot name must match [a-z0-9_]{1,63}').optional(),
  snapshot: z.enum(SNAPSHOT_MODES).default('initial'),
  timezone: timeZone.default('UTC'),
  /** postgres log capture: WAL the replication slot may hold back before the source is reported lagging. */
  maxSlotLag: size({ min: 1 }).default(DEFAULT_MAX_SLOT_LAG_BYTES),
  /** kind webhook: how callers authenticate and how retries are recognised (docs/webhooks.md). */
  webhook: z
    .strictObject({
      secret: z.string().min(1).optional(),
      token: z.string().min(1).optional(),
      idempotencyHeader: pattern(/^[A-Za-z0-9-]+$/, 'a header name must match [A-Za-z0-9-]+').default('idempotency-key'),
      dedupeWindow: duration({ min: 1000 }).default(24 * 3_600_000),
      /** HTTP tokens scoped to this role with the webhook permission (http.tokens) may post too. */
      role: pattern(/^[A-Za-z0-9_-]+$/, 'a role must match [A-Za-z0-9_-]+').optional(),
    })
    .optional(),
});

const sourceSchema = sourceShape.superRefine((source, ctx) => {
  if (source.kind === 'webhook') {
    if (source.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'a webhook source takes no url (callers POST to /webhook/<source>/<entity>)' });
    if (source.webhook === undefined) {
      ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'missing required key (kind webhook needs webhook: { secret: ... } or { token: ... })' });
    } else if (source.webhook.secret === undefined && source.webhook.token === undefined && source.webhook.role === undefined) {
      ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'give secret (HMAC-SHA256 signature), token (bearer) or role (http.tokens of that role), or several' });
    }
    return;
  }
  if (source.webhook !== undefined) ctx.addIssue({ code: 'custom', path: ['webhook'], message: `only a webhook source takes webhook: (this one is ${source.kind})` });
  if (source.url === undefined) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: `missing required key (kind ${source.kind} needs a url)` });
    return;
  }
  if (source.kind === 'sqlite') {
    if (source.capture === 'log') {
      ctx.addIssue({ code: 'custom', path: ['capture'], message: 'sqlite has no change log to read: use capture: poll (or auto)' });
    }
    return;
  }
  const problem = checkDatabaseUrl(source.kind, source.url);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
});

const reconcileSchema = z.strictObject({
  schedule: cronSchedule.default('0 2 * * *'),
  target: z
    .strictObject({
      kind: z.enum(['stream', 'postgres', 'mysql']),
      url: z.string().min(1).optional(),
    })
    .superRefine((target, ctx) => {
      if (target.kind === 'stream') {
        if (target.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'a stream target takes no url' });
      } else if (target.url === undefined) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: `missing required key (kind ${target.kind} needs a url)` });
      } else {
        const problem = checkDatabaseUrl(target.kind, target.url);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
      }
    })
    .default({ kind: 'stream' }),
});

const httpSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: integer(0, 65535).default(8080),
  token: z.string().min(1).optional(),
  /** Scoped tokens (docs/operations.md "Tokens and roles"). */
  tokens: z
    .array(
      z.strictObject({
        name: pattern(/^[A-Za-z0-9_.-]+$/, 'a token name must match [A-Za-z0-9_.-]+'),
        token: z.string().min(16, 'a scoped token must be at least 16 characters'),
        role: pattern(/^[A-Za-z0-9_-]+$/, 'a role must match [A-Za-z0-9_-]+').optional(),
        allow: z.array(z.enum(['subscribers', 'sources', 'review', 'webhook'])).min(1),
      }),
    )
    .default([]),
});

export const SUBSCRIBER_TYPES = ['webhook', 'postgres'] as const;
export const SUBSCRIBER_START = ['next', 'start'] as const;

/** A topic is an entity name ([a-z0-9_]+, as mapping files name them) or `*` for every entity. */
const topic = z.string().regex(/^(\*|[a-z0-9_]+)$/, 'a topic is an entity name ([a-z0-9_]+) or "*"');

// Messages are written here, not left to the file-level formatter, because POST /api/subscribers
// checks its body with this same schema and must name the field in words a caller understands.
const subscriberShape = z.strictObject({
  id: pattern(/^[A-Za-z0-9_-]{1,64}$/, 'a subscriber id must match [A-Za-z0-9_-]{1,64}'),
  type: z.enum(SUBSCRIBER_TYPES, {
    error: (issue) =>
      issue.input === undefined ? undefined : `unknown type ${JSON.stringify(issue.input)} (expected ${SUBSCRIBER_TYPES.join(' or ')})`,
  }),
  endpoint: z.string().min(1),
  topics: z
    .array(topic, { error: (issue) => (issue.input === undefined ? undefined : 'expected a non-empty list of entity names (or "*")') })
    .min(1, 'expected a non-empty list'),
  maxAttempts: integer(1, 1000).default(8),
  /** Where a new subscriber's consumer starts: the next change (default) or the stream's first message. */
  from: z.enum(SUBSCRIBER_START).optional(),
  /** webhook: HMAC-SHA256 key for the hms-sync-signature header. */
  secret: z.string().min(1).optional(),
  /** webhook: how long one POST may take. */
  timeout: duration({ min: 1 }).optional(),
  /** How often the endpoint is checked. */
  heartbeat: duration({ min: 1 }).optional(),
  /** Delay before the second attempt, doubling up to max (with jitter). */
  backoff: z.strictObject({ initial: duration({ min: 1 }).optional(), max: duration({ min: 1 }).optional() }).optional(),
  /** Tokens scoped to a role (http.tokens[].role) see and manage only subscribers of that role. */
  role: pattern(/^[A-Za-z0-9_-]+$/, 'a role must match [A-Za-z0-9_-]+').optional(),
});

export const subscriberSchema = subscriberShape.superRefine((subscriber, ctx) => {
  const problem =
    subscriber.type === 'webhook' ? checkHttpUrl(subscriber.endpoint) : checkDatabaseUrl('postgres', subscriber.endpoint);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: problem });
  if (subscriber.secret !== undefined && subscriber.type !== 'webhook') {
    ctx.addIssue({ code: 'custom', path: ['secret'], message: 'only a webhook subscriber signs its requests' });
  }
  const { initial, max } = subscriber.backoff ?? {};
  if (initial !== undefined && max !== undefined && initial > max) {
    ctx.addIssue({ code: 'custom', path: ['backoff', 'max'], message: 'must not be shorter than backoff.initial' });
  }
});

export type SubscriberInput = z.output<typeof subscriberSchema>;

export const configSchema = z.strictObject({
  nats: natsSchema.prefault({}),
  sources: z.array(sourceSchema).min(1),
  reconcile: reconcileSchema.prefault({}),
  http: httpSchema.optional(),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  subscribers: z.array(subscriberSchema).default([]),
});

export type ConfigInput = z.output<typeof configSchema>;
