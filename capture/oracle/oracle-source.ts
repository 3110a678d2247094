import { setTimeout as sleep } from 'node:timers/promises';
import { resnapshotHint } from '../snapshot-progress.ts';
import oracledb from 'oracledb';
import { HmsSyncError } from '../../src/errors.ts';
import type { SourceColumn, SourceRow } from '../../src/mapping/types.ts';
import type { CaptureSource, ChangeBatch, LogSourceOptions, RawChange, SnapshotProgress as GenericSnapshotProgress } from '../../src/ports.ts';
import { snapshotWithProgress } from '../snapshot-progress.ts';
import { resolveKeyColumns, sourceColumns } from '../shared-catalog.ts';
import type { StoredKeyValue } from '../shared-keyset-snapshot.ts';
import { OffsetsRecord, type LogCaptureState } from '../shared-offsets-record.ts';
import { loadTables } from './catalog.ts';
import { classifyOracleError, connectOracle, describeServer, fetchTypeHandler, queryArrays, quoteTable } from './connection.ts';
import {
  CURRENT_SCN_SQL,
  END_LOGMINER_SQL,
  LOG_FILES_SQL,
  OLDEST_ACTIVE_SQL,
  addLogfileSql,
  changesOf,
  chooseLogFiles,
  contentsSql,
  parseContentsRow,
  refetchSql,
  startLogminerSql,
  type ContentsRow,
  type LogFile,
  type MinedTable,
  type PendingChange,
} from './logminer.ts';
import { compareScn, minScn, snapshotPosition } from './position.ts';
import { snapshotTable } from './snapshot.ts';
import { bindValue, oracleValue } from './values.ts';

export interface OracleSourceOptions extends LogSourceOptions {
  /** How long an idle stream waits before it mines again (default 1 s). */
  pollIntervalMs?: number;
}

/** Where the snapshot is consistent (its rows are read AS OF `scn`) and where mining must start for it. */
export interface OraclePoint {
  scn: string;
  /** The oldest start SCN of the transactions open at `scn` (or `scn`): mining starts here. */
  mineFrom: string;
}

export type SnapshotProgress = GenericSnapshotProgress<OraclePoint, StoredKeyValue>;

/** Every transaction committed at or before `commitScn` is in JetStream; the next window mines from `mineFrom`. */
export interface OracleResume {
  commitScn: string;
  mineFrom: string;
}

export type OracleState = LogCaptureState<OraclePoint, OracleResume>;

export type OracleCheckpoint = { kind: 'snapshot'; progress: SnapshotProgress } | { kind: 'redo'; resume: OracleResume };

export function stateKey(sourceName: string): string {
  return `oracle.${sourceName}`;
}

const BATCH = 500;

/**
 * Oracle log capture: a snapshot AS OF an SCN, then LogMiner windows over the redo from there
 * (logminer.ts). The resume point lives in the offsets bucket under `oracle.<source>` and moves
 * only when commit() says JetStream holds everything before it.
 */
export class OracleSource implements CaptureSource<OracleCheckpoint> {
  readonly name: string;
  private readonly where: string;
  private readonly record: OffsetsRecord<OraclePoint, OracleResume>;
  private readonly connections: oracledb.Connection[] = [];

  constructor(private readonly options: OracleSourceOptions) {
    this.name = options.name;
    this.where = describeServer(options.url);
    // A resume point is news when its commit SCN is later, or when mining is to start from another SCN.
    this.record = new OffsetsRecord(
      options.offsets,
      stateKey(options.name),
      (resume, confirmed) => compareScn(resume.commitScn, confirmed.commitScn) > 0 || resume.mineFrom !== confirmed.mineFrom,
    );
  }

  private get resnapshotHint(): string {
    return resnapshotHint(stateKey(this.options.name), `keep archived redo longer than the bridge may be down.`);
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<OracleCheckpoint>> {
    const { options } = this;
    const control = await this.connect();
    const info = await this.serverInfo(control);
    if (info.supplementalMin !== 'YES') {
      throw new HmsSyncError(
        'SOURCE_STATE',
        `${this.where}: supplemental logging is off, so LogMiner cannot see whole changes; a DBA can run (in CDB$ROOT): ALTER DATABASE ADD SUPPLEMENTAL LOG DATA;`,
        { retryable: true },
      );
    }
    const catalog = await loadTables(control, options.mappings, this.where);
    const tables = new Map<string, MinedTable>();
    for (const mapping of options.mappings) {
      const table = catalog.get(mapping.table)!;
      tables.set(mapping.table, { table, keyColumns: resolveKeyColumns(mapping, table) });
    }
    const columns = new Map<string, ReadonlyMap<string, SourceColumn>>([...tables].map(([name, t]) => [name, sourceColumns(t.table)]));
    for (const { table } of tables.values()) {
      try {
        await control.execute(`SELECT 1 FROM ${quoteTable(table.owner, table.name)} WHERE 1 = 0`);
      } catch (error) {
        throw classifyOracleError(error, `${this.where} (${table.table})`);
      }
    }

    const { progress, started } = await this.record.open(options.snapshot, () => this.consistentPoint(control));
    if (started) options.log.info({ scn: progress.point.scn }, `snapshot consistent with SCN ${progress.point.scn}`);
    else if (progress.status === 'running') options.log.info({ scn: progress.point.scn }, 'resuming snapshot');

    options.onReady?.(new Map([...tables].map(([name, t]) => [name, t.keyColumns])));
    if (progress.status === 'running') {
      const snapshotProgress = progress;
      const position = snapshotPosition(snapshotProgress.point.scn);
      yield* snapshotWithProgress({
        tables: tables.keys(),
        progress: snapshotProgress,
        readTable: (name, afterKey) => {
          const { table, keyColumns } = tables.get(name)!;
          return snapshotTable(control, table, keyColumns, {
            scn: snapshotProgress.point.scn,
            position,
            commitTs: snapshotProgress.startedAt,
            chunkSize: options.chunkSize,
            ...(afterKey ? { afterKey } : {}),
            signal,
            where: this.where,
          });
        },
        checkpoint: (p): OracleCheckpoint => ({ kind: 'snapshot', progress: p }),
        log: options.log,
        signal,
        ...(options.observer !== undefined ? { observer: options.observer } : {}),
      });
      if (signal.aborted) return;
    }

    let resume: OracleResume = this.record.confirmed ?? { commitScn: progress.point.scn, mineFrom: progress.point.mineFrom };
    const fetcher = await this.connect();
    options.log.info({ from: resume.commitScn, mineFrom: resume.mineFrom, pdb: info.pdb }, 'streaming changes');
    while (!signal.aborted) {
      const scn1 = await this.scalar(control, CURRENT_SCN_SQL);
      const oldest = await this.scalar(control, OLDEST_ACTIVE_SQL).catch(() => null);
      const lowWater = oldest ? minScn(scn1!, oldest) : scn1!;
      const end = (await this.scalar(control, CURRENT_SCN_SQL))!;
      // A window covers commits in (commitScn, end - 1]: one committing exactly at `end` is left to the next.
      const last = (BigInt(end) - 1n).toString();
      if (compareScn(last, resume.commitScn) <= 0) {
        await sleep(options.pollIntervalMs ?? 1_000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      const window = resume;
      yield* this.mineWindow(control, fetcher, tables, columns, window, end, info.pdb, signal);
      if (signal.aborted) return;
      resume = { commitScn: last, mineFrom: minScn(lowWater, end) };
      yield { changes: [], checkpoint: { kind: 'redo', resume } };
      await sleep(options.pollIntervalMs ?? 1_000, undefined, { signal }).catch(() => undefined);
    }
  }

  /** One LogMiner session over [window.mineFrom, end]: committed changes after window.commitScn, batched per commit SCN. */
  private async *mineWindow(
    control: oracledb.Connection,
    fetcher: oracledb.Connection,
    tables: Map<string, MinedTable>,
    columns: Map<string, ReadonlyMap<string, SourceColumn>>,
    window: OracleResume,
    end: string,
    pdb: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<ChangeBatch<OracleCheckpoint>> {
    try {
      if (!pdb) await this.addLogFiles(control, window.mineFrom);
      await control.execute(startLogminerSql(), [window.mineFrom, end]);
    } catch (error) {
      await control.execute(END_LOGMINER_SQL).catch(() => undefined);
      throw error instanceof HmsSyncError ? error : classifyOracleError(error, `${this.where} (LogMiner)`);
    }
    let resultSet: oracledb.ResultSet<ContentsRow> | undefined;
    try {
      const result = await control.execute<ContentsRow>(contentsSql([...tables.values()]), [window.commitScn, end], {
        resultSet: true,
        outFormat: oracledb.OUT_FORMAT_ARRAY,
        fetchTypeHandler,
        fetchArraySize: BATCH,
      });
      resultSet = result.resultSet!;
      let pending: RawChange[] = [];
      let currentScn: string | undefined;
      let index = 0;
      const seen = new Set<string>();
      for (;;) {
        if (signal.aborted) return;
        const rows = await resultSet.getRows(BATCH);
        if (rows.length === 0) break;
        for (const raw of rows) {
          const parsed = parseContentsRow(raw, tables);
          if (!parsed) continue;
          if (parsed.commitScn !== currentScn) {
            if (currentScn !== undefined) {
              yield { changes: pending, checkpoint: { kind: 'redo', resume: { commitScn: currentScn, mineFrom: window.mineFrom } } };
              pending = [];
            }
            currentScn = parsed.commitScn;
            index = 0;
            seen.clear();
          }
          // LogMiner repeats a redo record over several rows when its SQL text is long.
          const record = `${parsed.xid}/${parsed.record}`;
          if (seen.has(record)) continue;
          seen.add(record);
          const mined = tables.get(parsed.table)!;
          for (const p of changesOf(parsed, mined, columns.get(parsed.table)!, () => ++index)) {
            pending.push(await this.complete(fetcher, mined, p, parsed.commitScn));
          }
          if (pending.length >= BATCH) {
            // Mid-transaction: no checkpoint until the commit SCN is whole.
            yield { changes: pending };
            pending = [];
          }
        }
      }
      if (currentScn !== undefined) yield { changes: pending, checkpoint: { kind: 'redo', resume: { commitScn: currentScn, mineFrom: window.mineFrom } } };
    } catch (error) {
      throw classifyOracleError(error, `${this.where} (LogMiner)`);
    } finally {
      await resultSet?.close().catch(() => undefined);
      await control.execute(END_LOGMINER_SQL).catch(() => undefined);
    }
  }

  /** Reads LOB columns and columns the redo did not carry by key, AS OF the commit SCN. */
  private async complete(fetcher: oracledb.Connection, mined: MinedTable, pending: PendingChange, commitScn: string): Promise<RawChange> {
    const { change, refetch } = pending;
    if (refetch.length === 0 || !change.row || !change.keyRow) return change;
    const { table, keyColumns } = mined;
    const byName = new Map(table.columns.map((c) => [c.name, c]));
    const sql = refetchSql(table, refetch, keyColumns);
    try {
      const rows = await queryArrays(fetcher, sql, [commitScn, ...keyColumns.map((k) => bindValue(change.keyRow![k] ?? null))]);
      const found = rows[0];
      if (!found) {
        return { ...change, error: `${table.table}: the row was not found AS OF SCN ${commitScn} to read ${refetch.join(', ')}` };
      }
      const row: SourceRow = { ...change.row };
      refetch.forEach((name, i) => {
        row[name] = oracleValue(byName.get(name)!, found[i]);
      });
      return { ...change, row, refetched: refetch };
    } catch (error) {
      const message = classifyOracleError(error, this.where).message;
      return { ...change, error: `${table.table}: could not read ${refetch.join(', ')} AS OF SCN ${commitScn}: ${message}` };
    }
  }

  private async addLogFiles(control: oracledb.Connection, fromScn: string): Promise<void> {
    const rows = await queryArrays<[string, string, string, string, string, string | null]>(control, LOG_FILES_SQL, [fromScn]);
    const files: LogFile[] = rows.map(([source, name, thread, sequence, first, next]) => ({
      source: source as LogFile['source'],
      name,
      thread: Number(thread),
      sequence: Number(sequence),
      firstScn: first,
      nextScn: next,
    }));
    const { files: chosen, covers } = chooseLogFiles(files, fromScn);
    if (!covers) {
      throw new HmsSyncError(
        'SOURCE_STATE',
        `${this.where}: the redo at SCN ${fromScn} is no longer on the server (oldest log starts at ${chosen[0]?.firstScn ?? 'none'}); the changes after it cannot be mined. ${this.resnapshotHint}`,
        { retryable: true },
      );
    }
    for (const [i, file] of chosen.entries()) await control.execute(addLogfileSql(i === 0), [file.name]);
  }

  private async consistentPoint(control: oracledb.Connection): Promise<OraclePoint> {
    // The oldest open transaction is read before the SCN: one that opens in between starts after it.
    const oldest = await this.scalar(control, OLDEST_ACTIVE_SQL).catch(() => null);
    const scn = (await this.scalar(control, CURRENT_SCN_SQL))!;
    return { scn, mineFrom: oldest ? minScn(oldest, scn) : scn };
  }

  private async serverInfo(control: oracledb.Connection): Promise<{ pdb: boolean; supplementalMin: string }> {
    try {
      const rows = await queryArrays<[string | null, string | null, string | null]>(
        control,
        `SELECT SYS_CONTEXT('USERENV', 'CON_NAME'), (SELECT CDB FROM V$DATABASE), (SELECT SUPPLEMENTAL_LOG_DATA_MIN FROM V$DATABASE) FROM DUAL`,
      );
      const [container, cdb, supplemental] = rows[0] ?? [null, null, null];
      return { pdb: cdb === 'YES' && container !== 'CDB$ROOT', supplementalMin: supplemental ?? 'NO' };
    } catch (error) {
      throw classifyOracleError(error, this.where);
    }
  }

  private async scalar(connection: oracledb.Connection, sql: string): Promise<string | null> {
    try {
      const rows = await queryArrays<[string | null]>(connection, sql);
      return rows[0]?.[0] ?? null;
    } catch (error) {
      throw classifyOracleError(error, this.where);
    }
  }

  async commit(checkpoint: OracleCheckpoint): Promise<void> {
    if (checkpoint.kind === 'snapshot') await this.record.commitSnapshot(checkpoint.progress);
    else await this.record.commitResume(checkpoint.resume);
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close().catch(() => undefined)));
  }

  private async connect(): Promise<oracledb.Connection> {
    const connection = await connectOracle(this.options.url, this.where);
    this.connections.push(connection);
    return connection;
  }
}
