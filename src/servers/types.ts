import type { QueryResultRow } from 'pg';

/** Lifecycle shared by every server the launchers start. Disposing stops it and removes its temp dir. */
export interface ServerLifecycle extends AsyncDisposable {
  /** 'process': a child process of this run; 'container': a Docker container via testcontainers (tests only). */
  readonly backend: 'process' | 'container';
  /** Clean shutdown; resolves once the server is down. No-op when already down. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it accepts connections. No-op when running. */
  start(): Promise<void>;
  /** SIGKILL (a crash); resolves once the server and its children are gone, so start() can follow. */
  kill(): Promise<void>;
}

/** A server that runs as a child process of this one (the process backend). */
export interface ServerProcessInfo {
  /** The server's pid while it runs (the postmaster for PostgreSQL), undefined when it is down. */
  readonly pid: number | undefined;
  /** The temp dir that holds its data and log; removed at dispose. */
  readonly dir: string;
}

export interface PostgresServer extends ServerLifecycle {
  readonly host: string;
  readonly port: number;
  /** The data dir (inside the container for the container backend). */
  readonly dataDir: string;
  readonly superuserPassword: string;
  /** postgres://postgres:…@127.0.0.1:PORT/db */
  superuserUrl(db?: string): string;
  url(user: string, password: string, db?: string): string;
  /** Runs one statement through a short-lived superuser connection; returns its rows. */
  query<R extends QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[], db?: string): Promise<R[]>;
  /** CREATE DATABASE; returns the superuser URL of the new database. */
  createDatabase(name: string): Promise<string>;
}

export interface NatsServer extends ServerLifecycle {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The JetStream store dir (-sd); inside the container for the container backend. */
  readonly storeDir: string;
}

/** How a launcher runs its child processes; the container backend ignores these. */
export interface LaunchOptions {
  /**
   * What the server is for, in lower-case letters: names its temp dir
   * (`hms-sync-<purpose>-<kind>-<pid>-…`) and, for nats-server, its server name. Default `test`.
   */
  purpose?: string;
  /** Run in a process group of our own, out of reach of a terminal's Ctrl-C (see LaunchSpec.detached). Default false. */
  detached?: boolean;
}

export interface PostgresOptions extends LaunchOptions {
  /** Extra postgresql.conf settings (process backend) or `-c` flags (container backend). */
  settings?: Record<string, string>;
}

export interface NatsOptions extends LaunchOptions {
  /** Fixed client port; default a free one. */
  port?: number;
  /** Use this JetStream store dir (left in place at dispose); default a fresh one in the temp dir. */
  storeDir?: string;
  /**
   * Process backend: nats-server config file text, e.g. an `authorization { ... }` or `tls { ... }`
   * block (docs/security.md). Paths in it should be absolute.
   */
  config?: string;
  /** Process backend: the server name (default a unique one). */
  serverName?: string;
  /** Process backend: further command-line flags. */
  args?: string[];
  /**
   * Process backend: GOMAXPROCS for nats-server (default Go's: the number of cores). 1 on a small
   * host it shares with the database and the bridge: docs/benchmarks.md, "nats-server on a shared host".
   */
  goMaxProcs?: number;
}

export interface NatsClusterOptions extends LaunchOptions {
  /** Nodes in the cluster (default 3). */
  nodes?: number;
  /** Config text every node gets besides its cluster block (authorization, ...). */
  config?: string;
}
