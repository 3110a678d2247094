/**
 * The source side for MySQL / MariaDB, the twin of postgres-source.ts: one keyset-paginated
 * read of the table inside a consistent-snapshot transaction, each row decoded exactly as the
 * binlog capture's snapshot decodes it (capture/mysql/snapshot.ts) and mapped by the same
 * mapping file, keeping only the canonical key and a 64-bit hash per row. Rows are read again
 * by key, in the same snapshot, only for the small ranges bisection asks for.
 *
 * The start position is the snapshot's binlog point (`<file seq>-<offset>-00000000`): a
 * target envelope with a greater position was committed after the snapshot, so in flight.
 */
import type mysql from 'mysql2/promise';
import { loadTables, resolveKeyColumns, type MysqlTable } from '../../capture/mysql/catalog.ts';
import { classifyMysqlError, connectMysql, describeServer, queryRows, quoteIdent, quoteTable } from '../../capture/mysql/connection.ts';
import { comparePoints, snapshotPosition, type BinlogPoint } from '../../capture/mysql/position.ts';
import { readServerSettings } from '../../capture/mysql/settings.ts';
import { beginSnapshot, queryValue, snapshotTable } from '../../capture/mysql/snapshot.ts';
import { stateKey, type MysqlState } from '../../capture/mysql/index.ts';
import { mapRow } from '../../src/mapping/index.ts';
import type { Mapping, SourceColumn, SourceRow, SourceValue } from '../../src/mapping/types.ts';
import type { Logger } from '../../src/log.ts';
import { IndexedSide, type IndexEntry } from '../indexed-side.ts';
import { hashRow, keyObjectOf, rowKey } from '../normalize.ts';
import type { CompareSpec, SideRow } from '../types.ts';
import { compareSpecOf } from './postgres-source.ts';

export interface MysqlSourceOptions {
  url: string;
  mapping: Mapping;
  timezone: string;
  log: Logger;
}

/** A key value as a query parameter: text, or the column's bytes (hex in the index). */
type KeyParam = string | Buffer | null;

const KEYS_PER_QUERY = 500;

export class MysqlSourceSide {
  scanned = 0;
  unmappable = 0;
  index: IndexedSide | undefined;

  private constructor(
    readonly connection: mysql.Connection,
    readonly table: MysqlTable,
    readonly keyColumns: string[],
    readonly spec: CompareSpec,
    /** The snapshot's binlog point: every commit the snapshot sees is before it. */
    readonly point: BinlogPoint,
    readonly where: string,
    private readonly mapping: Mapping,
    private readonly timezone: string,
  ) {}

  get startPosition(): string {
    return snapshotPosition(this.point);
  }

  static async open(options: MysqlSourceOptions): Promise<MysqlSourceSide> {
    const where = describeServer(options.url);
    const connection = await connectMysql(options.url, where);
    try {
      const settings = await readServerSettings(connection);
      const catalog = await loadTables(connection, [options.mapping], where);
      const table = catalog.get(options.mapping.table)!;
      const keyColumns = resolveKeyColumns(options.mapping, table);
      const point = await beginSnapshot(connection, settings.flavor, { needPoint: true, log: options.log, where });
      return new MysqlSourceSide(connection, table, keyColumns, compareSpecOf(options.mapping, keyColumns), point!, where, options.mapping, options.timezone);
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw classifyMysqlError(error, where);
    }
  }

  async scan(chunkSize: number, signal: AbortSignal): Promise<IndexedSide> {
    const entries: IndexEntry[] = [];
    for await (const chunk of snapshotTable(this.connection, this.table, this.keyColumns, {
      position: this.startPosition,
      commitTs: new Date().toISOString(),
      chunkSize,
      signal,
      where: this.where,
    })) {
      for (const change of chunk.changes) {
        this.scanned += 1;
        const mapped = mapRow(this.mapping, change.row!, change.columns, this.keyColumns, { defaultTimezone: this.timezone });
        if (!mapped.ok) {
          this.unmappable += 1;
          continue;
        }
        const [hi, lo] = hashRow(this.spec, mapped.after);
        entries.push({
          key: rowKey(this.spec, mapped.after),
          keyObject: keyObjectOf(this.spec, mapped.after),
          hi,
          lo,
          sourceKey: this.keyColumns.map((k) => keyText(change.row![k])),
        });
      }
    }
    signal.throwIfAborted();
    this.index = new IndexedSide('source', this.spec, entries, (list) => this.fetch(list.map((e) => e.sourceKey!)));
    return this.index;
  }

  /** The mapped rows of these source keys (key text; bytes as `\x<hex>`), in the run's snapshot. */
  async fetch(keys: string[][]): Promise<SideRow[]> {
    const rows: SideRow[] = [];
    for (const read of await readMysqlRowsByKey(this.connection, this.table, this.keyColumns, keys, this.where)) {
      const mapped = mapRow(this.mapping, read.row, read.columns, this.keyColumns, { defaultTimezone: this.timezone });
      if (mapped.ok) rows.push({ values: mapped.after, sourceKey: read.sourceKey });
    }
    return rows;
  }

  /** information_schema's row estimate (for progress). */
  async estimateRows(): Promise<number | undefined> {
    const rows = await queryRows<{ n: string | null }>(
      this.connection,
      'SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [this.table.schema, this.table.name],
    ).catch(() => []);
    const n = rows[0]?.n;
    return n === null || n === undefined ? undefined : Number(n);
  }

  /** Whether the bridge has confirmed everything up to the snapshot point (its offsets entry). */
  static caughtUp(state: MysqlState | undefined, point: BinlogPoint): boolean {
    return state?.confirmed !== undefined && state.confirmed.file !== '' && comparePoints(state.confirmed, point) >= 0;
  }

  static offsetsKey(sourceName: string): string {
    return stateKey(sourceName);
  }

  async close(): Promise<void> {
    await this.connection.query('COMMIT').catch(() => undefined);
    await this.connection.end().catch(() => undefined);
  }
}

/** A key value as text for the index and the report's `sourceKeys` (bytes as `\x<hex>`). */
export function keyText(value: SourceValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  return value;
}


/**
 * The rows of these keys (key text as the index and reports hold it), decoded exactly as the
 * capture's snapshot decodes them, in whatever transaction the connection is in.
 */
export async function readMysqlRowsByKey(
  connection: mysql.Connection,
  table: MysqlTable,
  keyColumns: readonly string[],
  keys: readonly string[][],
  where: string,
): Promise<Array<{ row: SourceRow; columns: ReadonlyMap<string, SourceColumn>; sourceKey: string[] }>> {
  const columns = new Map<string, SourceColumn>(table.columns.map((c) => [c.name, { name: c.name, kind: c.kind, nativeType: c.nativeType }]));
  // Only a bytes column's `\x<hex>` is decoded, so a text key that starts with `\x` stays text.
  const keyKinds = keyColumns.map((k) => table.columns.find((c) => c.name === k)?.kind);
  const param = (index: number, text: string): KeyParam => (keyKinds[index] === 'bytes' && text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : text);
  const keyList = keyColumns.map(quoteIdent).join(', ');
  const select = table.columns.map((c) => (c.dataType === 'float' ? `(${quoteIdent(c.name)} + 0e0) AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
  const out: Array<{ row: SourceRow; columns: ReadonlyMap<string, SourceColumn>; sourceKey: string[] }> = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
    const chunk = keys.slice(i, i + KEYS_PER_QUERY);
    const params: KeyParam[] = [];
    const tuples = chunk.map((key) => `(${key.map((value, k) => (params.push(param(k, value)), '?')).join(', ')})`);
    let raw: Array<Array<Buffer | null>>;
    try {
      const [result] = await connection.query({
        sql: `SELECT ${select} FROM ${quoteTable(table.schema, table.name)} WHERE (${keyList}) IN (${tuples.join(', ')})`,
        values: params,
        rowsAsArray: true,
        typeCast: false,
      });
      raw = result as Array<Array<Buffer | null>>;
    } catch (error) {
      throw classifyMysqlError(error, `${where} (read by key of ${table.table})`);
    }
    for (const values of raw) {
      const row: SourceRow = {};
      table.columns.forEach((column, c) => (row[column.name] = queryValue(column, values[c] ?? null)));
      out.push({ row, columns, sourceKey: keyColumns.map((k) => keyText(row[k])) });
    }
  }
  return out;
}
