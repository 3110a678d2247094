import type pg from 'pg';
import { HmsSyncError } from '../../src/errors.ts';
import { compareLsn, pgPosition } from '../../src/envelope/envelope.ts';
import type { CaptureSource, ChangeBatch, LogSourceOptions, SnapshotProgress as GenericSnapshotProgress } from '../../src/ports.ts';
import { loadTables, resolveKeyColumns, type PgTable } from './catalog.ts';
import { connectClient, describeServer, quoteLiteral, quoteTable } from './connection.ts';
import { diagnosePostgres } from './doctor.ts';
import { checkSlot, createSlotWithSnapshot, ensurePublication, readSlot, type CreatedSlot } from './setup.ts';
import { snapshotTable } from './snapshot.ts';
import { snapshotWithProgress } from '../snapshot-progress.ts';
import { WalStream, type StreamTable } from './wal-stream.ts';

export interface PostgresSourceOptions extends LogSourceOptions {
  slot: string;
  publication: string;
}

/** `point` is the slot's consistent point (an LSN). */
export type SnapshotProgress = GenericSnapshotProgress<string, string>;

export interface PostgresState {
  slot: string;
  snapshot?: SnapshotProgress;
  confirmedLsn?: string;
  updatedAt: string;
}

export type PgCheckpoint = { kind: 'snapshot'; progress: SnapshotProgress } | { kind: 'lsn'; lsn: string };

export function stateKey(sourceName: string): string {
  return `postgres.${sourceName}`;
}

/**
 * PostgreSQL log capture: publication and slot (created where permitted), an initial
 * snapshot consistent with the slot, then the slot's change stream. Snapshot progress and
 * the confirmed LSN live in the offsets bucket; the slot itself is what the server resumes
 * from, and it only moves when commit() says JetStream has everything before it.
 */
export class PostgresSource implements CaptureSource<PgCheckpoint> {
  readonly name: string;
  private readonly where: string;
  private state: PostgresState | undefined;
  private wal: WalStream | undefined;
  private readonly clients: pg.Client[] = [];
  private created: CreatedSlot | undefined;
  private lastStateWrite = 0;

  constructor(private readonly options: PostgresSourceOptions) {
    this.name = options.name;
    this.where = describeServer(options.url);
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<PgCheckpoint>> {
    const { options } = this;
    const client = await this.connect();
    const settings = await client.query<{ wal_level: string; db: string; usr: string }>(
      `SELECT current_setting('wal_level') AS wal_level, current_database() AS db, current_user AS usr`,
    );
    const { wal_level: walLevel, db, usr } = settings.rows[0]!;
    if (walLevel !== 'logical') {
      throw new HmsSyncError(
        'SOURCE_STATE',
        `${this.where}: wal_level is "${walLevel}"; log capture needs "logical" (ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL)`,
        { retryable: true },
      );
    }
    const catalog = await loadTables(client, options.mappings, this.where);
    const tables = new Map<string, StreamTable>();
    for (const mapping of options.mappings) {
      const table = catalog.get(mapping.table)!;
      tables.set(mapping.table, { table, keyColumns: resolveKeyColumns(mapping, table) });
    }
    try {
      await this.checkSelect(client, [...catalog.values()]);
      await this.checkReplicationAttribute(client, usr);
      await ensurePublication(client, options.publication, [...catalog.values()], this.where, options.log);
    } catch (error) {
      throw await this.withEverythingADbaMustRun(error);
    }

    this.state = await options.offsets.get<PostgresState>(stateKey(options.name));
    let slot = await readSlot(client, options.slot);
    if (slot) checkSlot(slot, db, this.where);

    let snapshotClient: pg.Client | undefined;
    let progress: SnapshotProgress | undefined;
    if (!slot) {
      if (this.state?.snapshot?.status === 'done') {
        options.log.error(
          { slot: options.slot, confirmedLsn: this.state.confirmedLsn },
          `replication slot ${options.slot} is gone: changes after ${this.state.confirmedLsn ?? 'the last confirmed position'} ` +
            `cannot be read from the log; taking a new snapshot (deletes in the gap are found by reconciliation)`,
        );
      }
      this.created = await createSlotWithSnapshot(options.url, options.slot, this.where, usr);
      options.log.info({ slot: options.slot, consistentPoint: this.created.consistentPoint }, `created replication slot ${options.slot}`);
      progress = {
        status: options.snapshot === 'never' ? 'done' : 'running',
        point: this.created.consistentPoint,
        startedAt: new Date().toISOString(),
        tables: {},
      };
      if (progress.status === 'running') {
        snapshotClient = await this.connect();
        await snapshotClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await snapshotClient.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(this.created.snapshotName)}`);
      }
    } else if (!this.state?.snapshot || this.state.snapshot.status === 'running') {
      // A slot without finished snapshot: its exported snapshot died with the process that
      // created it (or a DBA made the slot). The stream replays every change after the
      // slot's position, so rows read now under a newer snapshot, labelled with that older
      // position, end up correct once those changes follow: the final state per key is the
      // last change, and rows already sent carry the same ids as before.
      progress = this.state?.snapshot ?? {
        status: options.snapshot === 'never' ? 'done' : 'running',
        point: slot.confirmed_flush_lsn ?? '0/0',
        startedAt: new Date().toISOString(),
        tables: {},
      };
      if (progress.status === 'running') {
        options.log.info({ point: progress.point }, 'resuming snapshot');
        snapshotClient = await this.connect();
        await snapshotClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      }
    }
    if (progress) {
      this.state = { ...(this.state ?? { slot: options.slot }), slot: options.slot, snapshot: progress, updatedAt: new Date().toISOString() };
      await options.offsets.put(stateKey(options.name), this.state);
    }

    options.onReady?.(new Map([...tables].map(([name, t]) => [name, t.keyColumns])));
    if (progress?.status === 'running' && snapshotClient) {
      yield* this.snapshot(snapshotClient, tables, progress, signal);
      await snapshotClient.query('COMMIT');
      if (signal.aborted) return;
    }
    if (this.created) {
      await this.created.connection.end().catch(() => undefined);
      this.created = undefined;
    }
    if (signal.aborted) return;

    slot = await readSlot(client, options.slot);
    if (slot) checkSlot(slot, db, this.where);
    this.wal = new WalStream({
      url: options.url,
      slot: options.slot,
      publication: options.publication,
      tables,
      log: options.log,
      ...(slot?.confirmed_flush_lsn ? { startLsn: slot.confirmed_flush_lsn } : {}),
    });
    options.log.info({ slot: options.slot, from: slot?.confirmed_flush_lsn }, 'streaming changes');
    for await (const batch of this.wal.changes(signal)) {
      yield { changes: batch.changes, ...(batch.checkpoint ? { checkpoint: { kind: 'lsn', lsn: batch.checkpoint } } : {}) };
    }
  }

  private snapshot(
    client: pg.Client,
    tables: Map<string, StreamTable>,
    progress: SnapshotProgress,
    signal: AbortSignal,
  ): AsyncGenerator<ChangeBatch<PgCheckpoint>> {
    const position = pgPosition(progress.point, 0);
    return snapshotWithProgress({
      tables: tables.keys(),
      progress,
      readTable: (name, afterKey) => {
        const { table, keyColumns } = tables.get(name)!;
        return snapshotTable(client, table, keyColumns, {
          position,
          commitTs: progress.startedAt,
          chunkSize: this.options.chunkSize,
          ...(afterKey ? { afterKey } : {}),
          signal,
        });
      },
      checkpoint: (p): PgCheckpoint => ({ kind: 'snapshot', progress: p }),
      log: this.options.log,
      signal,
      ...(this.options.observer !== undefined ? { observer: this.options.observer } : {}),
    });
  }

  async commit(checkpoint: PgCheckpoint): Promise<void> {
    const key = stateKey(this.options.name);
    if (checkpoint.kind === 'snapshot') {
      this.state = { ...(this.state ?? { slot: this.options.slot }), snapshot: checkpoint.progress, updatedAt: new Date().toISOString() };
      await this.options.offsets.put(key, this.state);
      return;
    }
    await this.wal?.commit(checkpoint.lsn);
    if (this.state && (!this.state.confirmedLsn || compareLsn(checkpoint.lsn, this.state.confirmedLsn) > 0)) {
      this.state = { ...this.state, confirmedLsn: checkpoint.lsn, updatedAt: new Date().toISOString() };
    }
    // The slot is the authority for where the stream resumes; the bucket copy is for
    // operators and for noticing a dropped slot, so once a second is enough.
    if (this.state && Date.now() - this.lastStateWrite > 1000) {
      this.lastStateWrite = Date.now();
      await this.options.offsets.put(key, this.state);
    }
  }

  async close(): Promise<void> {
    await this.wal?.close();
    if (this.state) await this.options.offsets.put(stateKey(this.options.name), this.state).catch(() => undefined);
    await this.created?.connection.end().catch(() => undefined);
    await Promise.all(this.clients.map((c) => c.end().catch(() => undefined)));
  }

  private async connect(): Promise<pg.Client> {
    const client = await connectClient(this.options.url);
    this.clients.push(client);
    return client;
  }

  /** Streaming a slot needs the REPLICATION attribute, even a slot a DBA created. */
  private async checkReplicationAttribute(client: pg.Client, user: string): Promise<void> {
    const { rows } = await client.query<{ ok: string }>(
      `SELECT (rolreplication OR rolsuper)::text AS ok FROM pg_roles WHERE rolname = current_user`,
    );
    if (rows[0]?.ok !== 'true') {
      throw new HmsSyncError('SOURCE_PRIVILEGE', `${this.where}: role ${user} lacks the REPLICATION attribute needed to stream a slot`, {
        retryable: true,
      });
    }
  }

  /**
   * A privilege problem found during setup is reported with every statement a DBA must run
   * (what `doctor` prints), not only the first one found: each attempt waits a minute.
   */
  private async withEverythingADbaMustRun(error: unknown): Promise<unknown> {
    if (!(error instanceof HmsSyncError) || error.code !== 'SOURCE_PRIVILEGE') return error;
    const report = await diagnosePostgres({
      url: this.options.url,
      publication: this.options.publication,
      slot: this.options.slot,
      mappings: this.options.mappings,
    }).catch(() => undefined);
    if (!report || report.sql.length === 0) return error;
    const first = error.message.replace(/\. A DBA can run: .*$/s, '');
    return new HmsSyncError('SOURCE_PRIVILEGE', `${first}. A DBA can run: ${report.sql.join(' ')}`, { cause: error, retryable: true });
  }

  private async checkSelect(client: pg.Client, tables: PgTable[]): Promise<void> {
    const { rows } = await client.query<{ t: string; ok: string }>(
      `SELECT t, has_table_privilege(t::regclass, 'SELECT')::text AS ok FROM unnest($1::text[]) AS t`,
      [tables.map((t) => quoteTable(t.schema, t.name))],
    );
    const denied = rows.filter((r) => r.ok !== 'true').map((r) => r.t);
    if (denied.length > 0) {
      throw new HmsSyncError(
        'SOURCE_PRIVILEGE',
        `${this.where}: no SELECT privilege on ${denied.join(', ')}; a DBA can run: GRANT SELECT ON ${denied.join(', ')} TO <bridge user>;`,
        { retryable: true },
      );
    }
  }
}
