import type mysql from 'mysql2/promise';
import { HmsSyncError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { SourceColumn, SourceRow, SourceValue } from '../../src/mapping/types.ts';
import type { ChangeBatch, RawChange } from '../../src/ports.ts';
import { BatchQueue } from '../../src/util/batch-queue.ts';
import { hex8 } from '../../src/util/hex8.ts';
import {
  BinlogDecodeError,
  parseMariadbGtid,
  parseMysqlGtid,
  parseRowsEvent,
  parseTableMap,
  rowsTableId,
  tableMapNames,
  type BinlogColumn,
  type GtidEvent,
  type RowImage,
  type TableMap,
} from './binlog-events.ts';
import { readColumns, type MysqlColumn, type MysqlTable } from './catalog.ts';
import { classifyMysqlError, parseMysqlUrl, quoteLiteral } from './connection.ts';
import { MariadbGtidState, describePoint, mysqlPosition, type BinlogPoint } from './position.ts';
import type { Flavor } from './snapshot.ts';
import { needsInformationSchema, resolveColumns } from './table-columns.ts';
import { EventType, RawBinlogEvent, createZongji, type BinlogEventLike, type ZongjiInstance, type ZongjiQuery, type ZongjiRotate } from './zongji.ts';

export interface StreamTable {
  table: MysqlTable;
  keyColumns: string[];
}

export interface BinlogStreamOptions {
  url: string;
  where: string;
  flavor: Flavor;
  /** Where reading starts: the end of the last transaction everything of which is in JetStream. */
  from: BinlogPoint;
  /** Resume by GTID (MariaDB, where `from.gtid` is known) instead of file:pos. */
  useGtid: boolean;
  /** Replica server id this client announces; unique per source. */
  serverId: number;
  /** Mapped tables by "database.table". */
  tables: Map<string, StreamTable>;
  /** For information_schema when the table map carries no column names. */
  catalog: mysql.Connection;
  collations: Map<number, string>;
  /** binlog_row_metadata, for messages. */
  rowMetadata: string;
  /** What to tell an operator when the binlog at `from` is gone. */
  resnapshotHint: string;
  log: Logger;
  /** Changes per batch before a batch is handed on mid-transaction. */
  maxBatch?: number;
  /**
   * Batches queued before reading the binlog is paused (default 1). One keeps the pipeline
   * fed while the next batch is read; each more keeps its changes alive long enough to be
   * promoted to the old generation: 4 cost ~20 % more garbage-collection time
   * (docs/benchmarks.md).
   */
  maxQueued?: number;
  /** Seconds between the server's heartbeats on an idle binlog. */
  heartbeatSeconds?: number;
}

interface TableEntry {
  stream: StreamTable;
  /** The table map this entry was made from: a new one with the same bytes reuses the entry. */
  body: Buffer;
  columns: BinlogColumn[];
  sourceColumns: Map<string, SourceColumn>;
  /** Set when the rows of this table map cannot be named: they go to the dead-letter subject. */
  error?: string;
}

interface OpenTransaction {
  file: string;
  /** Offset of the transaction's first event: the position's middle part. */
  start: number;
  index: number;
  commitTs: string;
  gtid?: GtidEvent;
  /** BEGIN seen (a GTID event without BEGIN is one statement, e.g. DDL, with no commit event). */
  begun: boolean;
  mappedChanges: number;
  /** Every position of the transaction up to its change index (set on its first change). */
  positionPrefix?: string;
}

/** Events buffered between zongji and the decoder before reading pauses. */
const FIFO_HIGH = 64;
const FIFO_LOW = 16;
const WATCHDOG_FACTOR = 6;

/**
 * Reads the row binlog from a resume point and turns it into batches of raw changes that end
 * on commit boundaries, with the resume point after each commit as the checkpoint. Reading
 * pauses (the socket stops) when the pipeline falls behind, so a slow JetStream holds the
 * binlog back instead of filling memory; a large transaction is handed on in batches.
 */
export class BinlogStream {
  private readonly queue: BatchQueue<ChangeBatch<BinlogPoint>>;
  private readonly maxBatch: number;
  private readonly fifo: BinlogEventLike[] = [];
  private fifoWake: (() => void) | undefined;
  private paused = false;
  private stopping = false;
  private zongji: ZongjiInstance | undefined;
  private file: string;
  private tx: OpenTransaction | undefined;
  private open: ChangeBatch<BinlogPoint> = { changes: [] };
  private readonly tableMaps = new Map<number, TableEntry | null>();
  private readonly infoCache = new Map<string, MysqlColumn[]>();
  private gtidState: MariadbGtidState | undefined;
  private lastGtid: string | undefined;
  private lastEventAt = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly options: BinlogStreamOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.queue = new BatchQueue(options.maxQueued ?? 1);
    this.file = options.from.file;
    if (options.flavor === 'mariadb' && options.from.gtid !== undefined) this.gtidState = new MariadbGtidState(options.from.gtid);
    if (options.flavor === 'mysql') this.lastGtid = options.from.gtid;
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<BinlogPoint>> {
    const onAbort = (): void => this.queue.end();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.startReading();
      this.running = this.decodeLoop().catch((error: unknown) => {
        this.queue.fail(error instanceof HmsSyncError ? error : this.classify(error));
      });
      for (;;) {
        const batch = await this.queue.take(() => this.takeOpenAtCommit());
        if (batch === undefined) return;
        yield batch;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    this.queue.end();
    this.fifoWake?.();
    const zongji = this.zongji;
    if (zongji && !zongji.stopped) {
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(resolve, 2_000);
        zongji.on('stopped', () => {
          clearTimeout(timeout);
          resolve();
        });
        try {
          zongji.stop();
        } catch {
          clearTimeout(timeout);
          resolve();
        }
      });
    }
    // The decoder stops at its next step; a catalog query to a server that went away is not waited out.
    await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }

  private classify(error: unknown): HmsSyncError {
    const classified = classifyMysqlError(error, this.options.where);
    if ((error as { errno?: number }).errno === 1236) {
      return new HmsSyncError(
        'SOURCE_STATE',
        `${this.options.where}: the binlog at the resume point ${describePoint(this.options.from)} is no longer on the server ` +
          `(${(error as { sqlMessage?: string; message?: string }).sqlMessage ?? (error as Error).message}); ` +
          `the changes after it cannot be read from the log. ${this.options.resnapshotHint}`,
        { cause: error, retryable: true },
      );
    }
    return classified;
  }

  private startReading(): void {
    const { options } = this;
    const target = parseMysqlUrl(options.url);
    const zongji = createZongji({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      connectTimeout: 10_000,
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
      // The same TLS as the query connections (the binlog carries every row's values).
      ...(target.ssl !== undefined && { ssl: { ...(target.ssl.ca !== undefined && { ca: target.ssl.ca }), rejectUnauthorized: target.ssl.rejectUnauthorized } }),
    });
    this.zongji = zongji;
    zongji.on('binlog', (event) => this.onEvent(event));
    zongji.on('error', (error) => {
      if (!this.stopping) this.queue.fail(this.classify(error));
    });
    const heartbeat = options.heartbeatSeconds ?? 5;
    // Both spellings: MySQL 8.4 reads source_heartbeat_period, older servers master_heartbeat_period.
    const setup: string[] = [`SET @master_heartbeat_period = ${heartbeat * 1_000_000_000}, @source_heartbeat_period = ${heartbeat * 1_000_000_000}`];
    if (options.flavor === 'mariadb') {
      // Capability 4 (GTID): the server sends real GTID events instead of rewriting them to BEGIN.
      setup.push('SET @mariadb_slave_capability = 4');
      if (options.useGtid) {
        setup.push(`SET @slave_connect_state = ${quoteLiteral(options.from.gtid ?? '')}`, 'SET @slave_gtid_strict_mode = 0', 'SET @slave_gtid_ignore_duplicates = 0');
      }
    }
    // Queued on the binlog connection, so they run before zongji's own setup and the dump.
    for (const sql of setup) {
      zongji.connection.query(sql, (error) => {
        if (error && !this.stopping) this.queue.fail(this.classify(error));
      });
    }
    const useGtid = options.flavor === 'mariadb' && options.useGtid;
    zongji.start({
      serverId: options.serverId,
      // With @slave_connect_state the server finds the file itself.
      filename: useGtid ? '' : options.from.file,
      position: useGtid ? 4 : options.from.pos,
    });
    this.lastEventAt = Date.now();
    this.timers.push(
      setInterval(() => this.watchdog(heartbeat * WATCHDOG_FACTOR * 1000), heartbeat * 1000),
      // A checkpoint of transactions on unmapped tables is handed on at most once a second.
      setInterval(() => {
        if (this.open.checkpoint !== undefined && this.queue.consumerWaiting) this.queue.nudge();
      }, 1000),
    );
  }

  private watchdog(limitMs: number): void {
    if (this.paused || this.fifo.length > 0 || this.stopping) {
      this.lastEventAt = Date.now();
      return;
    }
    if (Date.now() - this.lastEventAt > limitMs) {
      this.queue.fail(
        new HmsSyncError('SOURCE_UNREACHABLE', `${this.options.where}: no binlog event or heartbeat for ${limitMs / 1000} s; reconnecting`, {
          retryable: true,
        }),
      );
    }
  }

  /** zongji calls this synchronously per event; decoding happens in decodeLoop, in order. */
  private onEvent(event: BinlogEventLike): void {
    if (this.stopping) return;
    this.lastEventAt = Date.now();
    this.fifo.push(event);
    if (!this.paused && this.fifo.length >= FIFO_HIGH) {
      this.paused = true;
      this.zongji?.pause();
    }
    const wake = this.fifoWake;
    this.fifoWake = undefined;
    wake?.();
  }

  /** The next event read, if one is waiting (reading resumes once few are left). */
  private takeEvent(): BinlogEventLike | undefined {
    const event = this.fifo.shift();
    if (event !== undefined && this.paused && this.fifo.length <= FIFO_LOW) {
      this.paused = false;
      this.zongji?.resume();
    }
    return event;
  }

  private async nextEvent(): Promise<BinlogEventLike | undefined> {
    for (;;) {
      if (this.stopping) return undefined;
      const event = this.takeEvent();
      if (event !== undefined) return event;
      await new Promise<void>((resolve) => (this.fifoWake = resolve));
    }
  }

  /**
   * Decodes events in order. Waits only where there is something to wait for (no event read
   * yet, a table map's columns looked up, the batch queue full): three awaits an event, each a
   * promise whether or not it waited, were ~0.6 KB of garbage a row (docs/benchmarks.md).
   */
  private async decodeLoop(): Promise<void> {
    for (;;) {
      const event = (this.stopping ? undefined : this.takeEvent()) ?? (await this.nextEvent());
      if (event === undefined) return;
      const pending = this.handle(event);
      if (pending) await pending;
      if (this.open.changes.length >= this.maxBatch) this.pushOpen();
      // The last of the events read so far: a batch held back at its commit goes now.
      else if (this.fifo.length === 0 && this.open.checkpoint !== undefined && this.open.changes.length > 0 && this.queue.consumerWaiting) {
        this.queue.nudge();
      }
      const room = this.queue.whenSpace();
      if (room) await room;
    }
  }

  private takeOpenAtCommit(): ChangeBatch<BinlogPoint> | undefined {
    if (this.open.checkpoint === undefined) return undefined;
    const batch = this.open;
    this.open = { changes: [] };
    return batch;
  }

  private pushOpen(): void {
    this.queue.push(this.open);
    this.open = { changes: [] };
  }

  /** A promise only for an event that waits for something (a table map's column lookup). */
  private handle(event: BinlogEventLike): Promise<void> | undefined {
    if (event instanceof RawBinlogEvent) return this.handleRaw(event);
    switch (event.getTypeName()) {
      case 'Rotate':
        this.file = (event as ZongjiRotate).binlogName;
        return;
      case 'Query':
        this.onQuery(event as ZongjiQuery);
        return;
      case 'Xid':
        this.commit(event.nextPosition);
        return;
      default:
        return;
    }
  }

  private handleRaw(event: RawBinlogEvent): Promise<void> | undefined {
    switch (event.code) {
      case EventType.MARIADB_GTID: {
        const gtid = parseMariadbGtid(event.body, event.serverId);
        this.begin(event.startPosition, event.timestampSeconds, gtid);
        // MariaDB sends no BEGIN after a GTID event: a transaction runs until its Xid or COMMIT,
        // and statements inside it (SAVEPOINT, …) do not end it. Only a group flagged
        // standalone (DDL) is one statement with no commit event.
        this.tx!.begun = !gtid.standalone;
        return;
      }
      case EventType.GTID:
      case EventType.ANONYMOUS_GTID:
        this.begin(event.startPosition, event.timestampSeconds, parseMysqlGtid(event.body, event.code === EventType.ANONYMOUS_GTID));
        return;
      case EventType.GTID_TAGGED:
        this.begin(event.startPosition, event.timestampSeconds, { standalone: false });
        return;
      case EventType.TABLE_MAP:
        return this.onTableMap(event);
      case EventType.WRITE_ROWS_V1:
      case EventType.UPDATE_ROWS_V1:
      case EventType.DELETE_ROWS_V1:
      case EventType.WRITE_ROWS_V2:
      case EventType.UPDATE_ROWS_V2:
      case EventType.DELETE_ROWS_V2:
        this.onRows(event);
        return;
      case EventType.XA_PREPARE:
        this.options.log.warn({ file: this.file, pos: event.startPosition }, 'XA transaction prepared: its changes are published now, as if committed');
        this.commit(event.nextPosition);
        return;
      case EventType.TRANSACTION_PAYLOAD:
        throw new HmsSyncError(
          'SOURCE_STATE',
          `${this.options.where}: the binlog holds compressed transactions (binlog_transaction_compression=ON), which this build cannot read; ` +
            `a DBA can run: SET GLOBAL binlog_transaction_compression = OFF;`,
          { retryable: true },
        );
      case EventType.PARTIAL_UPDATE_ROWS:
        throw new HmsSyncError(
          'SOURCE_STATE',
          `${this.options.where}: the binlog holds partial JSON updates (binlog_row_value_options=PARTIAL_JSON), which carry no full row; ` +
            `a DBA can run: SET GLOBAL binlog_row_value_options = '';`,
          { retryable: true },
        );
      case EventType.MARIADB_QUERY_COMPRESSED:
      case EventType.MARIADB_WRITE_ROWS_COMPRESSED_V1:
      case EventType.MARIADB_UPDATE_ROWS_COMPRESSED_V1:
      case EventType.MARIADB_DELETE_ROWS_COMPRESSED_V1:
      case EventType.MARIADB_WRITE_ROWS_COMPRESSED:
      case EventType.MARIADB_UPDATE_ROWS_COMPRESSED:
      case EventType.MARIADB_DELETE_ROWS_COMPRESSED:
        throw new HmsSyncError(
          'SOURCE_STATE',
          `${this.options.where}: the binlog holds compressed events (log_bin_compress=ON), which this build cannot read; ` +
            `a DBA can run: SET GLOBAL log_bin_compress = OFF;`,
          { retryable: true },
        );
      default:
        return; // GTID lists, checkpoints, annotations: nothing to capture
    }
  }

  private begin(start: number, timestampSeconds: number, gtid: GtidEvent | undefined): void {
    const commitTs =
      gtid?.commitMicros !== undefined && gtid.commitMicros > 0n
        ? new Date(Number(gtid.commitMicros / 1000n)).toISOString()
        : new Date(timestampSeconds * 1000).toISOString();
    this.tx = { file: this.file, start, index: 0, commitTs, begun: false, mappedChanges: 0, ...(gtid ? { gtid } : {}) };
  }

  private onQuery(event: ZongjiQuery): void {
    const sql = event.query.trim();
    const head = sql.slice(0, 32).toUpperCase();
    if (head === 'BEGIN' || head.startsWith('XA START')) {
      if (!this.tx) {
        // Servers that send no GTID event: the transaction starts at its BEGIN.
        const start = event.nextPosition - (event.size + 19 + this.checksumBytes());
        this.begin(start, Math.floor(event.timestamp / 1000), undefined);
      }
      this.tx!.begun = true;
      return;
    }
    if (head === 'COMMIT' || head === 'ROLLBACK' || head.startsWith('XA COMMIT') || head.startsWith('XA ROLLBACK')) {
      // ROLLBACK is logged only when a non-transactional table already changed: those rows stay.
      this.commit(event.nextPosition);
      return;
    }
    if (this.tx?.begun) {
      if (/^(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql) && this.mentionsMappedTable(sql)) {
        this.options.log.error(
          { file: this.file, pos: event.nextPosition, statement: sql.slice(0, 200) },
          `${this.options.where}: a change was logged as a statement (that session used binlog_format=STATEMENT or MIXED); ` +
            `row capture cannot see its rows: set binlog_format=ROW for every session`,
        );
      }
      return;
    }
    // A statement of its own (DDL and the like): the table definitions may have changed.
    if (/^(ALTER|CREATE|DROP|RENAME|TRUNCATE)\b/i.test(sql)) {
      this.tableMaps.clear();
      this.infoCache.clear();
      if (this.mentionsMappedTable(sql)) this.options.log.info({ statement: sql.slice(0, 200) }, 'schema change on a mapped table');
      // TRUNCATE is logged as the statement, not as row deletions: it becomes a `t` change.
      const truncated = truncatedTable(sql, event.schema);
      const stream = truncated === undefined ? undefined : this.options.tables.get(truncated);
      if (stream) {
        if (!this.tx) this.begin(event.nextPosition - (event.size + 19 + this.checksumBytes()), Math.floor(event.timestamp / 1000), undefined);
        const columns = new Map(stream.table.columns.map((c) => [c.name, { name: c.name, kind: c.kind, nativeType: c.nativeType }]));
        this.emit({ stream, columns }, { op: 't', row: null, before: null, keyRow: null });
      }
    }
    this.commit(event.nextPosition);
  }

  private mentionsMappedTable(sql: string): boolean {
    for (const { table } of this.options.tables.values()) if (sql.includes(table.name)) return true;
    return false;
  }

  private checksumBytes(): number {
    return this.zongji?.useChecksum ? 4 : 0;
  }

  private commit(nextPosition: number): void {
    const tx = this.tx;
    this.tx = undefined;
    if (tx?.gtid?.domain !== undefined && tx.gtid.serverId !== undefined && tx.gtid.seq !== undefined && this.gtidState) {
      this.gtidState.set(tx.gtid.domain, tx.gtid.serverId, tx.gtid.seq);
    } else if (tx?.gtid?.gtid !== undefined && this.options.flavor === 'mysql') {
      this.lastGtid = tx.gtid.gtid;
    }
    const point: BinlogPoint = { file: this.file, pos: nextPosition };
    const gtid = this.gtidState?.toString() ?? this.lastGtid;
    if (gtid !== undefined && gtid !== '') point.gtid = gtid;
    this.open.checkpoint = point;
    if (tx && tx.mappedChanges > 0) {
      if (this.open.changes.length >= this.maxBatch) this.pushOpen();
      // Hand the batch over now only when nothing more is already read: with events waiting
      // (a backlog), the next transactions join this batch, so one batch (and one socket
      // write to NATS) carries many small transactions instead of one each. The binlog holds
      // a transaction only once committed, so what is waiting is never a commit away.
      else if (this.queue.consumerWaiting && this.fifo.length === 0) this.queue.nudge();
    }
  }

  private async onTableMap(event: RawBinlogEvent): Promise<void> {
    const names = tableMapNames(event.body);
    const stream = this.options.tables.get(`${names.schema}.${names.table}`);
    if (!stream) {
      this.tableMaps.set(names.tableId, null);
      return;
    }
    const existing = this.tableMaps.get(names.tableId);
    if (existing && existing.body.equals(event.body)) return;
    const map = parseTableMap(event.body, this.options.flavor);
    this.tableMaps.set(names.tableId, await this.resolveColumns(map, stream, Buffer.from(event.body)));
  }

  /** Names and text types of a table map's columns: from the map itself (FULL metadata) or information_schema. */
  private async resolveColumns(map: TableMap, stream: StreamTable, body: Buffer): Promise<TableEntry> {
    const key = stream.table.table;
    let info: MysqlColumn[] | undefined;
    if (needsInformationSchema(map)) {
      info = this.infoCache.get(key);
      if (!info) {
        info = (await readColumns(this.options.catalog, [{ schema: stream.table.schema, name: stream.table.name }])).get(key) ?? [];
        this.infoCache.set(key, info);
      }
    }
    const { columns, error } = resolveColumns(map, info, { table: key, collations: this.options.collations, rowMetadata: this.options.rowMetadata });
    return {
      stream,
      body,
      columns,
      sourceColumns: new Map(columns.map((c) => [c.name, { name: c.name, kind: c.kind, nativeType: c.nativeType }])),
      ...(error ? { error } : {}),
    };
  }

  private onRows(event: RawBinlogEvent): void {
    const tableId = rowsTableId(event.body);
    const entry = this.tableMaps.get(tableId);
    if (entry === null) return;
    if (entry === undefined) {
      throw new HmsSyncError('SOURCE_STATE', `${this.options.where}: rows event at ${this.file}:${event.startPosition} for table id ${tableId} without its table map`, {
        retryable: true,
      });
    }
    if (!this.tx) this.begin(event.startPosition, event.timestampSeconds, undefined);
    let parsed;
    try {
      parsed = parseRowsEvent(event.code, event.body, entry.columns);
    } catch (error) {
      if (!(error instanceof BinlogDecodeError)) throw error;
      throw new HmsSyncError(
        'SOURCE_STATE',
        `${this.options.where}: cannot decode the rows event at ${this.file}:${event.startPosition} for ${entry.stream.table.table}: ${error.message}`,
        { cause: error, retryable: true },
      );
    }
    for (const row of parsed.rows) this.emitRow(entry, parsed.kind, row);
  }

  private emitRow(table: TableEntry, kind: 'write' | 'update' | 'delete', row: { before?: RowImage; after?: RowImage }): void {
    // Runs once per row: module-level helpers, no closures made here.
    const { keyColumns } = table.stream;
    const entry = { stream: table.stream, columns: table.sourceColumns, error: table.error };
    if (kind === 'write') {
      const after = row.after!.values;
      const error = imageProblems(entry.error, row.after, true);
      this.emit(entry, { op: 'c', row: after, before: null, keyRow: pickKey(after, keyColumns), ...(error ? { error } : {}) });
      return;
    }
    if (kind === 'delete') {
      const before = row.before!.values;
      const error = imageProblems(entry.error, row.before, false) ?? missingKey(before, keyColumns);
      this.emit(entry, { op: 'd', row: null, before: error ? before : fullOrNull(row.before!), keyRow: pickKey(before, keyColumns), ...(error ? { error } : {}) });
      return;
    }
    const before = row.before!.values;
    const after = row.after!.values;
    const error = imageProblems(entry.error, row.after, true) ?? imageProblems(entry.error, row.before, false);
    const oldKey = pickKey(before, keyColumns);
    const newKey = pickKey(after, keyColumns);
    if (!error && keyColumns.every((c) => Object.hasOwn(oldKey, c)) && keyColumns.some((c) => !sameValue(oldKey[c]!, newKey[c]!))) {
      // The key itself changed: consumers keyed by key must see the old key go away.
      this.emit(entry, { op: 'd', row: null, before: fullOrNull(row.before!), keyRow: oldKey });
      this.emit(entry, { op: 'c', row: after, before: null, keyRow: newKey });
      return;
    }
    this.emit(entry, { op: 'u', row: after, before: error ? null : fullOrNull(row.before!), keyRow: newKey, ...(error ? { error } : {}) });
  }

  private emit(
    entry: { stream: StreamTable; columns: ReadonlyMap<string, SourceColumn> },
    change: Pick<RawChange, 'op' | 'row' | 'before' | 'keyRow'> & Partial<Pick<RawChange, 'error'>>,
  ): void {
    const tx = this.tx!;
    tx.index += 1;
    tx.mappedChanges += 1;
    // mysqlPosition(file, start, index), with the part shared by the transaction built once;
    // one object shape for every change (no spread): this runs once per row.
    tx.positionPrefix ??= mysqlPosition(tx.file, tx.start, 0).slice(0, -8);
    const raw: RawChange = {
      op: change.op,
      table: entry.stream.table.table,
      position: tx.positionPrefix + hex8(tx.index),
      commitTs: tx.commitTs,
      capture: 'log',
      row: change.row,
      before: change.before,
      keyRow: change.keyRow,
      columns: entry.columns,
    };
    if (change.error !== undefined) raw.error = change.error;
    this.open.changes.push(raw);
  }
}

/** Why a row image cannot be published faithfully, if it cannot. */
function imageProblems(tableError: string | undefined, image: RowImage | undefined, needAll: boolean): string | undefined {
  if (!image) return undefined;
  if (tableError) return tableError;
  if (image.errors) return image.errors.join('; ');
  if (needAll && image.missing) {
    return (
      `the row image lacks column(s) ${image.missing.join(', ')} (that session used binlog_row_image other than FULL); ` +
      `a DBA can run: SET GLOBAL binlog_row_image = FULL;`
    );
  }
  return undefined;
}

function pickKey(values: Record<string, SourceValue>, keyColumns: readonly string[]): SourceRow {
  const out: SourceRow = {};
  for (const c of keyColumns) if (Object.hasOwn(values, c)) out[c] = values[c]!;
  return out;
}

function fullOrNull(image: RowImage): SourceRow | null {
  return image.missing || image.errors ? null : image.values;
}

function missingKey(values: Record<string, SourceValue>, keyColumns: string[]): string | undefined {
  const missing = keyColumns.filter((c) => !Object.hasOwn(values, c));
  return missing.length > 0 ? `the row image lacks key column(s) ${missing.join(', ')}` : undefined;
}

function sameValue(a: SourceValue, b: SourceValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return a === b;
}

/** `TRUNCATE [TABLE] [db.]name` -> "db.name" (the statement's default database where it names none). */
export function truncatedTable(sql: string, defaultSchema: string): string | undefined {
  const m = /^TRUNCATE\s+(?:TABLE\s+)?(`(?:[^`]|``)+`|[\w$]+)(?:\s*\.\s*(`(?:[^`]|``)+`|[\w$]+))?\s*;?\s*$/i.exec(sql);
  if (!m) return undefined;
  const unquote = (part: string): string => (part.startsWith('`') ? part.slice(1, -1).replace(/``/g, '`') : part);
  return m[2] === undefined ? `${defaultSchema}.${unquote(m[1]!)}` : `${unquote(m[1]!)}.${unquote(m[2])}`;
}
