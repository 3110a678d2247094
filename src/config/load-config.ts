/**
 * Reads `hms-sync.yaml` once, at the edge, into a typed Config. Every problem is reported
 * as `FILE:LINE:COL: KEYPATH: message` (all of them, one per line, in file order) in one
 * HmsSyncError('CONFIG'); secrets never appear in it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HmsSyncError } from '../errors.ts';
import { redactSecrets, registerSecret } from '../util/secrets.ts';
import { parseYamlSource, sortIssues, validateWithSchema, type SourceIssue, type YamlSource } from '../util/yaml-source.ts';
import { interpolateEnv, protectReferences, restoreBraces } from './env.ts';
import { configSchema, type ConfigInput, type SubscriberInput } from './schema.ts';
import type { Config, SourceConfig, SubscriberConfig } from './types.ts';
import { sqlitePath } from './urls.ts';

type Env = Record<string, string | undefined>;

function fail(issues: SourceIssue[]): never {
  const lines = sortIssues(issues).map((issue) => restoreBraces(issue.text));
  throw new HmsSyncError('CONFIG', redactSecrets(lines.join('\n')));
}

/**
 * Names that must be unique across a list (sources, subscribers). Checked on the raw data,
 * so a duplicate is reported together with any other problem of the file.
 */
function duplicates(source: YamlSource, data: unknown, list: string, id: string, what: string): SourceIssue[] {
  const items = (data as Record<string, unknown>)[list];
  if (!Array.isArray(items)) return [];
  const first = new Map<string, number>();
  const issues: SourceIssue[] = [];
  items.forEach((item: unknown, index) => {
    const value = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[id] : undefined;
    if (typeof value !== 'string') return;
    const seen = first.get(value);
    if (seen === undefined) first.set(value, index);
    else issues.push(source.issue([list, index, id], `duplicate ${what} "${value}" (also ${list}[${seen}])`));
  });
  return issues;
}

/** A password written literally in a URL is as secret as one from a variable. */
function registerUrlPassword(url: string): void {
  try {
    const password = new URL(url).password;
    if (password !== '') {
      registerSecret(password);
      registerSecret(decodeURIComponent(password));
    }
  } catch {
    // not a URL: nothing in it to register
  }
}

/**
 * A checked `subscribers:` entry (or POST /api/subscribers body) as a SubscriberConfig:
 * durations in ms, optional keys present only when given.
 */
export function subscriberConfig(input: SubscriberInput): SubscriberConfig {
  const backoff =
    input.backoff === undefined
      ? undefined
      : {
          ...(input.backoff.initial !== undefined && { initialMs: input.backoff.initial }),
          ...(input.backoff.max !== undefined && { maxMs: input.backoff.max }),
        };
  return {
    id: input.id,
    type: input.type,
    endpoint: input.endpoint,
    topics: [...input.topics],
    maxAttempts: input.maxAttempts,
    ...(input.from !== undefined && { from: input.from }),
    ...(input.secret !== undefined && { secret: input.secret }),
    ...(input.timeout !== undefined && { timeoutMs: input.timeout }),
    ...(input.heartbeat !== undefined && { heartbeatMs: input.heartbeat }),
    ...(backoff !== undefined && { backoff }),
    ...(input.role !== undefined && { role: input.role }),
  };
}

function buildConfig(source: YamlSource, input: ConfigInput, file: string): Config {
  const issues: SourceIssue[] = [];
  const baseDir = path.dirname(file);

  const sources: SourceConfig[] = input.sources.map((raw, index) => {
    let sqliteFile: string | undefined;
    if (raw.kind === 'sqlite') {
      sqliteFile = sqlitePath(raw.url ?? '', baseDir);
      if (sqliteFile === undefined) {
        issues.push(source.issue(['sources', index, 'url'], 'expected a sqlite database file, such as sqlite:./legacy.db'));
      }
    }
    return {
      name: raw.name,
      kind: raw.kind,
      // A webhook source has no url (the schema requires one for every other kind).
      url: raw.url ?? '',
      ...(raw.webhook !== undefined && {
        webhook: {
          ...(raw.webhook.secret !== undefined && { secret: raw.webhook.secret }),
          ...(raw.webhook.token !== undefined && { token: raw.webhook.token }),
          idempotencyHeader: raw.webhook.idempotencyHeader.toLowerCase(),
          dedupeWindowMs: raw.webhook.dedupeWindow,
        },
      }),
      ...(sqliteFile !== undefined && { path: sqliteFile }),
      capture: raw.capture,
      poll: {
        intervalMs: raw.poll.interval,
        debounceMs: raw.poll.debounce,
        chunkSize: raw.poll.chunkSize,
        concurrency: raw.poll.concurrency,
        statementTimeoutMs: raw.poll.statementTimeout,
        recheckMs: raw.poll.recheck,
      },
      mappings: path.resolve(baseDir, raw.mappings ?? path.join('mappings', raw.name)),
      publication: raw.publication,
      slot: raw.slot ?? `hms_sync_${raw.name.replaceAll('-', '_')}`,
      snapshot: raw.snapshot,
      timezone: raw.timezone,
      maxSlotLagBytes: raw.maxSlotLag,
    };
  });

  // Two sources on one database with one slot would steal each other's changes.
  const slots = new Map<string, number>();
  sources.forEach((s, index) => {
    if (s.kind !== 'postgres') return;
    const other = slots.get(`${s.url}\u0000${s.slot}`);
    if (other === undefined) slots.set(`${s.url}\u0000${s.slot}`, index);
    else issues.push(source.issue(['sources', index, 'slot'], `replication slot "${s.slot}" is also used by sources[${other}] on the same database`));
  });
  if (issues.length > 0) fail(issues);

  for (const s of sources) {
    if (s.kind !== 'webhook') registerUrlPassword(s.url);
    registerSecret(s.webhook?.secret);
    registerSecret(s.webhook?.token);
  }
  if (input.reconcile.target.url !== undefined) registerUrlPassword(input.reconcile.target.url);
  for (const subscriber of input.subscribers) {
    registerUrlPassword(subscriber.endpoint);
    registerSecret(subscriber.secret);
  }
  registerSecret(input.nats.password);
  registerSecret(input.nats.token);
  registerSecret(input.http?.token);
  for (const scoped of input.http?.tokens ?? []) registerSecret(scoped.token);

  const { duplicateWindow, lease, creds, tls, heartbeat, ...nats } = input.nats;
  const fromConfigDir = (file: string): string => path.resolve(baseDir, file);
  const target = input.reconcile.target;
  return {
    file,
    nats: {
      ...nats,
      duplicateWindowMs: duplicateWindow,
      ...(creds !== undefined && { creds: fromConfigDir(creds) }),
      ...(tls !== undefined && {
        tls: {
          ...(tls.ca !== undefined && { ca: fromConfigDir(tls.ca) }),
          ...(tls.cert !== undefined && { cert: fromConfigDir(tls.cert) }),
          ...(tls.key !== undefined && { key: fromConfigDir(tls.key) }),
        },
      }),
      lease: { ttlMs: lease.ttl, renewMs: lease.renew },
      heartbeatMs: heartbeat,
    },
    sources,
    reconcile: {
      schedule: input.reconcile.schedule,
      target: target.kind === 'stream' ? { kind: 'stream' } : { kind: target.kind, url: target.url! },
    },
    ...(input.http !== undefined && { http: input.http }),
    log: input.log,
    subscribers: input.subscribers.map(subscriberConfig),
  };
}

/**
 * Loads and checks a config file. `${VAR}` references are taken from `env`. Throws
 * HmsSyncError('CONFIG') naming file, line, column and key for every problem found.
 */
export async function loadConfig(file: string, env: Env = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'config file not found'
        : code === 'EISDIR'
          ? 'is a folder, not a config file'
          : `cannot read config file (${code ?? String(error)})`;
    throw new HmsSyncError('CONFIG', `${file}: ${why}`, { cause: error });
  }
  return parseConfig(file, text, env);
}

/** loadConfig for text already read: `file` names it in messages and anchors relative paths. */
export function parseConfig(file: string, text: string, env: Env = process.env): Config {
  const source = parseYamlSource(file, protectReferences(text));
  if (source.syntaxErrors.length > 0) {
    fail(source.syntaxErrors.map((issue) => ({ ...issue, text: `${issue.text} (not valid YAML)` })));
  }
  const plain = source.toPlain();
  if (plain.issues.length > 0) fail(plain.issues);
  if (plain.value === null || typeof plain.value !== 'object' || Array.isArray(plain.value)) {
    fail([source.issue([], 'a config file must be a YAML mapping with nats, sources, ...')]);
  }

  const interpolated = interpolateEnv(plain.value, env);
  const unset = interpolated.problems.map((problem) => source.issue(problem.path, problem.message));
  const validated = validateWithSchema(source, configSchema, interpolated.value);
  const repeated = [
    ...duplicates(source, interpolated.value, 'sources', 'name', 'source name'),
    ...duplicates(source, interpolated.value, 'subscribers', 'id', 'subscriber id'),
  ];
  if (unset.length > 0 || repeated.length > 0 || !validated.ok) {
    // A value whose variable is unset is reported for that, not also for its unexpanded text.
    const unsetAt = new Set(unset.map((issue) => issue.keyPath));
    fail([...unset, ...repeated, ...(validated.ok ? [] : validated.issues.filter((issue) => !unsetAt.has(issue.keyPath)))]);
  }
  return buildConfig(source, validated.value, path.resolve(file));
}
