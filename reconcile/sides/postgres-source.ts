/**
 * The source side for PostgreSQL. Its checksums must be over MAPPED values (the target holds
 * nothing else), and the mapping (codes, legacy date formats, zones, trims) runs in the
 * bridge, so this side reads every row once, keyset-paginated inside one REPEATABLE READ
 * snapshot, maps it, and keeps only its canonical key and a 64-bit hash in an IndexedSide.
 * Rows are read again (by key, in the same snapshot) only for the small ranges bisection
 * asks for. Cost: one full read of the table over the wire per run, about 30 bytes of
 * memory per row plus the key.
 *
 * When the mapping is SQL-exact (reconcile/sql-exact.ts: every field a plain copy PostgreSQL
 * can canonicalize byte for byte), `scan()` reads nothing: it returns a PostgresSqlSourceSide,
 * whose counts and checksums are computed in SQL in the same snapshot (docs/reconciliation.md,
 * "Where the checksums are computed").
 */
import type pg from 'pg';
import { loadTables, resolveKeyColumns, type PgTable } from '../../capture/postgres/catalog.ts';
import { classifyPgError, connectClient, describeServer, quoteIdent, quoteTable } from '../../capture/postgres/connection.ts';
import { estimateRowCount } from '../../capture/postgres/slot-lag.ts';
import { pgPosition } from '../../src/envelope/envelope.ts';
import { mapRow } from '../../src/mapping/index.ts';
import { rowMapper } from '../../src/mapping/engine.ts';
import type { Mapping } from '../../src/mapping/types.ts';
import { IndexedSide, type IndexEntry } from '../indexed-side.ts';
import { hashRow, keyObjectOf, rowKey } from '../normalize.ts';
import { sqlExact, typnamesOf, type SqlExactVerdict } from '../sql-exact.ts';
import type { CompareSpec, ReconcileSide, SideRow } from '../types.ts';
import { columnsOf, readRowsByKey, toSourceRead } from './postgres-rows.ts';
import { PostgresSqlSourceSide } from './postgres-sql-source.ts';

export interface PostgresSourceOptions {
  url: string;
  mapping: Mapping;
  timezone: string;
  chunkSize: number;
  signal: AbortSignal;
}

export function compareSpecOf(mapping: Mapping, keyColumns: readonly string[]): CompareSpec {
  const keyFields = keyColumns.map((column) => mapping.fields.find((f) => f.from === column)).filter((f) => f !== undefined);
  return { fields: mapping.fields, keyFields };
}

export class PostgresSourceSide {
  /** Rows read from the table: all of them for the scan, only the compared ranges' with checksums in SQL. */
  scanned = 0;
  /** Rows that do not map (they are on the dead-letter subject, not in any target): left out. */
  unmappable = 0;
  /** With checksums in SQL: the unmappable rows the SQL counts included (found when their range was read). */
  unmappableCounted = 0;

  private constructor(
    readonly client: pg.Client,
    readonly table: PgTable,
    readonly keyColumns: string[],
    readonly spec: CompareSpec,
    /** pg_current_wal_lsn() read before the snapshot: the run's start position. */
    readonly startLsn: string,
    /** Read inside the snapshot: every commit the snapshot sees is before it. */
    readonly snapshotLsn: string,
    readonly where: string,
    private readonly mapping: Mapping,
    private readonly timezone: string,
    /** Whether count and checksum can be computed in SQL (else the scan builds an index). */
    readonly sqlVerdict: SqlExactVerdict,
    public index: IndexedSide | undefined = undefined,
  ) {}

  /** Where the count and checksum are computed: `sql` (sql-exact mapping) or `bridge` (the scan). */
  get checksumsIn(): 'sql' | 'bridge' {
    return this.sqlVerdict.exact ? 'sql' : 'bridge';
  }

  get startPosition(): string {
    return pgPosition(this.startLsn, 0);
  }

  /** Connects, records the start position, opens the snapshot. `scan()` builds the index. */
  static async open(options: PostgresSourceOptions): Promise<PostgresSourceSide> {
    const where = describeServer(options.url);
    const client = await connectClient(options.url);
    try {
      const catalog = await loadTables(client, [options.mapping], where);
      const table = catalog.get(options.mapping.table)!;
      const keyColumns = resolveKeyColumns(options.mapping, table);
      const session = (
        await client.query<{ serverEncoding: string; dateStyle: string; timeZone: string; versionNum: string }>(
          `SELECT current_setting('server_encoding') AS "serverEncoding", current_setting('DateStyle') AS "dateStyle", current_setting('TimeZone') AS "timeZone", current_setting('server_version_num') AS "versionNum"`,
        )
      ).rows[0]!;
      const verdict = sqlExact({
        mapping: options.mapping,
        columns: typnamesOf(table.columns),
        keyColumns,
        defaultTimezone: options.timezone,
        session: { ...session, versionNum: Number(session.versionNum) },
      });
      const startLsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapshotLsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
      const spec = compareSpecOf(options.mapping, keyColumns);
      return new PostgresSourceSide(client, table, keyColumns, spec, startLsn, snapshotLsn, where, options.mapping, options.timezone, verdict);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw classifyPgError(error, where);
    }
  }

  /**
   * The side bisection compares: with a SQL-exact mapping, the side computing checksums in
   * SQL (nothing read here); otherwise the index of every row, read and mapped now.
   */
  async scan(chunkSize: number, signal: AbortSignal): Promise<ReconcileSide> {
    if (this.sqlVerdict.exact) return new PostgresSqlSourceSide(this.client, this.table, this.keyColumns, this.spec, this.mapping, this.timezone, this);
    return this.scanIndex(chunkSize, signal);
  }

  /** Reads and maps every row (one keyset-paginated pass) into an in-memory index. */
  async scanIndex(chunkSize: number, signal: AbortSignal): Promise<IndexedSide> {
    const entries: IndexEntry[] = [];
    const map = rowMapper(this.mapping, this.keyColumns, { defaultTimezone: this.timezone });
    // The keyset pagination of capture/postgres/snapshot.ts (same statement, same text
    // conversions), pipelined: the next chunk is asked for as soon as this one arrived, so the
    // server reads and sends it while this process maps and hashes the current one.
    const keyList = this.keyColumns.map(quoteIdent).join(', ');
    const from = quoteTable(this.table.schema, this.table.name);
    const read = (afterKey: string[] | undefined): Promise<pg.QueryResult<Record<string, string | null>>> => {
      const where = afterKey ? `WHERE (${keyList}) > (${this.keyColumns.map((_, i) => `$${i + 1}`).join(', ')})` : '';
      const params = afterKey ? [...afterKey, chunkSize] : [chunkSize];
      return this.client.query<Record<string, string | null>>(`SELECT * FROM ${from} ${where} ORDER BY ${keyList} LIMIT $${params.length}`, params);
    };
    let next: Promise<pg.QueryResult<Record<string, string | null>>> | undefined = read(undefined);
    while (next) {
      signal.throwIfAborted();
      const result: pg.QueryResult<Record<string, string | null>> = await next;
      const last = result.rows[result.rows.length - 1];
      next = result.rows.length < chunkSize || !last ? undefined : read(this.keyColumns.map((k) => last[k] as string));
      // Keep the pipelined query's rejection handled while this chunk is processed.
      next?.catch(() => undefined);
      const columns = columnsOf(this.table, result.fields);
      for (const raw of result.rows) {
        this.scanned += 1;
        const { row, sourceKey } = toSourceRead(raw, columns, this.keyColumns);
        const mapped = map(row, columns);
        if (!mapped.ok) {
          this.unmappable += 1;
          continue;
        }
        const [hi, lo] = hashRow(this.spec, mapped.after);
        entries.push({ key: rowKey(this.spec, mapped.after), keyObject: keyObjectOf(this.spec, mapped.after), hi, lo, sourceKey });
      }
    }
    signal.throwIfAborted();
    this.index = new IndexedSide('source', this.spec, entries, (list) => this.fetch(list.map((e) => e.sourceKey!)));
    return this.index;
  }

  /** The mapped rows of these source keys, in the run's snapshot. */
  async fetch(keys: string[][]): Promise<SideRow[]> {
    const reads = await readRowsByKey(this.client, this.table, this.keyColumns, keys);
    const rows: SideRow[] = [];
    for (const read of reads) {
      const mapped = mapRow(this.mapping, read.row, read.columns, this.keyColumns, { defaultTimezone: this.timezone });
      if (mapped.ok) rows.push({ values: mapped.after, sourceKey: read.sourceKey });
    }
    return rows;
  }

  /** The planner's row estimate (for progress), inside the run's transaction. */
  async estimateRows(): Promise<number | undefined> {
    // A savepoint keeps a failed estimate from aborting the run's snapshot transaction.
    await this.client.query('SAVEPOINT hms_sync_estimate');
    const total = await estimateRowCount(this.client, this.mapping.table).catch(() => undefined);
    await this.client.query(total === undefined ? 'ROLLBACK TO SAVEPOINT hms_sync_estimate' : 'RELEASE SAVEPOINT hms_sync_estimate');
    return total;
  }

  /** The replication slot's confirmed position, where this account may see it. */
  async slotConfirmedLsn(slot: string): Promise<string | undefined> {
    const { rows } = await this.client
      .query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot])
      .catch(() => ({ rows: [] as { lsn: string | null }[] }));
    return rows[0]?.lsn ?? undefined;
  }

  async close(): Promise<void> {
    await this.client.query('COMMIT').catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
