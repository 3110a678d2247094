/**
 * PostgreSQL for polling: plain SELECTs on sessions set up like the log capture's
 * (capture/postgres/connection.ts: ISO dates, UTC, exact float text, values as the server's
 * text), plus a statement timeout and read-only transactions.
 */
import type pg from 'pg';
import { HmsSyncError } from '../../../src/errors.ts';
import type { Mapping } from '../../../src/mapping/types.ts';
import { loadTables } from '../../postgres/catalog.ts';
import { classifyPgError, connectClient, describeServer } from '../../postgres/connection.ts';
import { pgTextToSourceValue } from '../../postgres/pg-types.ts';
import type { ConnectOptions, PollConnection, PollDialect, PollSql, TableCatalog } from '../dialect.ts';
import { postgresFastSql, postgresSql } from '../sql/postgres.ts';
import type { KeyOrdering, PollColumn, PolledRow, PollTable, RangeChecksum, Statement } from '../types.ts';

export function postgresDialect(url: string): PollDialect {
  const where = describeServer(url);
  // md5 until a connection shows the server has hashtextextended (PostgreSQL 11+); the engine
  // takes `sql` after the first connection described the tables.
  let sql: PollSql = postgresSql;
  return {
    kind: 'postgres',
    get sql() {
      return sql;
    },
    where,
    connect: async (options) => {
      const connection = await PgPollConnection.open(url, where, options);
      sql = connection.serverVersion >= 110000 ? postgresFastSql : postgresSql;
      return connection;
    },
  };
}

/** Collations whose order is the byte order of UTF-8 text (= code point order). */
const BYTE_ORDER_COLLATIONS = new Set(['C', 'POSIX', 'ucs_basic']);

class PgPollConnection implements PollConnection {
  private constructor(
    private readonly client: pg.Client,
    private readonly where: string,
    readonly serverVersion: number,
  ) {}

  static async open(url: string, where: string, options: ConnectOptions): Promise<PgPollConnection> {
    const client = await connectClient(url, { statement_timeout: options.statementTimeoutMs, application_name: 'hms-sync-poll' });
    try {
      // Polling only reads; a read-only session makes that a promise the server keeps.
      await client.query('SET default_transaction_read_only = on');
      const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
      return new PgPollConnection(client, where, Number(rows[0]!.v));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw classifyPgError(error, where);
    }
  }

  async describe(mappings: readonly Mapping[]): Promise<Map<string, TableCatalog>> {
    try {
      const tables = await loadTables(this.client, mappings, this.where);
      const { rows } = await this.client.query<{ rel: string; attname: string; collname: string | null; datcollate: string }>(
        `SELECT n.nspname || '.' || c.relname AS rel, a.attname, co.collname, d.datcollate
           FROM unnest($1::oid[]) AS t(oid)
           JOIN pg_class c ON c.oid = t.oid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           LEFT JOIN pg_collation co ON co.oid = a.attcollation
           JOIN pg_database d ON d.datname = current_database()`,
        [[...tables.values()].map((t) => t.oid)],
      );
      const byteOrder = new Set(
        rows
          .filter((r) => r.collname !== null && (BYTE_ORDER_COLLATIONS.has(r.collname) || (r.collname === 'default' && BYTE_ORDER_COLLATIONS.has(r.datcollate))))
          .map((r) => `${r.rel}\u0000${r.attname}`),
      );
      const out = new Map<string, TableCatalog>();
      for (const [name, table] of tables) {
        const columns: PollColumn[] = [...table.columns.values()].map((c) => {
          const ordering = orderingOf(c.kind, byteOrder.has(`${name}\u0000${c.name}`));
          return { name: c.name, kind: c.kind, nativeType: c.nativeType, ...(ordering ? { ordering } : {}) };
        });
        out.set(name, { columns, primaryKey: table.primaryKey });
      }
      return out;
    } catch (error) {
      throw classifyPgError(error, this.where);
    }
  }

  async checksum(statement: Statement): Promise<RangeChecksum> {
    const { rows } = await this.run<{ n: string; s: string }>(statement);
    return { rows: Number(rows[0]!.n), sum: BigInt(rows[0]!.s) };
  }

  async rows(statement: Statement, table: PollTable, withHint = false): Promise<PolledRow[]> {
    const { rows } = await this.run<Record<string, string | null>>(statement);
    return rows.map((raw) => ({
      values: table.columns.map((c, i) => pgTextToSourceValue(c.kind, raw[`c${i}`] ?? null)),
      dbHash: BigInt(raw.h!),
      ...(withHint && table.changed ? { hint: pgTextToSourceValue(table.changed.kind, raw.w ?? null) } : {}),
    }));
  }

  async scalar(statement: Statement): Promise<string | null> {
    const { rows } = await this.run<Record<string, string | null>>(statement);
    const first = rows[0];
    return first ? (Object.values(first)[0] ?? null) : null;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  traffic(): { sent: number; received: number } {
    const socket = (this.client as unknown as { connection?: { stream?: { bytesWritten?: number; bytesRead?: number } } }).connection?.stream;
    return { sent: socket?.bytesWritten ?? 0, received: socket?.bytesRead ?? 0 };
  }

  private async run<R extends pg.QueryResultRow>(statement: Statement): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(
        statement.text,
        statement.params.map((p) => (p.value instanceof Uint8Array ? Buffer.from(p.value) : p.value)),
      );
    } catch (error) {
      if ((error as { code?: string }).code === '57014') {
        throw new HmsSyncError('SOURCE_STATE', `${this.where}: a polling statement hit the statement timeout (${(error as Error).message})`, {
          cause: error,
          retryable: true,
        });
      }
      throw classifyPgError(error, this.where);
    }
  }
}

function orderingOf(kind: PollColumn['kind'], byteOrderText: boolean): KeyOrdering | undefined {
  switch (kind) {
    case 'integer':
    case 'decimal':
    case 'float':
      return 'numeric';
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'boolean':
      return 'lexical';
    case 'bytes':
      return 'bytes';
    case 'text':
      return byteOrderText ? 'text' : undefined;
    default:
      return undefined;
  }
}
