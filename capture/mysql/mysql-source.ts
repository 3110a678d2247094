import { createHash } from 'node:crypto';
import { resnapshotHint } from '../snapshot-progress.ts';
import type mysql from 'mysql2/promise';
import { HmsSyncError } from '../../src/errors.ts';
import type { CaptureSource, ChangeBatch, LogSourceOptions, SnapshotProgress as GenericSnapshotProgress } from '../../src/ports.ts';
import { BinlogStream, type StreamTable } from './binlog-stream.ts';
import { loadTables, readCollations, resolveKeyColumns, type MysqlTable } from './catalog.ts';
import { classifyMysqlError, connectMysql, describeServer, queryRows, quoteTable } from './connection.ts';
import { comparePoints, describePoint, snapshotPosition, type BinlogPoint } from './position.ts';
import { POLLING_NOT_BUILT, binlogProblems, readGrants, readServerSettings, replicationGrants, type ServerSettings } from './settings.ts';
import type { StoredKeyValue } from '../shared-keyset-snapshot.ts';
import { beginSnapshot, currentBinlogPoint, gtidAt, snapshotTable, type Flavor } from './snapshot.ts';
import { snapshotWithProgress } from '../snapshot-progress.ts';

export type MysqlSourceOptions = LogSourceOptions;

/** `point` is the binlog point the snapshot is consistent with: its rows carry it, the stream starts there. */
export type SnapshotProgress = GenericSnapshotProgress<BinlogPoint, StoredKeyValue>;

/** What the offsets bucket holds for a MySQL source (key `mysql.<source name>`). */
export interface MysqlState {
  flavor: Flavor;
  serverId: string;
  snapshot?: SnapshotProgress;
  /** Resume point: every change before it is in JetStream. */
  confirmed?: BinlogPoint;
  updatedAt: string;
}

export type MysqlCheckpoint = { kind: 'snapshot'; progress: SnapshotProgress } | { kind: 'binlog'; point: BinlogPoint };

export function stateKey(sourceName: string): string {
  return `mysql.${sourceName}`;
}

/**
 * The server id this bridge announces as a replica: fixed per source name, so a restarted
 * bridge replaces its own lingering binlog dump on the server instead of adding a second one.
 */
export function replicaServerId(sourceName: string): number {
  return 0x4000_0000 + (createHash('sha256').update(sourceName).digest().readUInt32BE(0) % 0x3fff_ffff);
}

/**
 * MySQL / MariaDB log capture: an initial snapshot consistent with a binlog point (no lock,
 * see snapshot.ts), then the row binlog from that point. Snapshot progress and the resume
 * point live in the offsets bucket, which is the only record of where to resume: it moves only
 * when commit() says JetStream has everything before it.
 */
export class MysqlSource implements CaptureSource<MysqlCheckpoint> {
  readonly name: string;
  private readonly where: string;
  private state: MysqlState | undefined;
  private stream: BinlogStream | undefined;
  private readonly connections: mysql.Connection[] = [];

  constructor(private readonly options: MysqlSourceOptions) {
    this.name = options.name;
    this.where = describeServer(options.url);
  }

  private get resnapshotHint(): string {
    return resnapshotHint(stateKey(this.options.name), `keep the binlog longer than the bridge may be down (binlog_expire_logs_seconds / expire_logs_days).`);
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<MysqlCheckpoint>> {
    const { options } = this;
    const control = await this.connect();
    let settings: ServerSettings;
    try {
      settings = await readServerSettings(control);
    } catch (error) {
      throw classifyMysqlError(error, this.where);
    }
    const problems = binlogProblems(settings);
    if (problems.length > 0) {
      throw new HmsSyncError('SOURCE_STATE', `${this.where}: log capture is not possible: ${problems.join('; ')}; ${POLLING_NOT_BUILT}`, {
        retryable: true,
      });
    }
    const catalog = await loadTables(control, options.mappings, this.where);
    const tables = new Map<string, StreamTable>();
    for (const mapping of options.mappings) {
      const table = catalog.get(mapping.table)!;
      tables.set(mapping.table, { table, keyColumns: resolveKeyColumns(mapping, table) });
    }
    await this.checkSelect(control, [...catalog.values()]);
    const collations = await readCollations(control).catch((error: unknown) => {
      throw classifyMysqlError(error, this.where);
    });
    // REPLICATION CLIENT (MariaDB: BINLOG MONITOR) is needed to read binlog positions.
    const head = await currentBinlogPoint(control, settings.flavor).catch((error: unknown) => {
      throw classifyMysqlError(error, this.where);
    });
    // REPLICATION SLAVE is only used when the binlog is read: checked now, before a snapshot.
    const grantList = await readGrants(control).catch(() => undefined);
    const grants = grantList ? replicationGrants(grantList) : undefined;
    if (grants && !grants.slave) {
      throw new HmsSyncError(
        'SOURCE_PRIVILEGE',
        `${this.where}: ${settings.user} lacks REPLICATION SLAVE, needed to read the binlog; a DBA can run: GRANT REPLICATION SLAVE ON *.* TO ${settings.user.replace(/^(.*)@([^@]*)$/, "'$1'@'$2'")};`,
        { retryable: true },
      );
    }

    this.state = await options.offsets.get<MysqlState>(stateKey(options.name));
    if (this.state && this.state.flavor !== settings.flavor) {
      throw new HmsSyncError(
        'SOURCE_STATE',
        `${this.where}: the offsets bucket holds a ${this.state.flavor} position for source ${options.name}, the server is ${settings.flavor}. ${this.resnapshotHint}`,
      );
    }
    let snapshotConnection: mysql.Connection | undefined;
    let progress = this.state?.snapshot;
    if (!progress) {
      if (options.snapshot === 'never') {
        progress = { status: 'done', point: head, startedAt: new Date().toISOString(), tables: {} };
      } else {
        snapshotConnection = await this.connect();
        const point = (await beginSnapshot(snapshotConnection, settings.flavor, { needPoint: true, log: options.log, where: this.where }))!;
        progress = { status: 'running', point, startedAt: new Date().toISOString(), tables: {} };
        options.log.info({ point }, `snapshot consistent with binlog ${describePoint(point)}`);
      }
      this.state = { flavor: settings.flavor, serverId: settings.serverId, snapshot: progress, updatedAt: new Date().toISOString() };
      // Recorded before the first row goes out: a crash mid-snapshot resumes at the same point.
      await options.offsets.put(stateKey(options.name), this.state);
    } else if (progress.status === 'running') {
      // The first snapshot transaction died with its process. Rows read now, under a newer
      // snapshot, carry the original point; the stream replays every change after that point,
      // so each key still ends at its latest change, and rows sent before carry the same ids.
      options.log.info({ point: progress.point }, 'resuming snapshot');
      snapshotConnection = await this.connect();
      await beginSnapshot(snapshotConnection, settings.flavor, { needPoint: false, log: options.log, where: this.where });
    }

    options.onReady?.(new Map([...tables].map(([name, t]) => [name, t.keyColumns])));
    if (progress.status === 'running' && snapshotConnection) {
      yield* this.snapshot(snapshotConnection, tables, progress, signal);
      await snapshotConnection.query('COMMIT').catch(() => undefined);
      if (signal.aborted) return;
    }
    if (signal.aborted) return;

    const from: BinlogPoint = { ...(this.state?.confirmed ?? progress.point) };
    if (from.gtid === undefined && settings.flavor === 'mariadb') {
      const gtid = await gtidAt(control, from);
      if (gtid !== undefined) from.gtid = gtid;
    }
    await this.checkBinlogAvailable(control, from);
    const useGtid = settings.flavor === 'mariadb' && from.gtid !== undefined && from.gtid !== '';
    this.stream = new BinlogStream({
      url: options.url,
      where: this.where,
      flavor: settings.flavor,
      from,
      useGtid,
      serverId: replicaServerId(options.name),
      tables,
      catalog: control,
      collations,
      rowMetadata: settings.rowMetadata,
      resnapshotHint: this.resnapshotHint,
      log: options.log,
    });
    if (settings.rowMetadata !== 'FULL') {
      options.log.warn(
        { binlogRowMetadata: settings.rowMetadata },
        'binlog_row_metadata is not FULL: column names come from information_schema, which is wrong for changes logged before a later ALTER TABLE',
      );
    }
    options.log.info({ from: describePoint(from), by: useGtid ? 'gtid' : 'file:pos' }, 'streaming changes');
    for await (const batch of this.stream.changes(signal)) {
      yield { changes: batch.changes, ...(batch.checkpoint ? { checkpoint: { kind: 'binlog', point: batch.checkpoint } } : {}) };
    }
  }

  private snapshot(
    connection: mysql.Connection,
    tables: Map<string, StreamTable>,
    progress: SnapshotProgress,
    signal: AbortSignal,
  ): AsyncGenerator<ChangeBatch<MysqlCheckpoint>> {
    const position = snapshotPosition(progress.point);
    return snapshotWithProgress({
      tables: tables.keys(),
      progress,
      readTable: (name, afterKey) => {
        const { table, keyColumns } = tables.get(name)!;
        return snapshotTable(connection, table, keyColumns, {
          position,
          commitTs: progress.startedAt,
          chunkSize: this.options.chunkSize,
          ...(afterKey ? { afterKey } : {}),
          signal,
          where: this.where,
        });
      },
      checkpoint: (p): MysqlCheckpoint => ({ kind: 'snapshot', progress: p }),
      log: this.options.log,
      signal,
      ...(this.options.observer !== undefined ? { observer: this.options.observer } : {}),
    });
  }

  async commit(checkpoint: MysqlCheckpoint): Promise<void> {
    const key = stateKey(this.options.name);
    if (!this.state) return;
    if (checkpoint.kind === 'snapshot') {
      this.state = { ...this.state, snapshot: checkpoint.progress, updatedAt: new Date().toISOString() };
      await this.options.offsets.put(key, this.state);
      return;
    }
    if (this.state.confirmed && comparePoints(checkpoint.point, this.state.confirmed) <= 0) return;
    this.state = { ...this.state, confirmed: checkpoint.point, updatedAt: new Date().toISOString() };
    // The bucket is the only record of the resume point, so it is written on every commit
    // (the pipeline already folds acknowledged checkpoints together).
    await this.options.offsets.put(key, this.state);
  }

  async close(): Promise<void> {
    await this.stream?.close();
    await Promise.all(this.connections.map((c) => c.end().catch(() => undefined)));
  }

  private async connect(): Promise<mysql.Connection> {
    const connection = await connectMysql(this.options.url, this.where);
    this.connections.push(connection);
    return connection;
  }

  private async checkSelect(connection: mysql.Connection, tables: MysqlTable[]): Promise<void> {
    const denied: string[] = [];
    for (const table of tables) {
      try {
        await connection.query(`SELECT 1 FROM ${quoteTable(table.schema, table.name)} LIMIT 0`);
      } catch (error) {
        const errno = (error as { errno?: number }).errno;
        if (errno === 1142 || errno === 1143 || errno === 1044) denied.push(table.table);
        else throw classifyMysqlError(error, this.where);
      }
    }
    if (denied.length > 0) {
      throw new HmsSyncError(
        'SOURCE_PRIVILEGE',
        `${this.where}: no SELECT privilege on ${denied.join(', ')}; a DBA can run: ${denied
          .map((t) => `GRANT SELECT ON ${t.split('.').map((p) => '`' + p + '`').join('.')} TO <bridge user>;`)
          .join(' ')}`,
        { retryable: true },
      );
    }
  }

  /** A resume point whose file was purged is an error that says so, never a silent skip. */
  private async checkBinlogAvailable(connection: mysql.Connection, from: BinlogPoint): Promise<void> {
    let files: string[];
    try {
      files = (await queryRows<{ Log_name: string }>(connection, 'SHOW BINARY LOGS')).map((r) => r.Log_name);
    } catch (error) {
      throw classifyMysqlError(error, this.where);
    }
    if (files.includes(from.file)) return;
    throw new HmsSyncError(
      'SOURCE_STATE',
      `${this.where}: the binlog at the resume point ${describePoint(from)} is no longer on the server ` +
        `(it holds ${files[0] ?? 'nothing'}${files.length > 1 ? ` to ${files[files.length - 1]}` : ''}); ` +
        `the changes after it cannot be read from the log. ${this.resnapshotHint}`,
      { retryable: true },
    );
  }
}
