// Helpers for the MySQL / MariaDB integration tests: a MariaDB 10.11 (row binlog, FULL images
// and metadata) with a legacy database and a replication-only account, a session for
// transactions, and reading what the bridge published.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { startMariadb, type MariadbServer } from '../../support/servers.ts';
import { waitForStream as sharedWaitForStream } from '../../support/pg-helpers.ts';
import type { StoredMessage } from '../../support/stream.ts';

export interface LegacyMariadb extends AsyncDisposable {
  server: MariadbServer;
  /** The legacy database's name. */
  database: string;
  /** The bridge's account: SELECT on the database, REPLICATION SLAVE and REPLICATION CLIENT, nothing else. */
  readerUrl: string;
  reader: { user: string; password: string };
  /** Root on the legacy database, for the test's own writes. */
  rootUrl: string;
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
}

/** The account a DBA gives the bridge: read-only plus the two replication privileges. */
export async function createReader(server: MariadbServer, database: string, prefix = 'reader'): Promise<{ user: string; password: string; url: string }> {
  const user = `${prefix}_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await server.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
  await server.query(`GRANT SELECT ON \`${database}\`.* TO ?@'%'`, [user]);
  await server.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ?@'%'`, [user]);
  return { user, password, url: server.url(user, password, database) };
}

export async function legacyMariadb(settings: Record<string, string> = {}): Promise<LegacyMariadb> {
  const server = await startMariadb({ settings: { 'binlog-row-metadata': 'FULL', ...settings } });
  try {
    const database = 'legacy';
    await server.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
    const reader = await createReader(server, database);
    return {
      server,
      database,
      readerUrl: reader.url,
      reader,
      rootUrl: server.rootUrl(database),
      query: <T>(sql: string, params?: unknown[]) => server.query<T>(sql, params, database),
      async [Symbol.asyncDispose]() {
        await server[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await server[Symbol.asyncDispose]();
    throw error;
  }
}

export interface MysqlSession extends AsyncDisposable {
  connection: mysql.Connection;
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
  /** BEGIN; each statement; COMMIT. */
  transaction(statements: Array<string | [string, unknown[]]>): Promise<void>;
}

/** One connection kept open (transactions need a single session). */
export async function mysqlSession(url: string): Promise<MysqlSession> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 10_000, charset: 'utf8mb4', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  connection.on('error', () => undefined);
  const query = async <T>(sql: string, params?: unknown[]): Promise<T> => (await connection.query(sql, params))[0] as T;
  return {
    connection,
    query,
    async transaction(statements) {
      await connection.query('BEGIN');
      try {
        for (const s of statements) {
          if (typeof s === 'string') await connection.query(s);
          else await connection.query(s[0], s[1]);
        }
        await connection.query('COMMIT');
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
    async [Symbol.asyncDispose]() {
      await connection.end().catch(() => undefined);
    },
  };
}

export { readStream as readWholeStream } from '../../support/stream.ts';
export { streamCount } from '../../support/pg-load.ts';
export { under } from '../../support/pg-helpers.ts';

/** The shared stream wait, with the 30 s default these tests were written with. */
export function waitForStream(
  natsUrl: string,
  stream: string,
  ready: (messages: StoredMessage[]) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<StoredMessage[]> {
  return sharedWaitForStream(natsUrl, stream, ready, what, timeoutMs);
}

/** MySQL positions: file sequence, transaction offset, index (see capture/mysql/position.ts). */
export const MYSQL_POSITION = /^\d{10}-\d{10}-[0-9A-F]{8}$/;
