// The server interfaces live in src/servers/types.ts (the demo starts the same servers); the
// MariaDB ones stay here with the MariaDB launcher, which only the tests use.
import type { ServerLifecycle } from '../../src/servers/index.ts';

export type {
  LaunchOptions,
  NatsOptions,
  NatsServer,
  PostgresOptions,
  PostgresServer,
  ServerLifecycle,
  ServerProcessInfo,
} from '../../src/servers/index.ts';

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

export interface MariadbOptions {
  /** Extra mariadbd options, passed as --key=value. */
  settings?: Record<string, string>;
}
