/** The config (`hms-sync.yaml`) after loading: typed, normalized, defaults filled in. */

export type SourceKind = 'postgres' | 'mysql' | 'oracle' | 'mssql' | 'sqlite' | 'webhook';
export type CaptureMode = 'auto' | 'log' | 'poll';
export type SnapshotMode = 'initial' | 'never';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface NatsConfig {
  servers: string[];
  stream: string;
  subjectPrefix: string;
  duplicateWindowMs: number;
  replicas: number;
  /** Most publishes awaiting a JetStream acknowledgement at once. */
  maxInflight: number;
  offsetsBucket: string;
  user?: string;
  password?: string;
  token?: string;
  /** Absolute path of a NATS .creds file. */
  creds?: string;
  /** Absolute paths of the TLS files. */
  tls?: NatsTlsConfig;
  lease: LeaseConfig;
  /** Heartbeat interval: each source's state on core NATS, `_HMS.heartbeat.<subjectPrefix>.<source>`. */
  heartbeatMs: number;
}

export interface NatsTlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The per-source capture lease (docs/high-availability.md). */
export interface LeaseConfig {
  /** A standby takes the lease over once the holder has not renewed it for this long. */
  ttlMs: number;
  renewMs: number;
}

export interface PollConfig {
  intervalMs: number;
  debounceMs: number;
  chunkSize: number;
  // Optional in the type (a config file always has them, defaults filled in) so that code
  // building a SourceConfig by hand (tests, tools) need not name them.
  /** Statements against the source at once (default 1). */
  concurrency?: number;
  /** Server-side limit per statement (default 30 s). */
  statementTimeoutMs?: number;
  /** capture: auto while polling: how often log capture is checked for (default 5 min). */
  recheckMs?: number;
}

export interface SourceConfig {
  name: string;
  kind: SourceKind;
  /** Connection URL with variables substituted (holds secrets: log it through redactUrl). */
  url: string;
  /** kind sqlite: the database file, absolute (or ":memory:"). */
  path?: string;
  capture: CaptureMode;
  poll: PollConfig;
  /** Folder of mapping files, absolute. Default: `mappings/<name>` next to the config file. */
  mappings: string;
  publication: string;
  slot: string;
  snapshot: SnapshotMode;
  /** IANA zone of the source's zone-less timestamps. */
  timezone: string;
  /**
   * postgres log capture: bytes of WAL the replication slot may retain (pg_current_wal_lsn() -
   * restart_lsn) before the source is reported `lagging` (docs/operations.md "Slot safety").
   * Optional in the type for SourceConfigs built by hand; a loaded config always has it.
   */
  maxSlotLagBytes?: number;
  /** kind webhook (docs/webhooks.md); absent for every other kind. */
  webhook?: WebhookSourceConfig;
}

export interface WebhookSourceConfig {
  /** HMAC-SHA256 key: callers send `x-hms-signature: sha256=<hex of the raw body's HMAC>`. */
  secret?: string;
  /** Bearer token: callers send `Authorization: Bearer <token>`. */
  token?: string;
  /** Header carrying the caller's idempotency key (lower case). */
  idempotencyHeader: string;
  /** How long a used idempotency key is remembered. */
  dedupeWindowMs: number;
  /** HTTP tokens scoped to this role with the `webhook` permission may post as well. */
  role?: string;
}

export type ReconcileTarget = { kind: 'stream' } | { kind: 'postgres' | 'mysql'; url: string };

export interface ReconcileConfig {
  /** node-cron expression, local time. */
  schedule: string;
  target: ReconcileTarget;
}

export interface HttpConfig {
  host: string;
  port: number;
  /** Admin bearer token: every call. */
  token?: string;
  /** Tokens limited to some permissions and, optionally, one role. */
  tokens: ScopedToken[];
}

export interface ScopedToken {
  name: string;
  token: string;
  role?: string;
  allow: Array<'subscribers' | 'sources' | 'review' | 'webhook'>;
}

export interface LogConfig {
  level: LogLevel;
}

export interface SubscriberConfig {
  id: string;
  type: 'webhook' | 'postgres';
  /** webhook: http(s) URL; postgres: connection URL (holds secrets: log it through redactUrl). */
  endpoint: string;
  /** Entity names, or `*` for all. */
  topics: string[];
  maxAttempts: number;
  /** The optional keys are set only where the file gives them; src/subscribers fills the defaults. */
  from?: 'next' | 'start';
  secret?: string;
  timeoutMs?: number;
  heartbeatMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Tokens scoped to a role see and manage only subscribers of that role. */
  role?: string;
}

export interface Config {
  /** Absolute path of the config file. */
  file: string;
  nats: NatsConfig;
  sources: SourceConfig[];
  reconcile: ReconcileConfig;
  /** Absent: no HTTP server. */
  http?: HttpConfig;
  log: LogConfig;
  subscribers: SubscriberConfig[];
}
