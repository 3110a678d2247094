/**
 * `GET /api/dead-letters?limit=N`: the newest N messages on `<prefix>.*.dlq.>` in the
 * stream, newest first. The stream is not indexed by subject for reading backwards, so this
 * finds a start sequence from which the filtered pending count is at least N (windows from the
 * stream's end, growing 4x), then reads forward from there and keeps the last N. Cost: a few
 * consumer creations and at most a small multiple of N messages, however long the stream.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../server.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const decoder = new TextDecoder();

export interface DeadLetterView {
  seq: number;
  subject: string;
  /** When JetStream stored it. */
  time: string;
  source: string;
  entity: string;
  error: string | null;
  /** The source row's values as text. */
  raw: Record<string, string | null> | null;
  table: string | null;
  op: string | null;
  position: string | null;
}

export interface DeadLetterRoutesOptions {
  nc: NatsConnection;
  stream: string;
  subjectPrefix: string;
}

export function deadLetterRoutes(options: DeadLetterRoutesOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.get<{ Querystring: { limit?: string } }>('/api/dead-letters', async (request, reply) => {
      const raw = request.query.limit;
      const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return reply.code(400).send({ error: `limit: expected an integer from 1 to ${MAX_LIMIT} (got ${JSON.stringify(raw)})` });
      }
      return lastDeadLetters(options, limit);
    });
  };
}

export async function lastDeadLetters(options: DeadLetterRoutesOptions, limit: number): Promise<DeadLetterView[]> {
  const filter = `${options.subjectPrefix}.*.dlq.>`;
  const messages = await lastMessages(options.nc, options.stream, filter, limit);
  const tokens = options.subjectPrefix.split('.').length;
  return messages.reverse().map((m) => {
    const parts = m.subject.split('.');
    let body: { error?: unknown; raw?: unknown; source?: { table?: unknown; op?: unknown; position?: unknown } } = {};
    try {
      body = JSON.parse(decoder.decode(m.data)) as typeof body;
    } catch {
      // not JSON: shown with its subject only
    }
    const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
    return {
      seq: m.seq,
      subject: m.subject,
      time: m.time,
      source: parts[tokens] ?? '',
      entity: parts.slice(tokens + 2).join('.'),
      error: text(body.error),
      raw: body.raw !== null && typeof body.raw === 'object' ? (body.raw as Record<string, string | null>) : null,
      table: text(body.source?.table),
      op: text(body.source?.op),
      position: text(body.source?.position),
    };
  });
}

interface RawMessage {
  seq: number;
  subject: string;
  time: string;
  data: Uint8Array;
}

/** The last `limit` messages of `stream` under `filter`, oldest first. */
export async function lastMessages(nc: NatsConnection, stream: string, filter: string, limit: number): Promise<RawMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream).catch(() => undefined);
  if (!info || info.state.messages === 0) return [];
  const first = info.state.first_seq;
  const last = info.state.last_seq;
  const pendingFrom = (start: number): Promise<number> => withConsumer(jsm, stream, filter, start, async (_name, pending) => pending);

  // Widen the window from the end until it holds at least `limit` matching messages.
  let span = Math.max(limit * 4, 256);
  let previousStart = last + 1;
  let start = Math.max(first, last - span + 1);
  while (start > first && (await pendingFrom(start)) < limit) {
    previousStart = start;
    span *= 4;
    start = Math.max(first, last - span + 1);
  }
  // The window may have jumped past a dense stretch: narrow it (binary search) so that at most
  // a few times `limit` messages are read.
  let pending = await pendingFrom(start);
  if (pending > limit * 4) {
    let lo = start;
    let hi = previousStart;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await pendingFrom(mid)) >= limit) lo = mid;
      else hi = mid;
    }
    start = lo;
    pending = await pendingFrom(start);
  }
  if (pending === 0) return [];
  return withConsumer(jsm, stream, filter, start, async (name) => {
    const consumer = await jetstream(nc).consumers.get(stream, name);
    const kept: RawMessage[] = [];
    let read = 0;
    while (read < pending) {
      const batch = await consumer.fetch({ max_messages: Math.min(1000, pending - read), expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        got += 1;
        kept.push({ seq: m.seq, subject: m.subject, time: m.time.toISOString(), data: m.data });
        if (kept.length > limit) kept.shift();
      }
      if (got === 0) break;
      read += got;
    }
    return kept;
  });
}

async function withConsumer<T>(
  jsm: JetStreamManager,
  stream: string,
  filter: string,
  start: number,
  use: (name: string, pending: number) => Promise<T>,
): Promise<T> {
  const name = `hms_sync_dlq_${randomBytes(6).toString('hex')}`;
  const info = await jsm.consumers.add(stream, {
    name,
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: start,
    filter_subject: filter,
    mem_storage: true,
    // Removed by the server if this process dies before deleting it.
    inactive_threshold: 30_000_000_000,
  });
  try {
    return await use(name, info.num_pending);
  } finally {
    await jsm.consumers.delete(stream, name).catch(() => undefined);
  }
}
