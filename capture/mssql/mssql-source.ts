import { setTimeout as sleep } from 'node:timers/promises';
import { resnapshotHint } from '../snapshot-progress.ts';
import sql from 'mssql';
import { HmsSyncError } from '../../src/errors.ts';
import type { SourceRow } from '../../src/mapping/types.ts';
import type { CaptureSource, ChangeBatch, LogSourceOptions, RawChange, SnapshotProgress as GenericSnapshotProgress } from '../../src/ports.ts';
import { snapshotWithProgress } from '../snapshot-progress.ts';
import { resolveKeyColumns, sourceColumns } from '../shared-catalog.ts';
import type { StoredKeyValue } from '../shared-keyset-snapshot.ts';
import { OffsetsRecord, type LogCaptureState } from '../shared-offsets-record.ts';
import { loadCaptureInstances, loadTables } from './catalog.ts';
import {
  INCREMENT_LSN_SQL,
  LSN_TIMES_SQL,
  MAX_LSN_SQL,
  MIN_LSN_SQL,
  cdcChanges,
  changesSql,
  commitTsText,
  mergeByPosition,
  refetchSql,
  type CdcRow,
  type CdcTable,
  type PendingChange,
} from './cdc.ts';
import { classifyMssqlError, connectMssql, describeServer, quoteIdent, quoteTable } from './connection.ts';
import { compareLsn, lsnBuffer, snapshotPosition } from './position.ts';
import { bindParam } from './request.ts';
import { snapshotTable } from './snapshot.ts';
import { mssqlValue } from './values.ts';

export interface MssqlSourceOptions extends LogSourceOptions {
  /** How long an idle stream waits before it reads the change tables again (default 1 s). */
  pollIntervalMs?: number;
}

/** `lsn`: the CDC max LSN the snapshot started at; the stream reads commits after it. */
export type SnapshotProgress = GenericSnapshotProgress<{ lsn: string }, StoredKeyValue>;

/** `confirmed`: every transaction committed at or before this LSN is in JetStream. */
export type MssqlState = LogCaptureState<{ lsn: string }, string>;

export type MssqlCheckpoint = { kind: 'snapshot'; progress: SnapshotProgress } | { kind: 'cdc'; lsn: string };

export function stateKey(sourceName: string): string {
  return `mssql.${sourceName}`;
}

/** Transactions per window: bounds the rows one read of the change functions holds. */
const WINDOW_TRANSACTIONS = 1000;
const BATCH = 500;

/**
 * SQL Server log capture: a snapshot labelled with the CDC max LSN, then the change tables of
 * each mapped table's capture instance from there, merged into commit order. The resume point
 * lives in the offsets bucket under `mssql.<source>`.
 */
export class MssqlSource implements CaptureSource<MssqlCheckpoint> {
  readonly name: string;
  private readonly where: string;
  private readonly record: OffsetsRecord<{ lsn: string }, string>;
  private readonly pools: sql.ConnectionPool[] = [];

  constructor(private readonly options: MssqlSourceOptions) {
    this.name = options.name;
    this.where = describeServer(options.url);
    this.record = new OffsetsRecord(options.offsets, stateKey(options.name), (lsn, confirmed) => compareLsn(lsn, confirmed) > 0);
  }

  private get resnapshotHint(): string {
    return resnapshotHint(stateKey(this.options.name), `keep CDC data longer than the bridge may be down (sys.sp_cdc_change_job @job_type = N'cleanup', @retention = <minutes>).`);
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<MssqlCheckpoint>> {
    const { options } = this;
    const pool = await this.connect();
    const enabled = await this.query<{ is_cdc_enabled: boolean; name: string }>(pool, 'SELECT name, is_cdc_enabled FROM sys.databases WHERE name = DB_NAME()');
    if (!enabled[0]?.is_cdc_enabled) {
      throw new HmsSyncError(
        'SOURCE_STATE',
        `${this.where}: CDC is not enabled on database ${enabled[0]?.name ?? '?'}; a DBA (sysadmin) can run: USE ${quoteIdent(enabled[0]?.name ?? '<database>')}; EXEC sys.sp_cdc_enable_db;`,
        { retryable: true },
      );
    }
    const catalog = await loadTables(pool, options.mappings, this.where);
    let instances;
    try {
      instances = await loadCaptureInstances(pool, catalog.values());
    } catch (error) {
      throw classifyMssqlError(error, this.where);
    }
    const tables = new Map<string, CdcTable>();
    for (const mapping of options.mappings) {
      const table = catalog.get(mapping.table)!;
      const instance = instances.get(mapping.table);
      if (!instance) {
        throw new HmsSyncError(
          'SOURCE_STATE',
          `${this.where}: CDC is not enabled on ${mapping.table}; a DBA (db_owner) can run: ` +
            `EXEC sys.sp_cdc_enable_table @source_schema = N'${table.schema}', @source_name = N'${table.name}', @role_name = NULL, @supports_net_changes = 0;`,
          { retryable: true },
        );
      }
      const keyColumns = resolveKeyColumns(mapping, table);
      const missing = keyColumns.filter((k) => !instance.columns.includes(k));
      if (missing.length > 0) {
        throw new HmsSyncError('SOURCE_STATE', `${this.where}: the capture instance ${instance.name} of ${mapping.table} does not capture the key columns ${missing.join(', ')}`, {
          retryable: true,
        });
      }
      tables.set(mapping.table, { table, instance, keyColumns, columns: sourceColumns(table, instance.columns) });
    }
    for (const { table } of tables.values()) {
      await this.query(pool, `SELECT TOP (0) 1 AS x FROM ${quoteTable(table.schema, table.name)}`);
    }

    const { progress, started } = await this.record.open(options.snapshot, async () => ({ lsn: await this.maxLsn(pool, tables) }));
    if (started) options.log.info({ lsn: progress.point.lsn }, `snapshot labelled with CDC LSN ${progress.point.lsn}`);
    else if (progress.status === 'running') options.log.info({ lsn: progress.point.lsn }, 'resuming snapshot');

    options.onReady?.(new Map([...tables].map(([name, t]) => [name, t.keyColumns])));
    if (progress.status === 'running') {
      const snapshotProgress = progress;
      const position = snapshotPosition(snapshotProgress.point.lsn);
      yield* snapshotWithProgress({
        tables: tables.keys(),
        progress: snapshotProgress,
        readTable: (name, afterKey) => {
          const { table, keyColumns } = tables.get(name)!;
          return snapshotTable(pool, table, keyColumns, {
            position,
            commitTs: snapshotProgress.startedAt,
            chunkSize: options.chunkSize,
            ...(afterKey ? { afterKey } : {}),
            signal,
            where: this.where,
          });
        },
        checkpoint: (p): MssqlCheckpoint => ({ kind: 'snapshot', progress: p }),
        log: options.log,
        signal,
        ...(options.observer !== undefined ? { observer: options.observer } : {}),
      });
      if (signal.aborted) return;
    }

    let confirmed = this.record.confirmed ?? progress.point.lsn;
    options.log.info({ from: confirmed }, 'streaming changes');
    while (!signal.aborted) {
      const max = await this.maxLsn(pool, tables);
      if (compareLsn(max, confirmed) <= 0) {
        await sleep(options.pollIntervalMs ?? 1_000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      const times = await this.query<{ lsn: string; ts: string }>(pool, LSN_TIMES_SQL, (r) =>
        r.input('n', sql.Int, WINDOW_TRANSACTIONS).input('after', sql.VarBinary(10), lsnBuffer(confirmed)).input('to', sql.VarBinary(10), lsnBuffer(max)),
      );
      const to = times.length === WINDOW_TRANSACTIONS ? times[times.length - 1]!.lsn : max;
      const commitTimes = new Map(times.map((t) => [t.lsn.toUpperCase(), commitTsText(t.ts)]));
      const from = (await this.query<{ lsn: string }>(pool, INCREMENT_LSN_SQL, (r) => r.input('lsn', sql.VarBinary(10), lsnBuffer(confirmed))))[0]!.lsn;
      const lists: PendingChange[][] = [];
      for (const t of tables.values()) {
        const start = await this.windowStart(pool, t, from);
        if (compareLsn(start, to) > 0) continue;
        const rows = await this.query<CdcRow>(pool, changesSql(t.table, t.instance), (r) =>
          r.input('from', sql.VarBinary(10), lsnBuffer(start)).input('to', sql.VarBinary(10), lsnBuffer(to)),
        );
        lists.push(cdcChanges(t, rows, (lsn) => commitTimes.get(lsn.toUpperCase()) ?? null));
      }
      let pending: RawChange[] = [];
      let currentLsn: string | undefined;
      for (const p of mergeByPosition(lists)) {
        const lsn = p.change.position.slice(0, 20);
        if (currentLsn !== undefined && lsn !== currentLsn) {
          yield { changes: pending, checkpoint: { kind: 'cdc', lsn: currentLsn } };
          pending = [];
          if (signal.aborted) return;
        }
        currentLsn = lsn;
        pending.push(await this.complete(pool, tables.get(p.change.table)!, p));
        if (pending.length >= BATCH) {
          yield { changes: pending };
          pending = [];
        }
      }
      yield { changes: pending, checkpoint: { kind: 'cdc', lsn: to } };
      confirmed = to;
      if (times.length < WINDOW_TRANSACTIONS) await sleep(options.pollIntervalMs ?? 1_000, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Where one table's change function may be read from: `from`, unless its capture instance started later (then its start, if nothing was cleaned up). */
  private async windowStart(pool: sql.ConnectionPool, t: CdcTable, from: string): Promise<string> {
    const min = (await this.query<{ lsn: string | null }>(pool, MIN_LSN_SQL, (r) => r.input('instance', sql.NVarChar(128), t.instance.name)))[0]?.lsn;
    if (!min || compareLsn(min, from) <= 0) return from;
    if (compareLsn(min, t.instance.startLsn) === 0) return min;
    throw new HmsSyncError(
      'SOURCE_STATE',
      `${this.where}: the change table of ${t.table.table} (capture instance ${t.instance.name}) no longer holds the changes after the resume point ` +
        `(it starts at LSN ${min}, the bridge needs ${from}); they were removed by the CDC cleanup job. ${this.resnapshotHint}`,
      { retryable: true },
    );
  }

  /** Large values an update left out, read back by key (their current value). */
  private async complete(pool: sql.ConnectionPool, t: CdcTable, pending: PendingChange): Promise<RawChange> {
    const { change, refetch } = pending;
    if (refetch.length === 0 || !change.row || !change.keyRow) return change;
    const byName = new Map(t.table.columns.map((c) => [c.name, c]));
    try {
      const rows = await this.query<Record<string, unknown>>(pool, refetchSql(t.table, refetch, t.keyColumns), (r) => {
        t.keyColumns.forEach((k, i) => bindParam(r, `k${i}`, byName.get(k)!, change.keyRow![k] ?? null));
        return r;
      });
      const found = rows[0];
      if (!found) return { ...change, error: `${t.table.table}: the row was gone when ${refetch.join(', ')} were read back by key` };
      const row: SourceRow = { ...change.row };
      for (const name of refetch) row[name] = mssqlValue(byName.get(name)!, found[name]);
      return { ...change, row, refetched: refetch };
    } catch (error) {
      return { ...change, error: `${t.table.table}: could not read back ${refetch.join(', ')}: ${classifyMssqlError(error, this.where).message}` };
    }
  }

  /** The CDC max LSN; before the capture job logged anything, the newest capture instance's start. */
  private async maxLsn(pool: sql.ConnectionPool, tables: Map<string, CdcTable>): Promise<string> {
    const lsn = (await this.query<{ lsn: string | null }>(pool, MAX_LSN_SQL))[0]?.lsn;
    if (lsn) return lsn.toUpperCase();
    return [...tables.values()].map((t) => t.instance.startLsn.toUpperCase()).sort().at(-1) ?? '0'.repeat(20);
  }

  private async query<T>(pool: sql.ConnectionPool, text: string, bind?: (request: sql.Request) => sql.Request): Promise<T[]> {
    try {
      const request = pool.request();
      return (await (bind ? bind(request) : request).query<T>(text)).recordset;
    } catch (error) {
      throw classifyMssqlError(error, this.where);
    }
  }

  async commit(checkpoint: MssqlCheckpoint): Promise<void> {
    if (checkpoint.kind === 'snapshot') await this.record.commitSnapshot(checkpoint.progress);
    else await this.record.commitResume(checkpoint.lsn);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close().catch(() => undefined)));
  }

  private async connect(): Promise<sql.ConnectionPool> {
    const pool = await connectMssql(this.options.url, this.where);
    this.pools.push(pool);
    return pool;
  }
}
