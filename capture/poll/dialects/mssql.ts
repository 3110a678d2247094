/**
 * SQL Server for polling (`mssql`). DECIMAL, MONEY and the date/time types are read through
 * CONVERT to text (the SQL flavor's selectColumn), BIGINT comes as text from tedious, binary
 * types as bytes. A `rowversion` column can be the mapping's hint column
 * (`poll: { changedColumn: RV }`): it is compared as binary(8) and carried as 16 hex digits.
 * Every statement is bounded by the driver's request timeout; the account needs SELECT only.
 */
import sql from 'mssql';
import { HmsSyncError } from '../../../src/errors.ts';
import type { Mapping, SourceValue } from '../../../src/mapping/types.ts';
import { loadTables } from '../../mssql/catalog.ts';
import { classifyMssqlError, connectMssql, describeServer } from '../../mssql/connection.ts';
import { mssqlValue } from '../../mssql/values.ts';
import type { ConnectOptions, PollConnection, PollDialect, TableCatalog } from '../dialect.ts';
import { mssqlSql } from '../sql/mssql.ts';
import type { BoundValue, KeyOrdering, PollColumn, PolledRow, PollTable, RangeChecksum, Statement } from '../types.ts';

export function mssqlDialect(url: string): PollDialect {
  const where = describeServer(url);
  return { kind: 'mssql', sql: mssqlSql, where, connect: (options) => MssqlPollConnection.open(url, where, options) };
}

/**
 * How the client may order a key column like SQL Server does: numbers by value, date/time
 * types by their fixed-width text, text only under a *_BIN2 collation (code point order).
 * Binary keys are left to the database (it ignores trailing zero bytes when comparing).
 */
export function mssqlOrdering(dataType: string, kind: PollColumn['kind'], collation: string | null | undefined): KeyOrdering | undefined {
  const t = dataType.toLowerCase();
  if (kind === 'integer' || kind === 'decimal' || kind === 'float') return 'numeric';
  if (kind === 'date' || kind === 'time' || kind === 'timestamp') return 'lexical';
  if (kind === 'text' && t !== 'uniqueidentifier' && collation && /_BIN2$/i.test(collation)) return 'text';
  return undefined;
}

/** A bound value as `mssql` takes it: bytes (and a rowversion's hex) as VARBINARY, the rest as NVARCHAR the server converts. */
export function mssqlBind(request: sql.Request, name: string, p: BoundValue): sql.Request {
  if (p.value === null) return request.input(name, sql.NVarChar(sql.MAX), null);
  if (p.value instanceof Uint8Array) return request.input(name, sql.VarBinary(sql.MAX), Buffer.from(p.value));
  if (p.kind === 'bytes') return request.input(name, sql.VarBinary(sql.MAX), Buffer.from(p.value.replace(/^0x/i, ''), 'hex'));
  return request.input(name, sql.NVarChar(sql.MAX), p.value);
}

function asColumn(column: PollColumn): { kind: PollColumn['kind']; dataType: string; name: string } {
  return { kind: column.kind, dataType: column.nativeType.replace(/\(.*$/, '').toLowerCase(), name: column.name };
}

/** A hint value must be text: a rowversion (or any binary hint) as upper-case hex. */
export function hintText(column: PollColumn, raw: unknown): string | null {
  if (typeof raw === 'string' && column.kind === 'bytes') return raw.replace(/^0x/i, '').toUpperCase();
  const value: SourceValue = mssqlValue(asColumn(column), raw);
  if (value === null) return null;
  return value instanceof Uint8Array ? Buffer.from(value).toString('hex').toUpperCase() : value;
}

class MssqlPollConnection implements PollConnection {
  private constructor(
    private readonly pool: sql.ConnectionPool,
    private readonly where: string,
    private readonly timeoutMs: number,
  ) {}

  static async open(url: string, where: string, options: ConnectOptions): Promise<MssqlPollConnection> {
    const pool = await connectMssql(url, where, { requestTimeoutMs: options.statementTimeoutMs });
    return new MssqlPollConnection(pool, where, options.statementTimeoutMs);
  }

  async describe(mappings: readonly Mapping[]): Promise<Map<string, TableCatalog>> {
    const tables = await loadTables(this.pool, mappings, this.where);
    const out = new Map<string, TableCatalog>();
    for (const [name, table] of tables) {
      const columns: PollColumn[] = table.columns.map((c) => {
        const ordering = mssqlOrdering(c.dataType, c.kind, c.collation);
        return { name: c.name, kind: c.kind, nativeType: c.nativeType, ...(ordering ? { ordering } : {}), ...(c.collation ? { collation: c.collation } : {}) };
      });
      out.set(name, { columns, primaryKey: table.primaryKey });
    }
    return out;
  }

  async checksum(statement: Statement): Promise<RangeChecksum> {
    const rows = await this.run(statement);
    const row = rows[0] ?? {};
    return { rows: Number(row.n ?? 0), sum: BigInt(String(row.s ?? '0')) };
  }

  async rows(statement: Statement, table: PollTable, withHint = false): Promise<PolledRow[]> {
    const rows = await this.run(statement);
    return rows.map((raw) => ({
      values: table.columns.map((c, i) => mssqlValue(asColumn(c), raw[`c${i}`])),
      dbHash: BigInt(String(raw.h)),
      ...(withHint && table.changed ? { hint: hintText(table.changed, raw.w) } : {}),
    }));
  }

  async scalar(statement: Statement, table: PollTable): Promise<string | null> {
    const rows = await this.run(statement);
    const first = rows[0];
    if (!first) return null;
    const value = Object.values(first)[0];
    return table.changed ? hintText(table.changed, value) : value === null || value === undefined ? null : String(value);
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }

  private async run(statement: Statement): Promise<Array<Record<string, unknown>>> {
    const request = this.pool.request();
    statement.params.forEach((p, i) => mssqlBind(request, `p${i + 1}`, p));
    try {
      return (await request.query<Record<string, unknown>>(statement.text)).recordset;
    } catch (error) {
      if ((error as { code?: string }).code === 'ETIMEOUT') {
        throw new HmsSyncError('SOURCE_STATE', `${this.where}: a polling statement hit the statement timeout (${this.timeoutMs} ms)`, { cause: error, retryable: true });
      }
      throw classifyMssqlError(error, this.where);
    }
  }
}
