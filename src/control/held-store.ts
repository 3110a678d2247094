/**
 * The holding stream of paused tables: `<STREAM>_HELD`, subjects `_hms_held.<STREAM>.>`, one
 * subject per source and table (`_hms_held.<STREAM>.<source>.<table token>`). It lies outside
 * the main stream's `<subjectPrefix>.>`, so held changes never reach subscribers as envelopes;
 * they are raw changes (raw-change-codec.ts) waiting for their table's resume.
 */
import { createHash } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { keyToken } from '../envelope/key-token.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { RawChange } from '../ports.ts';
import { decodeRawChange, encodeRawChange } from './raw-change-codec.ts';

export const HELD_SUBJECT_ROOT = '_hms_held';

export function heldStreamName(stream: string): string {
  return `${stream}_HELD`;
}

export function heldSubject(stream: string, source: string, table: string): string {
  return `${HELD_SUBJECT_ROOT}.${stream}.${source}.${keyToken([table])}`;
}

export interface HeldMessage {
  seq: number;
  change: RawChange;
}

/** What the held-changes wrapper needs of the holding stream. */
export interface HeldStore {
  /** Appends changes (in this order) and resolves once JetStream stored them all; returns each one's sequence. */
  append(table: string, changes: RawChange[]): Promise<number[]>;
  /** Sequence of the newest held change of a table (0: none). */
  lastSeq(table: string): Promise<number>;
  /** Up to `max` held changes of a table after sequence `after`, in order. */
  read(table: string, after: number, max: number): Promise<HeldMessage[]>;
  /** Removes the table's held changes up to and including `through`. */
  purge(table: string, through: number): Promise<void>;
}

export interface HeldStreamSettings {
  stream: string;
  source: string;
  duplicateWindowMs: number;
  replicas: number;
}

export class JetStreamHeldStore implements HeldStore {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly settings: HeldStreamSettings,
  ) {}

  static async open(nc: NatsConnection, settings: HeldStreamSettings): Promise<JetStreamHeldStore> {
    const jsm = await jetstreamManager(nc);
    const name = heldStreamName(settings.stream);
    try {
      await jsm.streams.info(name);
    } catch (error) {
      if (!/stream not found/i.test(errorMessage(error))) {
        throw new HmsSyncError('NATS', `cannot read stream ${name}: ${errorMessage(error)}`, { cause: error, retryable: true });
      }
      try {
        await jsm.streams.add({
          name,
          subjects: [`${HELD_SUBJECT_ROOT}.${settings.stream}.>`],
          duplicate_window: settings.duplicateWindowMs * 1_000_000,
          num_replicas: settings.replicas,
          allow_direct: true,
        });
      } catch (addError) {
        // Another process created it meanwhile: fine.
        if (!/already in use|exists/i.test(errorMessage(addError))) {
          throw new HmsSyncError('NATS', `cannot create stream ${name}: ${errorMessage(addError)}`, { cause: addError, retryable: true });
        }
      }
    }
    return new JetStreamHeldStore(jetstream(nc), jsm, settings);
  }

  private subject(table: string): string {
    return heldSubject(this.settings.stream, this.settings.source, table);
  }

  async append(table: string, changes: RawChange[]): Promise<number[]> {
    const subject = this.subject(table);
    // Published back to back on one connection, so they are stored in this order; awaited
    // together. The message id makes a change sent again after a restart a duplicate.
    const acks = await Promise.all(
      changes.map((change) =>
        this.js.publish(subject, encodeRawChange(change), { msgID: heldMessageId(this.settings.source, change) }),
      ),
    );
    let previous = 0;
    for (const ack of acks) {
      if (ack.duplicate) continue;
      if (ack.seq <= previous) {
        throw new HmsSyncError('NATS', `held changes of ${table} were stored out of order (seq ${previous} then ${ack.seq})`, { retryable: true });
      }
      previous = ack.seq;
    }
    const seqs = acks.map((ack) => ack.seq);
    return seqs;
  }

  async lastSeq(table: string): Promise<number> {
    try {
      const message = await this.jsm.direct.getMessage(heldStreamName(this.settings.stream), { last_by_subj: this.subject(table) });
      return message?.seq ?? 0;
    } catch (error) {
      if (/no message found|not found/i.test(errorMessage(error))) return 0;
      throw new HmsSyncError('NATS', `cannot read held changes of ${table}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
  }

  async read(table: string, after: number, max: number): Promise<HeldMessage[]> {
    const out: HeldMessage[] = [];
    let seq = after;
    while (out.length < max) {
      let message;
      try {
        message = await this.jsm.direct.getMessage(heldStreamName(this.settings.stream), { seq: seq + 1, next_by_subj: this.subject(table) });
      } catch (error) {
        if (/no message found|not found/i.test(errorMessage(error))) break;
        throw new HmsSyncError('NATS', `cannot read held changes of ${table}: ${errorMessage(error)}`, { cause: error, retryable: true });
      }
      if (!message) break;
      seq = message.seq;
      out.push({ seq, change: decodeRawChange(message.data) });
    }
    return out;
  }

  async purge(table: string, through: number): Promise<void> {
    await this.jsm.streams.purge(heldStreamName(this.settings.stream), { filter: this.subject(table), seq: through + 1 });
  }

  /**
   * Removes every held change of a table; returns how many. For a change of capture method:
   * held changes belong to the position epoch they were captured in (src/runtime/position-space.ts).
   */
  async discard(table: string): Promise<number> {
    try {
      return (await this.jsm.streams.purge(heldStreamName(this.settings.stream), { filter: this.subject(table) })).purged;
    } catch (error) {
      throw new HmsSyncError('NATS', `cannot discard held changes of ${table}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
  }
}

function heldMessageId(source: string, change: RawChange): string {
  return createHash('sha256').update(JSON.stringify([source, change.position, change.table, change.op])).digest('hex').slice(0, 32);
}
