// Reads what the bridge published, straight from the JetStream stream.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface StoredMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  op: string | undefined;
  body: any;
}

export async function withNats<T>(url: string, use: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: url });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

/** Every message of the stream under `filter` (default: all), in stream order. */
export async function readStream(url: string, stream: string, filter?: string): Promise<StoredMessage[]> {
  return withNats(url, async (nc) => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    const js = jetstream(nc);
    const name = `reader_${Math.random().toString(36).slice(2)}`;
    await jsm.consumers.add(stream, {
      name,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      ...(filter ? { filter_subject: filter } : {}),
      inactive_threshold: 60_000_000_000,
    });
    try {
      const consumer = await js.consumers.get(stream, name);
      const out: StoredMessage[] = [];
      const decoder = new TextDecoder();
      for (;;) {
        // Not the cached info: a cached pending count ends every read with a fetch that
        // waits out its whole expiry.
        const pending = (await consumer.info()).num_pending;
        if (pending === 0) break;
        const batch = await consumer.fetch({ max_messages: Math.min(pending, 5000), expires: 5000 });
        let got = 0;
        for await (const m of batch) {
          got += 1;
          out.push({
            seq: m.seq,
            subject: m.subject,
            msgId: m.headers?.get('Nats-Msg-Id'),
            op: m.headers?.get('Hms-Op'),
            body: JSON.parse(decoder.decode(m.data)),
          });
        }
        if (got === 0) break;
      }
      return out;
    } finally {
      await jsm.consumers.delete(stream, name).catch(() => undefined);
    }
  });
}

/** The newest envelope per subject (a deleted key keeps its `d` envelope). */
export function latestBySubject(messages: StoredMessage[]): Map<string, StoredMessage> {
  const latest = new Map<string, StoredMessage>();
  for (const m of messages) latest.set(m.subject, m);
  return latest;
}

/** The live rows the stream describes: key subject -> `after`, deletes removed. */
export function liveRows(messages: StoredMessage[], entityPrefix: string): Map<string, any> {
  const rows = new Map<string, any>();
  for (const [subject, m] of latestBySubject(messages.filter((x) => x.subject.startsWith(entityPrefix)))) {
    if (m.body.op !== 'd' && m.body.op !== 't') rows.set(subject, m.body.after);
  }
  return rows;
}

/** Asserts the stream's invariants: ids unique, positions increasing per key. Returns problems found. */
export function streamProblems(messages: StoredMessage[], entityPrefix: string): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const lastPosition = new Map<string, string>();
  for (const m of messages) {
    if (!m.subject.startsWith(entityPrefix)) continue;
    const id = m.msgId ?? '';
    if (seen.has(id)) problems.push(`duplicate id ${id} at seq ${seen.get(id)} and ${m.seq}`);
    seen.set(id, m.seq);
    if (m.body.id !== m.msgId) problems.push(`seq ${m.seq}: body id ${m.body.id} != Nats-Msg-Id ${m.msgId}`);
    const previous = lastPosition.get(m.subject);
    const position: string = m.body.source.position;
    if (previous !== undefined && !(position > previous) && m.body.op !== 'r') {
      problems.push(`${m.subject}: position ${position} at seq ${m.seq} not after ${previous}`);
    }
    if (previous === undefined || position > previous) lastPosition.set(m.subject, position);
  }
  return problems;
}
