/** The config (`hms-sync.yaml`) after loading: typed, normalized, defaults filled in. */

export type SourceKind = 'postgres' | 'mysql' | 'oracle' | 'mssql' | 'sqlite';
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
}

export interface PollConfig {
  intervalMs: number;
  debounceMs: number;
  chunkSize: number;
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
