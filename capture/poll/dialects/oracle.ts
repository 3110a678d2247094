/**
 * Oracle for polling (node-oracledb, thin mode). Sessions are set up like the log capture's
 * (capture/oracle/connection.ts: fixed NLS formats, UTC, binary sort); NUMBER comes back as the
 * driver's exact text, DATE and TIMESTAMP through TO_CHAR (the SQL flavor's selectColumn), LOBs
 * whole. Every statement is bounded by the driver's call timeout (Oracle has no per-session
 * statement timeout a plain account may set); the account needs SELECT only.
 */
import type oracledb from 'oracledb';
import { HmsSyncError } from '../../../src/errors.ts';
import type { Mapping, SourceValue } from '../../../src/mapping/types.ts';
import { loadTables } from '../../oracle/catalog.ts';
import { classifyOracleError, connectOracle, describeServer, queryArrays, queryObjects } from '../../oracle/connection.ts';
import { oracleValue } from '../../oracle/values.ts';
import type { ConnectOptions, PollConnection, PollDialect, TableCatalog } from '../dialect.ts';
import { oracleSql } from '../sql/oracle.ts';
import type { BoundValue, KeyOrdering, PollColumn, PolledRow, PollTable, RangeChecksum, Statement } from '../types.ts';

export function oracleDialect(url: string): PollDialect {
  const where = describeServer(url);
  return { kind: 'oracle', sql: oracleSql, where, connect: (options) => OraclePollConnection.open(url, where, options) };
}

/**
 * How the client may order a key column like Oracle's ORDER BY (sessions sort BINARY):
 * numbers by value, DATE/TIMESTAMP by their fixed-width text, RAW by bytes, VARCHAR2 by code
 * point where the database character set is UTF-8 (binary order of UTF-8 is code point order).
 */
export function oracleOrdering(dataType: string, kind: PollColumn['kind'], utf8Database: boolean): KeyOrdering | undefined {
  const t = dataType.toUpperCase();
  if (kind === 'integer' || kind === 'decimal' || kind === 'float') return 'numeric';
  if (t === 'DATE' || (t.startsWith('TIMESTAMP') && !/TIME ZONE/.test(t))) return 'lexical';
  if (t === 'RAW') return 'bytes';
  if (t === 'VARCHAR2' && utf8Database) return 'text';
  return undefined;
}

/** A bound value as oracledb takes it: bytes as a Buffer, text as is. */
export function oracleBind(p: BoundValue): string | Buffer | null {
  if (p.value === null) return null;
  if (p.value instanceof Uint8Array) return Buffer.from(p.value);
  return p.value;
}

function asColumn(column: PollColumn): { kind: PollColumn['kind']; dataType: string; name: string } {
  return { kind: column.kind, dataType: column.nativeType, name: column.name };
}

/** A polled value -> canonical; a hint must be text (bytes as upper-case hex). */
function hintText(column: PollColumn, raw: unknown): string | null {
  const value: SourceValue = oracleValue(asColumn(column), raw);
  if (value === null) return null;
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex').toUpperCase() : value;
}

class OraclePollConnection implements PollConnection {
  private constructor(
    private readonly connection: oracledb.Connection,
    private readonly where: string,
  ) {}

  static async open(url: string, where: string, options: ConnectOptions): Promise<OraclePollConnection> {
    const connection = await connectOracle(url, where, { callTimeoutMs: options.statementTimeoutMs });
    return new OraclePollConnection(connection, where);
  }

  async describe(mappings: readonly Mapping[]): Promise<Map<string, TableCatalog>> {
    const tables = await loadTables(this.connection, mappings, this.where);
    const charset = (
      await queryArrays<[string]>(this.connection, `SELECT VALUE FROM NLS_DATABASE_PARAMETERS WHERE PARAMETER = 'NLS_CHARACTERSET'`).catch(() => [])
    )[0]?.[0];
    const utf8 = charset === 'AL32UTF8' || charset === 'UTF8';
    const out = new Map<string, TableCatalog>();
    for (const [name, table] of tables) {
      const columns: PollColumn[] = table.columns.map((c) => {
        const ordering = oracleOrdering(c.dataType, c.kind, utf8);
        // nativeType carries the DATA_TYPE: the SQL flavor and the conversions read the type from it.
        return { name: c.name, kind: c.kind, nativeType: c.dataType, ...(ordering ? { ordering } : {}) };
      });
      out.set(name, { columns, primaryKey: table.primaryKey });
    }
    return out;
  }

  async checksum(statement: Statement): Promise<RangeChecksum> {
    const rows = await this.run<Record<string, unknown>>(statement);
    const row = rows[0] ?? {};
    return { rows: Number(row.n ?? 0), sum: BigInt(String(row.s ?? '0')) };
  }

  async rows(statement: Statement, table: PollTable, withHint = false): Promise<PolledRow[]> {
    const rows = await this.run<Record<string, unknown>>(statement);
    return rows.map((raw) => ({
      values: table.columns.map((c, i) => oracleValue(asColumn(c), raw[`c${i}`])),
      dbHash: BigInt(String(raw.h)),
      ...(withHint && table.changed ? { hint: hintText(table.changed, raw.w) } : {}),
    }));
  }

  async scalar(statement: Statement, table: PollTable): Promise<string | null> {
    const rows = await this.run<Record<string, unknown>>(statement);
    const first = rows[0];
    if (!first) return null;
    const value = Object.values(first)[0];
    return table.changed ? hintText(table.changed, value) : value === null || value === undefined ? null : String(value);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }

  private async run<R>(statement: Statement): Promise<R[]> {
    try {
      return await queryObjects<R>(this.connection, statement.text, statement.params.map(oracleBind));
    } catch (error) {
      if (/NJS-123|DPI-1067|call timeout/i.test(String((error as Error)?.message))) {
        throw new HmsSyncError('SOURCE_STATE', `${this.where}: a polling statement hit the statement timeout (${(error as Error).message})`, {
          cause: error,
          retryable: true,
        });
      }
      throw classifyOracleError(error, this.where);
    }
  }
}
