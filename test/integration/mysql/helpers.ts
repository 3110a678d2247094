// Helpers for the MySQL / MariaDB integration tests: a MariaDB 10.11 (row binlog, FULL images
// and metadata) with a legacy database and a replication-only account, a session for
// transactions, and reading what the bridge published.
import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import mysql from 'mysql2/promise';
import { startMariadb, type MariadbServer } from '../../support/servers.ts';
import { withNats, type StoredMessage } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

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

/** Every message of the stream in order, up to its last sequence at the time of the call. */
export async function readWholeStream(url: string, stream: string): Promise<StoredMessage[]> {
  return withNats(url, async (nc) => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    const lastSeq = info.state.last_seq;
    const name = `reader_${randomBytes(6).toString('hex')}`;
    await jsm.consumers.add(stream, { name, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 60_000_000_000 });
    try {
      const consumer = await jetstream(nc).consumers.get(stream, name);
      const out: StoredMessage[] = [];
      const decoder = new TextDecoder();
      let seen = 0;
      while (seen < lastSeq) {
        const batch = await consumer.fetch({ max_messages: Math.min(lastSeq - seen, 5000), expires: 5000 });
        let got = 0;
        for await (const m of batch) {
          got += 1;
          seen = m.seq;
          out.push({
            seq: m.seq,
            subject: m.subject,
            msgId: m.headers?.get('Nats-Msg-Id'),
            op: m.headers?.get('Hms-Op'),
            body: JSON.parse(decoder.decode(m.data)),
          });
          if (seen >= lastSeq) break;
        }
        if (got === 0) break;
      }
      return out;
    } finally {
      await jsm.consumers.delete(stream, name).catch(() => undefined);
    }
  });
}

export async function streamCount(natsUrl: string, stream: string): Promise<number> {
  return withNats(natsUrl, async (nc) => (await (await jetstreamManager(nc)).streams.info(stream).catch(() => undefined))?.state.messages ?? 0);
}

/** Polls the stream until `ready(messages)` holds; the timeout error lists what it held. */
export async function waitForStream(
  natsUrl: string,
  stream: string,
  ready: (messages: StoredMessage[]) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<StoredMessage[]> {
  let last: StoredMessage[] = [];
  try {
    return await waitFor(
      async () => {
        last = await readWholeStream(natsUrl, stream);
        return ready(last) ? last : false;
      },
      { what, timeoutMs, intervalMs: 250 },
    );
  } catch (error) {
    const seen = last
      .slice(-40)
      .map((m) => `${m.seq} ${m.subject} ${m.body?.op ?? ''} ${m.body?.source?.position ?? ''} ${m.body?.error ?? ''}`)
      .join('\n');
    throw new Error(`${(error as Error).message}\nstream held (last 40 of ${last.length}):\n${seen}`, { cause: error });
  }
}

export function under(messages: StoredMessage[], prefix: string): StoredMessage[] {
  return messages.filter((m) => m.subject.startsWith(prefix));
}

/** MySQL positions: file sequence, transaction offset, index (see capture/mysql/position.ts). */
export const MYSQL_POSITION = /^\d{10}-\d{10}-[0-9A-F]{8}$/;
