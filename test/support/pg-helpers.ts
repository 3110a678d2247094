// Helpers for the PostgreSQL integration tests: a disposable session for multi-statement
// transactions, and polling the stream until it holds what a test waits for.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { withNats, type StoredMessage } from './stream.ts';
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
export async function readWholeStream(url: string, stream: string): Promise<StoredMessage[]> {
  return withNats(url, async (nc) => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    const lastSeq = info.state.last_seq;
    const name = `reader_${Math.random().toString(36).slice(2)}`;
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
    const seen = last.map((m) => `${m.seq} ${m.subject} ${m.body?.op ?? ''}`).join('\n');
    throw new Error(`${(error as Error).message}\nstream held:\n${seen}`, { cause: error });
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
