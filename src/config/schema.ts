/**
 * The shape of `hms-sync.yaml`, as zod checks it (after `${VAR}` substitution). Checks that
 * need several keys or the file's folder are in load-config.ts.
 */
import { z } from 'zod';
import { isValidTimeZone } from '../mapping/index.ts';
import { describeValue } from '../util/yaml-source.ts';
import { DURATION_HINT, parseDuration } from './duration.ts';
import { checkDatabaseUrl, checkHttpUrl, checkNatsUrl } from './urls.ts';

export const SOURCE_KINDS = ['postgres', 'mysql', 'oracle', 'mssql', 'sqlite'] as const;
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
});

const natsSchema = natsShape.superRefine((nats, ctx) => {
  if (nats.password !== undefined && nats.user === undefined) {
    ctx.addIssue({ code: 'custom', path: ['password'], message: 'password needs user' });
  }
  if (nats.token !== undefined && nats.user !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['token'], message: 'give either user/password or token, not both' });
  }
});

const pollSchema = z.strictObject({
  interval: duration({ min: 1 }).default(5000),
  debounce: duration({ min: 0 }).default(2000),
  chunkSize: integer(1, 1_000_000).default(1000),
});

const sourceShape = z.strictObject({
  name: pattern(/^[a-z0-9_-]+$/, 'a source name must match [a-z0-9_-]+'),
  kind: z.enum(SOURCE_KINDS),
  url: z.string().min(1),
  capture: z.enum(CAPTURE_MODES).default('auto'),
  poll: pollSchema.prefault({}),
  mappings: z.string().min(1).optional(),
  publication: pattern(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a publication name must be a plain identifier of at most 63 characters').default(
    'hms_sync',
  ),
  slot: pattern(/^[a-z0-9_]{1,63}$/, 'a replication slot name must match [a-z0-9_]{1,63}').optional(),
  snapshot: z.enum(SNAPSHOT_MODES).default('initial'),
  timezone: timeZone.default('UTC'),
});

const sourceSchema = sourceShape.superRefine((source, ctx) => {
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
});

const subscriberShape = z.strictObject({
  id: pattern(/^[A-Za-z0-9_-]+$/, 'a subscriber id must match [A-Za-z0-9_-]+'),
  type: z.enum(['webhook', 'postgres']),
  endpoint: z.string().min(1),
  topics: z.array(z.string().min(1)).min(1),
  maxAttempts: integer(1, 1000).default(8),
});

const subscriberSchema = subscriberShape.superRefine((subscriber, ctx) => {
  const problem =
    subscriber.type === 'webhook' ? checkHttpUrl(subscriber.endpoint) : checkDatabaseUrl('postgres', subscriber.endpoint);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['endpoint'], message: problem });
});

export const configSchema = z.strictObject({
  nats: natsSchema.prefault({}),
  sources: z.array(sourceSchema).min(1),
  reconcile: reconcileSchema.prefault({}),
  http: httpSchema.optional(),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
  subscribers: z.array(subscriberSchema).default([]),
});

export type ConfigInput = z.output<typeof configSchema>;
