/**
 * The ports between the stages: a capture source yields batches of raw changes that end on a
 * commit boundary (or mid-transaction, without a checkpoint), and takes back a checkpoint
 * only after every envelope up to it was acknowledged by JetStream.
 */
import type { CaptureMethod, Op } from './envelope/envelope.ts';
import type { Logger } from './log.ts';
import type { Mapping, SourceColumn, SourceRow } from './mapping/types.ts';
import type { CaptureObserver } from './metrics/observer.ts';

export interface RawChange {
  op: Op;
  /** "schema.table" exactly as in the catalog (and in the mapping file's `table`). */
  table: string;
  /** Unique per change, sorts in commit order (see DESIGN.md "Envelope"). */
  position: string;
  /** ISO 8601 UTC commit time, where the source gives one. */
  commitTs: string | null;
  capture: CaptureMethod;
  /** New row image (c, u, r); null for d and t. */
  row: SourceRow | null;
  /** Old full row image where the source sends one (REPLICA IDENTITY FULL, FULL binlog image). */
  before: SourceRow | null;
  /** Values of the key columns (always set except for t). */
  keyRow: SourceRow | null;
  columns: ReadonlyMap<string, SourceColumn>;
  /** Columns that the source did not send and the capture read back by key. */
  refetched?: string[];
  /** Set when the capture itself could not produce a faithful row: goes to the dead-letter subject. */
  error?: string;
}

export interface ChangeBatch<C = unknown> {
  changes: RawChange[];
  /** Hand this back through commit() once everything in this batch and before is acknowledged. */
  checkpoint?: C;
}

export interface CaptureSource<C = unknown> {
  readonly name: string;
  /** Yields batches until the signal aborts (then returns) or the attempt fails (then throws). */
  changes(signal: AbortSignal): AsyncIterable<ChangeBatch<C>>;
  /** Everything up to and including this checkpoint is durable in JetStream. */
  commit(checkpoint: C): Promise<void>;
  close(): Promise<void>;
}

/** One outgoing JetStream message. */
export interface OutgoingMessage {
  subject: string;
  msgId: string;
  op: string;
  payload: Uint8Array;
}

export interface Sink {
  /**
   * Hands the message to the connection: undefined when done at once, else a promise that
   * resolves once it was (after waiting for capacity). Await only what is returned.
   */
  publish(message: OutgoingMessage): Promise<void> | undefined;
  /** Sequence number of the last message handed to publish(). */
  readonly lastSequence: number;
  /** Every message with a sequence <= this was acknowledged. */
  readonly ackedThrough: number;
  /** Resolves once ackedThrough >= seq; rejects if the sink failed. */
  waitAcked(seq: number, signal?: AbortSignal): Promise<void>;
}

export interface OffsetStore {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

/** What every log-capture source is given, beside its own connection settings. */
export interface LogSourceOptions {
  name: string;
  url: string;
  snapshot: 'initial' | 'never';
  chunkSize: number;
  mappings: Mapping[];
  offsets: OffsetStore;
  log: Logger;
  /** Called once per attempt when setup succeeded, with each table's key columns. */
  onReady?: (keyColumns: Map<string, string[]>) => void;
  /** Where snapshot progress goes (the bridge's /api/sources); absent outside a bridge. */
  observer?: CaptureObserver;
}

/**
 * Snapshot progress as a log-capture source keeps it in the offsets bucket: the point the
 * snapshot is consistent with (its rows carry it), and per table whether it is done or the
 * last key read (where a restarted snapshot continues).
 */
export interface SnapshotProgress<Point, Key> {
  status: 'running' | 'done';
  startedAt: string;
  tables: Record<string, { done: boolean; lastKey?: Key[] }>;
  point: Point;
}
