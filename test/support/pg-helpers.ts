// Helpers for the PostgreSQL integration tests: a disposable session for multi-statement
// transactions, and polling the stream until it holds what a test waits for.
import pg from 'pg';
import { readStream, type StoredMessage } from './stream.ts';
import { waitFor } from './wait.ts';

export interface PgSession extends AsyncDisposable {
  client: pg.Client;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** BEGIN; each statement; COMMIT (ROLLBACK and rethrow on failure). */
  transaction(statements: string[]): Promise<void>;
}

/** One connection kept open (transactions need a single session). */
export async function pgSession(url: string): Promise<PgSession> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  return {
    client,
    query: async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => (await client.query<R>(sql, params)).rows,
    async transaction(statements) {
      await client.query('BEGIN');
      try {
        for (const statement of statements) await client.query(statement);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
    async [Symbol.asyncDispose]() {
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * Every message of the stream, in order, like readStream in stream.ts, but it stops at the
 * stream's last sequence instead of asking the consumer for its pending count (readStream's
 * `consumer.info(true)` returns the cached count, so each call ends with a fetch that waits
 * out its full 5 s expiry; polled in a loop that makes every wait 5 s long).
 */
/** Every message of the stream, in stream order. */
export function readWholeStream(url: string, stream: string): Promise<StoredMessage[]> {
  return readStream(url, stream);
}

/**
 * Polls the stream until `ready(messages)` holds; returns the messages then. `what` names the
 * wait in the timeout error, which also lists what the stream held at the last poll.
 */
export async function waitForStream(
  natsUrl: string,
  stream: string,
  ready: (messages: StoredMessage[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<StoredMessage[]> {
  let last: StoredMessage[] = [];
  try {
    return await waitFor(
      async () => {
        last = await readWholeStream(natsUrl, stream);
        return ready(last) ? last : false;
      },
      { what, timeoutMs, intervalMs: 200 },
    );
  } catch (error) {
    const seen = last
      .slice(-40)
      .map((m) => `${m.seq} ${m.subject} ${m.body?.op ?? ''} ${m.body?.source?.position ?? ''} ${m.body?.error ?? ''}`)
      .join('\n');
    throw new Error(`${(error as Error).message}\nstream held (last 40 of ${last.length}):\n${seen}`, { cause: error });
  }
}

/** Messages whose subject starts with `prefix`. */
export function under(messages: StoredMessage[], prefix: string): StoredMessage[] {
  return messages.filter((m) => m.subject.startsWith(prefix));
}

/** The last token of a subject (the key token of an entity subject). */
export function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}

/** `after` without the listed fields, to compare rows that differ only in their key. */
export function without(after: Record<string, unknown>, ...fields: string[]): Record<string, unknown> {
  const copy = { ...after };
  for (const field of fields) delete copy[field];
  return copy;
}
