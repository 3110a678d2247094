/**
 * MySQL / MariaDB for polling (mysql2). Values come back as the server's own text (typeCast:
 * `field.string()`), binary columns as bytes: DECIMAL exact, DATETIME as the `timestamp` kind,
 * TIMESTAMP as `timestamptz` with '+00:00' (the session runs at time_zone '+00:00'), BIGINT
 * beyond 2^53 exact. Sessions are read-only and carry the server's statement timeout
 * (MariaDB max_statement_time, MySQL max_execution_time).
 */
import mysql from 'mysql2/promise';
import { HmsSyncError, errorMessage } from '../../../src/errors.ts';
import type { Mapping, SourceColumnKind, SourceValue } from '../../../src/mapping/types.ts';
import type { ConnectOptions, PollConnection, PollDialect, TableCatalog } from '../dialect.ts';
import { mysqlSql } from '../sql/mysql.ts';
import { kindForDataType } from '../../mysql/catalog.ts';
import { classifyMysqlError, describeServer as describeMysql } from '../../mysql/connection.ts';
import type { BoundValue, KeyOrdering, PollColumn, PolledRow, PollTable, RangeChecksum, Statement } from '../types.ts';

export function mysqlDialect(url: string): PollDialect {
  const where = describeMysql(url);
  return { kind: 'mysql', sql: mysqlSql, where, connect: (options) => MysqlPollConnection.open(url, where, options) };
}

function orderingOf(kind: SourceColumnKind, collation: string | null): KeyOrdering | undefined {
  switch (kind) {
    case 'integer':
    case 'decimal':
    case 'float':
      return 'numeric';
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return 'lexical';
    case 'bytes':
      return 'bytes';
    case 'text':
      // Only NO PAD binary collations order like bytes: PAD SPACE ones ('utf8mb4_bin') compare
      // 'a' after 'a\t', and the *_ci ones fold case.
      return collation !== null && /(_nopad_bin|_0900_bin)$/.test(collation) ? 'text' : undefined;
    default:
      return undefined;
  }
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/**
 * Bind values go into the SQL text (mysql2's client-side escaping); numbers as numeric
 * literals, so a BIGINT beyond 2^53 compares exactly and an index on it is used.
 */
function bindValue(p: BoundValue): unknown {
  if (p.value === null) return null;
  if (p.value instanceof Uint8Array) return Buffer.from(p.value);
  if ((p.kind === 'integer' && INTEGER_TEXT.test(p.value)) || (p.kind === 'decimal' && DECIMAL_TEXT.test(p.value))) return mysql.raw(p.value);
  // The session's time zone is +00:00: a TIMESTAMP literal carries no offset.
  if (p.kind === 'timestamptz') return p.value.replace(/\+00:00$/, '');
  return p.value;
}

class MysqlPollConnection implements PollConnection {
  private constructor(
    private readonly connection: mysql.Connection,
    private readonly where: string,
  ) {}

  static async open(url: string, where: string, options: ConnectOptions): Promise<MysqlPollConnection> {
    const u = new URL(url);
    let connection: mysql.Connection;
    try {
      connection = await mysql.createConnection({
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        ...(u.pathname.length > 1 ? { database: decodeURIComponent(u.pathname.slice(1)) } : {}),
        charset: 'utf8mb4',
        connectTimeout: 10_000,
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        decimalNumbers: false,
      });
    } catch (error) {
      throw classifyPollError(error, where);
    }
    connection.on('error', () => undefined);
    try {
      await connection.query(`SET time_zone = '+00:00'`);
      const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      const mariadb = /mariadb/i.test(String(rows[0]?.v ?? ''));
      const seconds = Math.max(1, Math.ceil(options.statementTimeoutMs / 1000));
      await connection.query(mariadb ? `SET SESSION max_statement_time = ${seconds}` : `SET SESSION max_execution_time = ${options.statementTimeoutMs}`);
      await connection.query('SET SESSION TRANSACTION READ ONLY');
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw classifyPollError(error, where);
    }
    return new MysqlPollConnection(connection, where);
  }

  async describe(mappings: readonly Mapping[]): Promise<Map<string, TableCatalog>> {
    const out = new Map<string, TableCatalog>();
    if (mappings.length === 0) return out;
    const match = mappings.map(() => '(TABLE_SCHEMA = ? AND TABLE_NAME = ?)').join(' OR ');
    const params = mappings.flatMap((m) => [m.schema, m.tableName]);
    const columns = await this.plain<{ TABLE_SCHEMA: string; TABLE_NAME: string; COLUMN_NAME: string; DATA_TYPE: string; COLUMN_TYPE: string; CHARACTER_SET_NAME: string | null; COLLATION_NAME: string | null }>(
      `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME
         FROM information_schema.COLUMNS WHERE ${match} ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
      params,
    );
    const keys = await this.plain<{ TABLE_SCHEMA: string; TABLE_NAME: string; COLUMN_NAME: string }>(
      `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
        WHERE INDEX_NAME = 'PRIMARY' AND (${match}) ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX`,
      params,
    );
    for (const row of columns) {
      // information_schema matches names case-insensitively; the mapping's names are exact.
      const table = `${row.TABLE_SCHEMA}.${row.TABLE_NAME}`;
      if (!mappings.some((m) => m.table === table)) continue;
      let entry = out.get(table);
      if (!entry) out.set(table, (entry = { columns: [], primaryKey: [] }));
      const kind = kindForDataType(row.DATA_TYPE, row.CHARACTER_SET_NAME);
      const ordering = orderingOf(kind, row.COLLATION_NAME);
      entry.columns.push({ name: row.COLUMN_NAME, kind, nativeType: row.COLUMN_TYPE, ...(ordering ? { ordering } : {}) });
    }
    for (const row of keys) out.get(`${row.TABLE_SCHEMA}.${row.TABLE_NAME}`)?.primaryKey.push(row.COLUMN_NAME);
    const missing = mappings.filter((m) => !out.has(m.table));
    if (missing.length > 0) {
      throw new HmsSyncError(
        'SOURCE_STATE',
        missing
          .map((m) => `${m.file}: table ${m.table} not found in ${this.where} (names are matched exactly; a table the account may not SELECT from is not listed either)`)
          .join('; '),
        { retryable: true },
      );
    }
    return out;
  }

  async checksum(statement: Statement): Promise<RangeChecksum> {
    const rows = await this.run(statement, () => 'text');
    return { rows: Number(rows[0]!.n), sum: BigInt(rows[0]!.s as string) };
  }

  async rows(statement: Statement, table: PollTable, withHint = false): Promise<PolledRow[]> {
    const kinds = new Map<string, PollColumn>(table.columns.map((c, i) => [`c${i}`, c]));
    if (withHint && table.changed) kinds.set('w', table.changed);
    const rows = await this.run(statement, (alias) => {
      const column = kinds.get(alias);
      if (!column) return 'text';
      return column.kind === 'bytes' || column.nativeType.toLowerCase().startsWith('bit') ? 'bytes' : 'text';
    });
    return rows.map((raw) => ({
      values: table.columns.map((c, i) => canonical(c, raw[`c${i}`] ?? null)),
      dbHash: BigInt(raw.h as string),
      ...(withHint && table.changed ? { hint: canonical(table.changed, raw.w ?? null) } : {}),
    }));
  }

  async scalar(statement: Statement, table: PollTable): Promise<string | null> {
    const rows = await this.run(statement, () => 'text');
    const value = rows[0] ? (Object.values(rows[0])[0] ?? null) : null;
    const canonicalValue = table.changed ? canonical(table.changed, value) : value;
    return typeof canonicalValue === 'string' ? canonicalValue : null;
  }

  async close(): Promise<void> {
    await this.connection.end().catch(() => undefined);
  }

  private async plain<R>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      const [rows] = await this.connection.query(sql, params);
      return rows as R[];
    } catch (error) {
      throw classifyPollError(error, this.where);
    }
  }

  private async run(statement: Statement, read: (alias: string) => 'text' | 'bytes'): Promise<Array<Record<string, SourceValue>>> {
    try {
      const [rows] = await this.connection.query({
        sql: statement.text,
        values: statement.params.map(bindValue),
        typeCast: (field: { name: string; string(): string | null; buffer(): Buffer | null }) => {
          if (read(field.name) === 'bytes') {
            const bytes = field.buffer();
            return bytes === null ? null : new Uint8Array(bytes);
          }
          return field.string();
        },
      } as mysql.QueryOptions);
      return rows as Array<Record<string, SourceValue>>;
    } catch (error) {
      throw classifyPollError(error, this.where);
    }
  }
}

/** The server's text (or bytes) -> canonical SourceValue for the column's kind. */
function canonical(column: PollColumn, value: SourceValue): SourceValue {
  if (value === null) return null;
  if (value instanceof Uint8Array) {
    // BIT(n) arrives as big-endian bytes: its value as an integer.
    if (column.kind === 'integer') return BigInt(`0x${Buffer.from(value).toString('hex') || '0'}`).toString();
    return value;
  }
  if (column.kind === 'timestamptz') return `${value}+00:00`;
  return value;
}

/**
 * The capture's classifier (capture/mysql/connection.ts: every lost-connection case it knows,
 * auth, grants), plus the one case only polling meets: a statement that hit the session's
 * statement timeout.
 */
export function classifyPollError(error: unknown, where: string): HmsSyncError {
  const errno = (error as { errno?: number } | null)?.errno;
  // 1969 (MariaDB) / 3024 (MySQL): the statement timeout.
  if (errno === 1969 || errno === 3024) {
    return new HmsSyncError('SOURCE_STATE', `${where}: ${errorMessage(error)} (a polling statement hit the statement timeout)`, { cause: error, retryable: true });
  }
  return classifyMysqlError(error, where);
}
