// The demo's window on the stream: an ordered consumer on `<prefix>.>` that reads what the bridge
// stored, the way any downstream system would, and hands each message on classified.
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DeadLetter, Envelope } from '../envelope/index.ts';

export type StreamEvent =
  | { kind: 'envelope'; subject: string; envelope: Envelope; receivedAt: number }
  | { kind: 'dead-letter'; subject: string; deadLetter: DeadLetter; receivedAt: number }
  | { kind: 'status'; subject: string; state: string; reason: string | null };

export interface StreamWatch {
  /** Stops the consumer; resolves once its last message was handed on. */
  stop(): Promise<void>;
  /** Rejects if reading the stream fails. */
  readonly done: Promise<void>;
}

export async function watchStream(
  nc: NatsConnection,
  stream: string,
  subjectPrefix: string,
  onEvent: (event: StreamEvent) => void,
): Promise<StreamWatch> {
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: `${subjectPrefix}.>` });
  const messages = await consumer.consume();
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const message of messages) {
      const receivedAt = Date.now();
      // <prefix>.<source>.dlq.<entity> | <prefix>.<source>.status | <prefix>.<source>.<entity>.<key>
      const tokens = message.subject.slice(subjectPrefix.length + 1).split('.');
      const body: unknown = JSON.parse(decoder.decode(message.data));
      if (tokens[1] === 'dlq') {
        onEvent({ kind: 'dead-letter', subject: message.subject, deadLetter: body as DeadLetter, receivedAt });
      } else if (tokens[1] === 'status' && tokens.length === 2) {
        const status = body as { state: string; reason?: string | null };
        onEvent({ kind: 'status', subject: message.subject, state: status.state, reason: status.reason ?? null });
      } else {
        onEvent({ kind: 'envelope', subject: message.subject, envelope: body as Envelope, receivedAt });
      }
    }
  })();
  return {
    done,
    async stop() {
      await messages.close();
      await done;
    },
  };
}
