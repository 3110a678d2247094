import { jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError, errorMessage } from '../errors.ts';

export interface StreamSettings {
  stream: string;
  subjectPrefix: string;
  duplicateWindowMs: number;
  replicas: number;
}

/**
 * Creates the stream if it is missing, or checks that the existing one captures
 * `<prefix>.>`. Two configs sharing a prefix must name the same stream: JetStream refuses
 * overlapping subjects, and we turn that refusal into a message that says so.
 */
export async function ensureStream(nc: NatsConnection, settings: StreamSettings): Promise<StreamInfo> {
  const jsm = await jetstreamManager(nc);
  const subject = `${settings.subjectPrefix}.>`;
  const existing = await streamInfo(jsm, settings.stream);
  if (existing) {
    if (!existing.config.subjects?.includes(subject)) {
      throw new HmsSyncError(
        'CONFIG',
        `stream ${settings.stream} exists with subjects [${existing.config.subjects?.join(', ')}], not "${subject}": ` +
          `use another stream name or subjectPrefix`,
      );
    }
    return existing;
  }
  try {
    return await jsm.streams.add({
      name: settings.stream,
      subjects: [subject],
      duplicate_window: settings.duplicateWindowMs * 1_000_000,
      num_replicas: settings.replicas,
      allow_direct: true,
      allow_rollup_hdrs: false,
    });
  } catch (error) {
    const message = errorMessage(error);
    if (/overlap/i.test(message)) {
      const owner = await findStreamBySubject(jsm, subject);
      throw new HmsSyncError(
        'CONFIG',
        `subjects "${subject}" already belong to stream ${owner ?? '(another stream)'}; configs sharing a subjectPrefix ` +
          `must name the same stream (nats.stream: ${owner ?? '...'})`,
        { cause: error },
      );
    }
    throw new HmsSyncError('NATS', `cannot create stream ${settings.stream}: ${message}`, { cause: error, retryable: true });
  }
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (/stream not found/i.test(errorMessage(error))) return undefined;
    throw new HmsSyncError('NATS', `cannot read stream ${name}: ${errorMessage(error)}`, { cause: error, retryable: true });
  }
}

async function findStreamBySubject(jsm: JetStreamManager, subject: string): Promise<string | undefined> {
  try {
    return await jsm.streams.find(subject);
  } catch {
    return undefined;
  }
}
