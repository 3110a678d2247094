import type { QueryResultRow } from 'pg';

/** Lifecycle shared by every test server. Disposing stops it and removes its temp dir. */
export interface ServerLifecycle extends AsyncDisposable {
  /** 'process': a child process of this test run; 'container': a Docker container via testcontainers. */
  readonly backend: 'process' | 'container';
  /** Clean shutdown; resolves once the server is down. No-op when already down. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it accepts connections. No-op when running. */
  start(): Promise<void>;
  /** SIGKILL (a crash); resolves once the server and its children are gone, so start() can follow. */
  kill(): Promise<void>;
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

export interface MariadbServer extends ServerLifecycle {
  readonly host: string;
  readonly port: number;
  readonly rootPassword: string;
  /** mysql://root:…@127.0.0.1:PORT/db */
  rootUrl(db?: string): string;
  url(user: string, password: string, db?: string): string;
  /**
   * Runs one statement through a short-lived root connection and returns what mysql2 returns
   * first: the rows of a SELECT, a ResultSetHeader for DDL/DML.
   */
  query<T = Record<string, unknown>[]>(sql: string, params?: unknown[], db?: string): Promise<T>;
}

export interface PostgresOptions {
  /** Extra postgresql.conf settings (process backend) or `-c` flags (container backend). */
  settings?: Record<string, string>;
}

export interface NatsOptions {
  /** Fixed client port; default a free one. */
  port?: number;
  /** Use this JetStream store dir (left in place at dispose); default a fresh one in the temp dir. */
  storeDir?: string;
}

export interface MariadbOptions {
  /** Extra mariadbd options, passed as --key=value. */
  settings?: Record<string, string>;
}
