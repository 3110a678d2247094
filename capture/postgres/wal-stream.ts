import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { HmsSyncError } from '../../src/errors.ts';
import { compareLsn, lsnToHex16 } from '../../src/envelope/envelope.ts';
import type { Logger } from '../../src/log.ts';
import type { SourceColumn, SourceRow } from '../../src/mapping/types.ts';
import type { ChangeBatch, RawChange } from '../../src/ports.ts';
import { BatchQueue } from '../../src/util/batch-queue.ts';
import { hex8 } from '../../src/util/hex8.ts';
import { classifyPgError, clientConfig, connectClient, describeServer, quoteIdent, quoteTable } from './connection.ts';
import { kindForOid, pgTextToSourceValue } from './pg-types.ts';
import type { PgColumn, PgTable } from './catalog.ts';
import { ToastCarry } from './toast-carry.ts';
import { handMessagesTo } from './message-hand-over.ts';
import { isRowMessage, PgoutputRowReader, type RowMessage, type RowUpdate, type StreamMessage } from './pgoutput-rows.ts';

export interface StreamTable {
  table: PgTable;
  keyColumns: string[];
}

export interface WalStreamOptions {
  url: string;
  slot: string;
  publication: string;
  tables: Map<string, StreamTable>;
  log: Logger;
  /**
   * Changes per batch before a batch is handed on mid-transaction (default 250). A change lives
   * while its batch is read, waits in the queue and is published: at 1,000 that outlived two
   * young-generation collections in a large transaction and most changes were promoted
   * (docs/benchmarks.md, "Nothing a message makes stays alive until its ack").
   */
  maxBatch?: number;
  /**
   * Batches queued before the replication socket is paused (default 1). One keeps the
   * pipeline fed while the next batch is read; each more keeps its changes alive long enough
   * to be promoted to the old generation: 4 cost ~20 % more garbage-collection time
   * (docs/benchmarks.md).
   */
  maxQueued?: number;
  /** Memory for carrying unchanged TOAST values from a key's previous change. */
  toastCarryBytes?: number;
  /** The slot's confirmed position when streaming starts (what idle keepalives advance from). */
  startLsn?: string;
}

const identity = (text: string): string => text;

/**
 * pgoutput with values kept in the server's text form: the library would otherwise run
 * node-postgres' type parsers (timestamps through the machine's local zone, floats for
 * numbers). Row messages are read by PgoutputRowReader straight into rows (an unchanged TOAST
 * value shows up as `undefined`, distinct from NULL); the rest by the library, with each
 * relation column's parser replaced so nothing it reads is converted either.
 *
 * The library calls parse inside the socket's data handler, where a throw would escape the
 * stream: a message that cannot be read is handed on as `unreadable` and fails the attempt.
 */
export class TextPgoutputPlugin extends PgoutputPlugin {
  private readonly rows = new PgoutputRowReader();

  override parse(buffer: Buffer): Pgoutput.Message {
    try {
      if (isRowMessage(buffer)) return this.rows.read(buffer) as unknown as Pgoutput.Message;
      const message = super.parse(buffer);
      if (message.tag === 'relation') {
        for (const column of message.columns) column.parser = identity;
        this.rows.relation(message);
      }
      return message;
    } catch (error) {
      const unreadable: Unreadable = { tag: 'unreadable', error: error instanceof Error ? error : new Error(String(error)) };
      return unreadable as unknown as Pgoutput.Message;
    }
  }
}

interface Unreadable {
  tag: 'unreadable';
  error: Error;
}

interface OpenTx {
  commitLsn: string;
  /** lsnToHex16(commitLsn) + '-': every position of the transaction starts with it. */
  positionPrefix: string;
  commitTs: string;
  index: number;
  /** Top-level transaction id (32 bits), to tell when the transaction is visible to a read. */
  xid: number;
}

/**
 * Streams a logical replication slot as batches of raw changes. The server is told a
 * position is flushed only through commit(), which the pipeline calls after JetStream
 * acknowledged everything up to it; the library's own acknowledgements are turned off.
 */
export class WalStream {
  private readonly service: LogicalReplicationService;
  private readonly queue: BatchQueue<ChangeBatch<string>>;
  private readonly where: string;
  private readonly maxBatch: number;
  private readonly byRelation = new Map<number, StreamTable & { columns: Map<string, SourceColumn> }>();
  private open: ChangeBatch<string> = { changes: [] };
  private tx: OpenTx | undefined;
  private receivedCommitEnd: string | undefined;
  private confirmedLsn: string | undefined;
  private refetchClient: pg.Client | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly carry: ToastCarry;

  constructor(private readonly options: WalStreamOptions) {
    this.where = describeServer(options.url);
    this.maxBatch = options.maxBatch ?? 250;
    this.queue = new BatchQueue(options.maxQueued ?? 1);
    this.carry = new ToastCarry(options.toastCarryBytes ?? 64 * 1024 * 1024);
    this.confirmedLsn = options.startLsn;
    this.service = new LogicalReplicationService(clientConfig(options.url), {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: true },
    });
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<string>> {
    const onAbort = (): void => this.queue.end();
    signal.addEventListener('abort', onAbort, { once: true });
    handMessagesTo(this.service, (_lsn, message) => this.onMessage(message as unknown as StreamMessage | Unreadable));
    this.service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => this.onHeartbeat(lsn, shouldRespond));
    this.service.on('error', (error: unknown) => this.queue.fail(classifyPgError(error, this.where)));
    const plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: [this.options.publication] });
    this.service
      .subscribe(plugin, this.options.slot)
      .then(() => {
        if (!this.stopping) this.queue.fail(new HmsSyncError('SOURCE_UNREACHABLE', `${this.where}: replication stream ended`, { retryable: true }));
      })
      .catch((error: unknown) => {
        if (!this.stopping) this.queue.fail(classifyPgError(error, this.where));
      });
    // Replies to the server at least every 10 s even when it does not ask, so
    // wal_sender_timeout never cuts an idle but healthy stream.
    this.statusTimer = setInterval(() => void this.sendStatus(), 10_000);
    try {
      for (;;) {
        const batch = await this.queue.take(() => this.takeOpenAtCommit());
        if (batch === undefined) return;
        yield batch;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Everything up to this commit's end LSN is in JetStream: the server may recycle that WAL. */
  async commit(commitEndLsn: string): Promise<void> {
    if (this.confirmedLsn === undefined || compareLsn(commitEndLsn, this.confirmedLsn) > 0) this.confirmedLsn = commitEndLsn;
    await this.sendStatus();
  }


  async close(): Promise<void> {
    this.stopping = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.queue.end();
    await this.service.destroy().catch(() => undefined);
    await this.refetchClient?.end().catch(() => undefined);
  }

  private async sendStatus(): Promise<void> {
    if (this.confirmedLsn === undefined) return;
    // The library reports `lsn + 1` as flushed (it is written for XLogData start positions).
    // The server skips, on restart, every transaction whose commit record starts before the
    // flushed position; a commit record may start exactly at the previous commit's end, so
    // we report the end itself (what PostgreSQL's own apply worker sends), hence the - 1.
    await this.service.acknowledge(lsnMinusOne(this.confirmedLsn)).catch(() => undefined);
  }

  private takeOpenAtCommit(): ChangeBatch<string> | undefined {
    if (this.open.checkpoint === undefined) return undefined;
    const batch = this.open;
    this.open = { changes: [] };
    return batch;
  }

  /** Messages the library has received and queued but not yet handed to us. */
  private moreReceived(): boolean {
    return (this.service as unknown as { _messageQueue: unknown[] })._messageQueue.length > 0;
  }

  private onHeartbeat(lsn: string, shouldRespond: boolean): void {
    // An idle slot must not pin WAL: when everything received has been confirmed and nothing
    // is half-read, the keepalive's position is safe to confirm. The library queues data
    // messages but emits keepalives at once, so its queue must be empty too.
    const internals = this.service as unknown as { _messageQueue: unknown[]; _processing: boolean };
    const idle =
      this.tx === undefined &&
      this.open.changes.length === 0 &&
      this.open.checkpoint === undefined &&
      this.queue.length === 0 &&
      internals._messageQueue.length === 0 &&
      !internals._processing &&
      this.confirmedLsn !== undefined &&
      (this.receivedCommitEnd === undefined || compareLsn(this.confirmedLsn, this.receivedCommitEnd) >= 0);
    if (idle && compareLsn(lsn, this.confirmedLsn!) > 0) this.confirmedLsn = lsn;
    if (shouldRespond || idle) void this.sendStatus();
  }

  /**
   * Returns a promise only when the message had to wait (batch queue full, a TOAST read-back):
   * the next message waits for what this returns (message-hand-over.ts), and an insert, the
   * common case, needs no promise at all (this runs once per row).
   */
  private onMessage(message: StreamMessage | Unreadable): Promise<void> | undefined {
    let pending: Promise<void> | undefined;
    try {
      pending = this.handle(message);
    } catch (error) {
      return this.failAttempt(error);
    }
    if (pending) return pending.then(() => this.afterMessage(), (error: unknown) => this.failAttempt(error));
    this.afterMessage();
    return undefined;
  }

  private afterMessage(): void {
    // The last of the messages received so far: a batch held back at a commit goes now.
    if (this.open.checkpoint !== undefined && this.queue.consumerWaiting && !this.moreReceived()) this.queue.nudge();
  }

  private async failAttempt(error: unknown): Promise<void> {
    // The library logs and skips a message whose handler throws: never let that happen,
    // fail the attempt instead so it restarts from the last confirmed position.
    this.queue.fail(error instanceof HmsSyncError ? error : classifyPgError(error, this.where));
    await this.service.stop().catch(() => undefined);
  }

  private handle(message: StreamMessage | Unreadable): Promise<void> | undefined {
    switch (message.tag) {
      case 'unreadable':
        throw new HmsSyncError('SOURCE_STATE', `${this.where}: a replication message cannot be read: ${message.error.message}`, {
          cause: message.error,
          retryable: true,
        });
      case 'begin':
        this.tx = {
          commitLsn: message.commitLsn ?? '0/0',
          positionPrefix: lsnToHex16(message.commitLsn ?? '0/0') + '-',
          commitTs: microsToIso(message.commitTime as bigint),
          index: 0,
          // The library reads the xid as a signed int32.
          xid: message.xid >>> 0,
        };
        return undefined;
      case 'commit': {
        this.tx = undefined;
        const end = message.commitEndLsn ?? message.commitLsn ?? '0/0';
        this.receivedCommitEnd = end;
        this.open.checkpoint = end;
        if (this.open.changes.length >= this.maxBatch) this.pushOpen();
        // Hand the batch over now only when no more messages are already received: with a
        // backlog, the next transactions join this batch, so one batch (and one socket write
        // to NATS) carries many small transactions instead of one each. pgoutput sends a
        // transaction only once committed, so what is waiting is never a commit away.
        else if (this.queue.consumerWaiting && !this.moreReceived()) this.queue.nudge();
        return this.queue.whenSpace();
      }
      case 'relation':
        this.onRelation(message);
        return undefined;
      case 'insert':
      case 'update':
      case 'delete': {
        const pending = this.onRow(message);
        return pending ? pending.then(() => this.afterChange()) : this.afterChange();
      }
      case 'truncate':
        for (const relation of message.relations) {
          const entry = this.byRelation.get(relation.relationOid);
          if (entry) this.emit(entry, { op: 't', row: null, before: null, keyRow: null });
        }
        return this.afterChange();
      default:
        return undefined;
    }
  }

  /** A full batch is handed on mid-transaction; waits while the batch queue is full. */
  private afterChange(): Promise<void> | undefined {
    if (this.open.changes.length < this.maxBatch) return undefined;
    this.pushOpen();
    return this.queue.whenSpace();
  }

  private pushOpen(): void {
    this.queue.push(this.open);
    this.open = { changes: [] };
  }

  private onRelation(message: Pgoutput.MessageRelation): void {
    const entry = this.options.tables.get(`${message.schema}.${message.name}`);
    if (!entry) return;
    // A relation message precedes the first change after every schema change, so columns
    // added, dropped or renamed are followed here without a restart.
    const columns = new Map<string, PgColumn>();
    for (const column of message.columns) {
      const known = entry.table.columns.get(column.name);
      const nativeType = known && known.typeOid === column.typeOid ? known.nativeType : `oid ${column.typeOid}`;
      columns.set(column.name, { name: column.name, kind: kindForOid(column.typeOid), nativeType, typeOid: column.typeOid });
    }
    this.byRelation.set(message.relationOid, { ...entry, columns });
  }

  /** Inserts and deletes are handled at once; an update may read TOAST values back (async). */
  private onRow(message: RowMessage): Promise<void> | undefined {
    const entry = this.byRelation.get(message.relationOid);
    if (!entry) return undefined;
    const { keyColumns } = entry;
    if (message.tag === 'insert') {
      const row = message.new;
      this.carry.remember(row, () => carryKey(entry, row));
      this.emit(entry, { op: 'c', row, before: null, keyRow: pick(row, keyColumns) });
      return;
    }
    if (message.tag === 'delete') {
      const before = message.old;
      const keyTuple = before ?? message.key;
      const missing = keyColumns.filter((c) => keyTuple?.[c] === undefined);
      if (missing.length > 0 || !keyTuple) {
        this.emit(entry, {
          op: 'd',
          row: null,
          before,
          keyRow: keyTuple,
          error:
            `delete on ${entry.table.table} cannot be mapped: the table's replica identity does not carry key column(s) ` +
            `${missing.join(', ')}; run ALTER TABLE ${quoteTable(entry.table.schema, entry.table.name)} REPLICA IDENTITY FULL`,
        });
        return;
      }
      if (!this.carry.empty) this.carry.forget(carryKey(entry, keyTuple));
      this.emit(entry, { op: 'd', row: null, before, keyRow: pick(keyTuple, keyColumns) });
      return;
    }
    return this.onUpdate(entry, message);
  }

  private async onUpdate(entry: StreamTable & { columns: Map<string, SourceColumn> }, message: RowUpdate): Promise<void> {
    const { keyColumns } = entry;
    const before = message.old;
    let row = message.new;
    const unchanged = Object.keys(row).filter((c) => row[c] === undefined);
    let refetched: string[] | undefined;
    let error: string | undefined;
    if (unchanged.length > 0) {
      const oldKeyRow = message.key ?? row;
      const carried = this.carry.recall(carryKey(entry, oldKeyRow), unchanged);
      // Carried from the key's previous change (exact), else read by key (the current value).
      const fetched = carried ?? (await this.refetch(entry, row, unchanged));
      if (fetched) {
        row = { ...row, ...fetched };
        refetched = unchanged;
      } else {
        error =
          `update on ${entry.table.table}: unchanged TOAST column(s) ${unchanged.join(', ')} were not sent and the row no longer ` +
          `exists to read them back; a later change carries the row (set REPLICA IDENTITY FULL to avoid this)`;
      }
    }
    if (!error) this.carry.remember(row, () => carryKey(entry, row));
    const newKey = pick(row, keyColumns);
    const oldKeySource = before ?? message.key;
    const oldKey = oldKeySource ? pick(oldKeySource, keyColumns) : null;
    if (oldKey && keyColumns.some((c) => oldKey[c] !== undefined && !sameValue(oldKey[c]!, newKey[c]!))) {
      // The key itself changed: consumers keyed by key must see the old key go away.
      this.emit(entry, { op: 'd', row: null, before, keyRow: oldKey });
      this.emit(entry, { op: 'c', row, before: null, keyRow: newKey, ...(refetched ? { refetched } : {}), ...(error ? { error } : {}) });
      return;
    }
    this.emit(entry, { op: 'u', row, before, keyRow: newKey, ...(refetched ? { refetched } : {}), ...(error ? { error } : {}) });
  }

  private emit(
    entry: StreamTable & { columns: Map<string, SourceColumn> },
    change: Pick<RawChange, 'op' | 'row' | 'before' | 'keyRow'> & Partial<Pick<RawChange, 'refetched' | 'error'>>,
  ): void {
    const tx = this.tx;
    if (!tx) throw new HmsSyncError('INTERNAL', `${this.where}: change outside a transaction`);
    tx.index += 1;
    // One object shape for every change (no spread): this runs once per row. The position is
    // pgPosition(commitLsn, index), with the LSN part computed once per transaction.
    const raw: RawChange = {
      op: change.op,
      table: entry.table.table,
      position: tx.positionPrefix + hex8(tx.index),
      commitTs: tx.commitTs,
      capture: 'log',
      row: change.row,
      before: change.before,
      keyRow: change.keyRow,
      columns: entry.columns,
    };
    if (change.refetched !== undefined) raw.refetched = change.refetched;
    if (change.error !== undefined) raw.error = change.error;
    this.open.changes.push(raw);
  }

  /**
   * Reads back columns the server did not send (unchanged TOAST values) by key, in a snapshot
   * that includes the change's own transaction.
   */
  private async refetch(entry: StreamTable, row: SourceRow, columnsToRead: string[]): Promise<SourceRow | undefined> {
    if (!this.refetchClient) this.refetchClient = await connectClient(this.options.url);
    const keys = entry.keyColumns;
    const xid = this.tx?.xid;
    // The walsender sends a transaction as soon as its commit record is flushed, a moment
    // before the transaction becomes visible to other sessions (it leaves the proc array
    // after the flush). A read in that gap sees the table as it was before the transaction: a
    // row the transaction deleted is still there, and under a key the transaction moved a row
    // to, another row's value is read. So the read and the check that the transaction is
    // visible share one statement (one snapshot), repeated until it is. The 32-bit xid of the
    // begin message is widened with the snapshot's epoch (the transaction is older than xmax,
    // or at most a few thousand xids newer while it is still finishing).
    const sql =
      `WITH s AS (SELECT txid_current_snapshot() AS snap), ` +
      `f AS (SELECT snap, ((txid_snapshot_xmax(snap) >> 32) << 32) | $1::bigint AS full_xid FROM s) ` +
      `SELECT txid_visible_in_snapshot(CASE WHEN full_xid - txid_snapshot_xmax(snap) > 2147483648 THEN full_xid - 4294967296 ELSE full_xid END, snap) AS visible, r.* ` +
      `FROM f LEFT JOIN (SELECT true AS found, ${columnsToRead.map(quoteIdent).join(', ')} FROM ${quoteTable(entry.table.schema, entry.table.name)} ` +
      `WHERE ${keys.map((k, i) => `${quoteIdent(k)} = $${i + 2}`).join(' AND ')}) AS r ON true`;
    const params = [
      xid ?? 0,
      ...keys.map((k) => {
        const v = row[k];
        return v instanceof Uint8Array ? Buffer.from(v) : v;
      }),
    ];
    const deadline = Date.now() + 10_000;
    for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
      const result = await this.refetchClient
        .query<(string | null)[]>({ text: sql, values: params, rowMode: 'array' })
        .catch((error: unknown) => {
          // A revoked SELECT surfaces here first (the stream itself needs no table privilege):
          // say which table and why it is read, and what restores it.
          const classified = classifyPgError(error, this.where);
          if (classified.code !== 'SOURCE_PRIVILEGE') throw classified;
          const table = quoteTable(entry.table.schema, entry.table.name);
          throw new HmsSyncError(
            'SOURCE_PRIVILEGE',
            `${this.where}: cannot read unchanged TOAST column(s) ${columnsToRead.join(', ')} of ${entry.table.table} back by key: ` +
              `${(error as Error).message}; a DBA can run: GRANT SELECT ON ${table} TO <bridge user>;`,
            { cause: error, retryable: true },
          );
        });
      const [visible, found, ...values] = result.rows[0] ?? [];
      if (visible === 't' || xid === undefined) {
        if (found !== 't') return undefined;
        const out: SourceRow = {};
        columnsToRead.forEach((column, i) => {
          out[column] = pgTextToSourceValue(entry.table.columns.get(column)?.kind ?? 'other', values[i] ?? null);
        });
        return out;
      }
      if (Date.now() > deadline) {
        throw new HmsSyncError('SOURCE_STATE', `${this.where}: transaction ${xid} was streamed but is still not visible after 10 s`, {
          retryable: true,
        });
      }
      await sleep(pause);
    }
  }
}

export function lsnMinusOne(lsn: string): string {
  const value = BigInt('0x' + lsnToHex16(lsn));
  const less = value === 0n ? 0n : value - 1n;
  return `${(less >> 32n).toString(16).toUpperCase()}/${(less & 0xffffffffn).toString(16).toUpperCase()}`;
}

function carryKey(entry: StreamTable, row: SourceRow): string {
  return entry.table.table + '\u0000' + entry.keyColumns.map((c) => keyText(row[c])).join('\u0000');
}

function keyText(value: SourceRow[string] | undefined): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value ?? '';
}

function pick(row: SourceRow, columns: string[]): SourceRow {
  const out: SourceRow = {};
  for (const c of columns) out[c] = row[c] as SourceRow[string];
  return out;
}

function sameValue(a: SourceRow[string], b: SourceRow[string]): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return a === b;
}

/** pgoutput commit time: microseconds since the Unix epoch (the library already shifted it). */
export function microsToIso(micros: bigint): string {
  const ms = Number(micros / 1000n);
  return new Date(ms).toISOString();
}
