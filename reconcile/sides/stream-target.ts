/**
 * The stream as a target: the latest envelope per key. JetStream cannot checksum on the
 * server, so this side reads the latest envelope of every key once, through an ordered
 * consumer with deliver_policy last_per_subject filtered on `<prefix>.<source>.<entity>.>`
 * (the server walks its per-subject index and sends one message per key, not the history),
 * and keeps each key's hash and position in an IndexedSide. Row values are fetched again
 * (direct get of the subject's last message) only for the ranges bisection asks for.
 *
 * A key whose latest envelope is `d` is absent; a `t` (truncate) envelope makes every key
 * whose envelope is older than it absent. Both keep their position, so a delete committed
 * during the run is recognized as in flight.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { entitySubject, type Envelope } from '../../src/envelope/envelope.ts';
import { HmsSyncError, errorMessage } from '../../src/errors.ts';
import type { JsonObject } from '../../src/mapping/types.ts';
import { IndexedSide, type IndexEntry } from '../indexed-side.ts';
import { hashRow, keyId, keyObjectOf, rowKey } from '../normalize.ts';
import type { CompareSpec, KeyRef, ReconcileSide, SideRow } from '../types.ts';

export interface StreamTargetOptions {
  nc: NatsConnection;
  stream: string;
  subjectPrefix: string;
  sourceName: string;
  entity: string;
  spec: CompareSpec;
  signal: AbortSignal;
}

const decoder = new TextDecoder();
const PARALLEL_GETS = 64;

export class StreamTargetSide {
  /** Envelopes read to build the index (one per key ever published). */
  scanned = 0;

  private constructor(
    private readonly jsm: JetStreamManager,
    private readonly options: StreamTargetOptions,
    readonly index: IndexedSide,
  ) {}

  static async open(options: StreamTargetOptions): Promise<StreamTargetSide> {
    const { nc, stream, subjectPrefix, sourceName, entity, spec, signal } = options;
    const jsm = await jetstreamManager(nc);
    const filter = `${subjectPrefix}.${sourceName}.${entity}.>`;
    const truncateSubject = `${subjectPrefix}.${sourceName}.${entity}._truncate`;
    const live = new Map<string, IndexEntry>();
    const tombstones = new Map<string, string>();
    let truncatedAt: string | undefined;
    let scanned = 0;
    try {
      const info = await jsm.streams.info(stream).catch(() => undefined);
      if (info && info.state.messages > 0) {
        const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.LastPerSubject });
        const pending = (await consumer.info()).num_pending;
        if (pending > 0) {
          const messages = await consumer.consume({ max_messages: 5000 });
          try {
            for await (const m of messages) {
              signal.throwIfAborted();
              scanned += 1;
              const envelope = JSON.parse(decoder.decode(m.data)) as Envelope;
              const position = envelope.source.position;
              if (m.subject === truncateSubject || envelope.op === 't') {
                if (truncatedAt === undefined || position > truncatedAt) truncatedAt = position;
              } else if (envelope.key) {
                const key = rowKey(spec, envelope.key);
                const id = keyId(key);
                if (envelope.op === 'd' || !envelope.after) {
                  tombstones.set(id, position);
                  live.delete(id);
                } else {
                  const [hi, lo] = hashRow(spec, envelope.after);
                  live.set(id, { key, keyObject: keyObjectOf(spec, envelope.key), hi, lo, position });
                  tombstones.delete(id);
                }
              }
              if (m.info.pending === 0) break;
            }
          } finally {
            messages.stop();
          }
        }
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') throw error;
      throw new HmsSyncError('NATS', `cannot read the latest envelopes of ${filter} from stream ${stream}: ${errorMessage(error)}`, {
        cause: error,
        retryable: true,
      });
    }
    if (truncatedAt !== undefined) {
      for (const [id, entry] of live) {
        if (entry.position! < truncatedAt) {
          live.delete(id);
          tombstones.set(id, truncatedAt);
        }
      }
    }
    let side!: StreamTargetSide;
    const index = new IndexedSide('stream', spec, [...live.values()], (entries) => side.fetch(entries, false), tombstones);
    side = new StreamTargetSide(jsm, options, index);
    side.scanned = scanned;
    return side;
  }

  /** The latest envelope of each key, read now (so possibly newer than the index). */
  private async fetch(refs: readonly { keyObject: JsonObject }[], withDeletes: boolean): Promise<SideRow[]> {
    const { stream, subjectPrefix, sourceName, entity, spec } = this.options;
    const rows: SideRow[] = [];
    for (let i = 0; i < refs.length; i += PARALLEL_GETS) {
      const got = await Promise.all(
        refs.slice(i, i + PARALLEL_GETS).map((ref) =>
          this.jsm.streams.getMessage(stream, { last_by_subj: entitySubject(subjectPrefix, sourceName, entity, ref.keyObject) }).catch((error: unknown) => {
            if (/no message found|not found/i.test(errorMessage(error))) return null;
            throw error;
          }),
        ),
      );
      for (const message of got) {
        if (!message) continue;
        const envelope = JSON.parse(decoder.decode(message.data)) as Envelope;
        if (envelope.op === 'd' || !envelope.after) {
          if (withDeletes && envelope.key) rows.push({ values: keyObjectOf(spec, envelope.key), position: envelope.source.position, deleted: true });
          continue;
        }
        rows.push({ values: envelope.after, position: envelope.source.position });
      }
    }
    return rows;
  }

  /** The side bisection sees: index checksums, current rows, positions and re-reads. */
  side(): ReconcileSide {
    const index = this.index;
    return {
      name: 'stream',
      countAndChecksum: (range) => index.countAndChecksum(range),
      rows: (range) => index.rows(range),
      splitPoints: (range, parts) => index.splitPoints(range, parts),
      positions: (keys) => index.positions(keys),
      rowsByKey: (keys: readonly KeyRef[]) => this.fetch(keys, true),
    };
  }
}
