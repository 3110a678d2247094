import { setTimeout as sleep } from 'node:timers/promises';
import type mysql from 'mysql2/promise';
import { HmsSyncError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { SourceRow, SourceValue } from '../../src/mapping/types.ts';
import type { MysqlColumn, MysqlTable } from './catalog.ts';
import { classifyMysqlError, quoteIdent, quoteTable, queryRows } from './connection.ts';
import type { BinlogPoint } from './position.ts';
import { bitText, doubleText, floatText } from './values.ts';
import type { SnapshotChunk as GenericSnapshotChunk } from '../snapshot-progress.ts';
import { keysetSnapshot, type KeysetChunkOptions, type StoredKeyValue } from '../shared-keyset-snapshot.ts';

export type Flavor = 'mariadb' | 'mysql';

export type SnapshotChunk = GenericSnapshotChunk<StoredKeyValue>;

/** The binlog's current end: SHOW MASTER STATUS (SHOW BINARY LOG STATUS from MySQL 8.2). */
export async function currentBinlogPoint(connection: mysql.Connection, flavor: Flavor): Promise<BinlogPoint> {
  let rows: Array<Record<string, string | null>>;
  try {
    rows = await queryRows(connection, 'SHOW MASTER STATUS');
  } catch (error) {
    if ((error as { errno?: number }).errno !== 1064) throw error;
    rows = await queryRows(connection, 'SHOW BINARY LOG STATUS');
  }
  const row = rows[0];
  if (!row || !row.File) {
    throw new HmsSyncError('SOURCE_STATE', 'binary logging is off (SHOW MASTER STATUS is empty); start the server with --log-bin');
  }
  const point: BinlogPoint = { file: row.File, pos: Number(row.Position) };
  if (flavor === 'mariadb') {
    const gtid = await gtidAt(connection, point);
    if (gtid !== undefined) point.gtid = gtid;
  } else if (row.Executed_Gtid_Set) {
    point.gtid = row.Executed_Gtid_Set.replace(/\s+/g, '');
  }
  return point;
}

/** MariaDB: the GTID state at a binlog file:pos (undefined where the function is missing). */
export async function gtidAt(connection: mysql.Connection, point: BinlogPoint): Promise<string | undefined> {
  const rows = await queryRows<{ g: string | null }>(connection, 'SELECT BINLOG_GTID_POS(?, ?) AS g', [point.file, point.pos]).catch(() => []);
  const gtid = rows[0]?.g;
  return gtid === null || gtid === undefined ? undefined : gtid;
}

/**
 * Starts the snapshot transaction and says which binlog point it corresponds to, without any
 * lock (docs/mysql-capture.md has the argument):
 * - MariaDB makes the binlog point of a consistent-snapshot transaction exact:
 *   binlog_snapshot_file/_position are read inside it.
 * - MySQL has no such status: the point is read before and after START TRANSACTION WITH
 *   CONSISTENT SNAPSHOT, until both agree (no transaction wrote to the binlog in between).
 * With `needPoint` false (a snapshot resumed after a crash) only the transaction is started.
 */
export async function beginSnapshot(
  connection: mysql.Connection,
  flavor: Flavor,
  options: { needPoint: boolean; log: Logger; where: string },
): Promise<BinlogPoint | undefined> {
  try {
    await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    if (!options.needPoint) {
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      return undefined;
    }
    if (flavor === 'mariadb') {
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const status = await queryRows<{ Variable_name: string; Value: string }>(connection, "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'");
      const file = status.find((s) => s.Variable_name.toLowerCase() === 'binlog_snapshot_file')?.Value;
      const pos = status.find((s) => s.Variable_name.toLowerCase() === 'binlog_snapshot_position')?.Value;
      if (!file || pos === undefined) {
        throw new HmsSyncError('SOURCE_STATE', `${options.where}: binlog_snapshot_file/_position are empty; is binary logging on (--log-bin)?`);
      }
      const point: BinlogPoint = { file, pos: Number(pos) };
      const gtid = await gtidAt(connection, point);
      if (gtid !== undefined) point.gtid = gtid;
      return point;
    }
    for (let attempt = 1; ; attempt++) {
      const before = await currentBinlogPoint(connection, flavor);
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const after = await currentBinlogPoint(connection, flavor);
      if (before.file === after.file && before.pos === after.pos) return before;
      if (attempt >= 50) {
        options.log.warn(
          { before, after },
          'the binlog kept moving while the snapshot started; using the point read before it (changes in between are streamed again)',
        );
        return before;
      }
      await connection.query('ROLLBACK');
      await sleep(Math.min(200, 5 * attempt));
    }
  } catch (error) {
    throw classifyMysqlError(error, options.where);
  }
}

/** Select list: FLOAT is read widened to DOUBLE, so its exact single-precision value comes through the text protocol. */
function selectList(table: MysqlTable): string {
  return table.columns.map((c) => (c.dataType === 'float' ? `(${quoteIdent(c.name)} + 0e0) AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
}

/** A query's raw value (bytes in utf8mb4, or the column's bytes) -> the canonical SourceValue. */
export function queryValue(column: MysqlColumn, raw: Buffer | null): SourceValue {
  if (raw === null) return null;
  if (column.dataType === 'bit') return bitText(raw);
  if (column.kind === 'bytes') return Uint8Array.from(raw);
  const text = raw.toString('utf8');
  switch (column.dataType) {
    case 'float':
      return floatText(Math.fround(Number(text)));
    case 'double':
    case 'real':
      return doubleText(Number(text));
    case 'timestamp':
      // The session runs in UTC; the zero timestamp names no instant and keeps its text.
      return text.startsWith('0000-00-00') ? text : `${text}+00:00`;
    default:
      return text;
  }
}

function keyParam(value: StoredKeyValue): unknown {
  if (value !== null && typeof value === 'object') return Buffer.from(value.hex, 'hex');
  return value;
}

/** `(k1 > ?) OR (k1 = ? AND k2 > ?) …`: keyset continuation that uses the key's index on MySQL and MariaDB alike. */
function after(keyColumns: string[], key: StoredKeyValue[]): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (let i = 0; i < keyColumns.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) {
      parts.push(`${quoteIdent(keyColumns[j]!)} = ?`);
      params.push(keyParam(key[j]!));
    }
    parts.push(`${quoteIdent(keyColumns[i]!)} > ?`);
    params.push(keyParam(key[i]!));
    clauses.push(`(${parts.join(' AND ')})`);
  }
  return { sql: clauses.join(' OR '), params };
}

/**
 * Reads one table in key order, a chunk at a time (keyset pagination: each chunk one indexed
 * range read, never OFFSET), inside the snapshot transaction. Every row becomes an `r` change
 * at the snapshot's position.
 */
export async function* snapshotTable(
  connection: mysql.Connection,
  table: MysqlTable,
  keyColumns: string[],
  options: KeysetChunkOptions & { where: string },
): AsyncGenerator<SnapshotChunk> {
  const order = keyColumns.map(quoteIdent).join(', ');
  yield* keysetSnapshot(table, keyColumns, options, async (afterKey) => {
    const where = afterKey ? after(keyColumns, afterKey) : undefined;
    let rows: Array<Array<Buffer | null>>;
    try {
      const [result] = await connection.query({
        sql: `SELECT ${selectList(table)} FROM ${quoteTable(table.schema, table.name)}${where ? ` WHERE ${where.sql}` : ''} ORDER BY ${order} LIMIT ?`,
        values: [...(where?.params ?? []), options.chunkSize],
        rowsAsArray: true,
        typeCast: false,
      });
      rows = result as Array<Array<Buffer | null>>;
    } catch (error) {
      throw classifyMysqlError(error, `${options.where} (snapshot of ${table.table})`);
    }
    return rows.map((raw) => {
      const row: SourceRow = {};
      table.columns.forEach((column, i) => {
        row[column.name] = queryValue(column, raw[i] ?? null);
      });
      return row;
    });
  });
}
