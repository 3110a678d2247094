/**
 * SQLite for polling (better-sqlite3, an optional dependency: it builds a native module at
 * install). The file is opened read-only. SQLite has no hash function, so the connection
 * registers `hms_row_hash` and `hms_hash_sum` (sql/sqlite.ts). Values are canonical by their
 * storage class: INTEGER as digits (64-bit exact), REAL as the shortest round-trip text, TEXT
 * as is, BLOB as bytes. There is no server-side statement timeout in SQLite; the busy timeout
 * bounds how long a statement waits for a writer's lock.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { HmsSyncError, errorMessage } from '../../../src/errors.ts';
import type { Mapping, SourceColumnKind, SourceValue } from '../../../src/mapping/types.ts';
import type { ConnectOptions, PollConnection, PollDialect, TableCatalog } from '../dialect.ts';
import { RowHasher } from '../row-hash.ts';
import { SQLITE_HASH_SUM, SQLITE_ROW_HASH, sqliteFlavor, sqliteSql } from '../sql/sqlite.ts';
import type { KeyOrdering, PollColumn, PolledRow, PollTable, RangeChecksum, Statement } from '../types.ts';

export function sqliteDialect(file: string): PollDialect {
  const where = `sqlite ${file}`;
  return { kind: 'sqlite', sql: sqliteSql, where, connect: (options) => SqlitePollConnection.open(file, where, options) };
}

/** Column kind from the declared type, by SQLite's own affinity rules (section 3.1 of its datatype page). */
export function sqliteKind(declared: string): SourceColumnKind {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'integer';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'text';
  if (t.includes('BLOB') || t === '') return 'other';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'float';
  if (t.includes('BOOL')) return 'boolean';
  if (t.includes('DATE') || t.includes('TIME')) return 'text';
  return 'decimal';
}

function orderingOf(kind: SourceColumnKind, collated: boolean): KeyOrdering | undefined {
  switch (kind) {
    case 'integer':
    case 'float':
    case 'decimal':
      return 'numeric';
    case 'text':
      // BINARY, SQLite's default collation, is memcmp over UTF-8: code point order.
      return collated ? undefined : 'text';
    default:
      return undefined;
  }
}

let loaded: typeof BetterSqlite3 | undefined;

function loadDriver(where: string): typeof BetterSqlite3 {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    return loaded;
  } catch (error) {
    throw new HmsSyncError(
      'CONFIG',
      `${where}: polling SQLite needs the optional package better-sqlite3, which is not installed or did not build (${errorMessage(error)}); run npm install better-sqlite3`,
      { cause: error },
    );
  }
}

/** Text of a value as SQLite stores it, framed so that no two rows share it. */
function storedText(value: unknown): string {
  if (value === null || value === undefined) return 'n';
  if (typeof value === 'bigint') return `i${value}`;
  if (typeof value === 'number') return `f${value}`;
  if (typeof value === 'string') return `s${value.length}:${value}`;
  if (value instanceof Uint8Array) return `b${value.length}:${Buffer.from(value).toString('hex')}`;
  return `o${String(value)}`;
}

class SqlitePollConnection implements PollConnection {
  private constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly where: string,
  ) {}

  static async open(file: string, where: string, options: ConnectOptions): Promise<SqlitePollConnection> {
    const Database = loadDriver(where);
    const hasher = await RowHasher.create();
    let db: BetterSqlite3.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: options.statementTimeoutMs });
    } catch (error) {
      throw new HmsSyncError('SOURCE_UNREACHABLE', `${where}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
    db.defaultSafeIntegers(true);
    db.function(SQLITE_ROW_HASH, { deterministic: true, varargs: true, safeIntegers: true }, (...values: unknown[]) =>
      hasher.h64(values.map(storedText).join('|')).toString(),
    );
    db.aggregate(SQLITE_HASH_SUM, {
      start: () => 0n,
      step: (total: bigint, hash: unknown) => (hash === null || hash === undefined ? total : total + BigInt(hash as string)),
      result: (total: bigint) => total.toString(),
      safeIntegers: true,
    });
    return new SqlitePollConnection(db, where);
  }

  async describe(mappings: readonly Mapping[]): Promise<Map<string, TableCatalog>> {
    const out = new Map<string, TableCatalog>();
    const missing: Mapping[] = [];
    for (const m of mappings) {
      const schema = sqliteFlavor.ident(m.schema);
      const info = this.run(() =>
        this.db.prepare(`PRAGMA ${schema}.table_info(${sqliteFlavor.ident(m.tableName)})`).all(),
      ) as Array<{ name: string; type: string; pk: bigint }>;
      if (info.length === 0) {
        missing.push(m);
        continue;
      }
      const ddl = this.run(() =>
        this.db.prepare(`SELECT sql FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).get(m.tableName),
      ) as { sql: string | null } | undefined;
      const collated = /\bCOLLATE\b/i.test(ddl?.sql ?? '');
      const columns: PollColumn[] = info.map((c) => {
        const kind = sqliteKind(c.type);
        const ordering = orderingOf(kind, collated);
        return { name: c.name, kind, nativeType: c.type || 'ANY', ...(ordering ? { ordering } : {}) };
      });
      const primaryKey = info
        .filter((c) => Number(c.pk) > 0)
        .sort((a, b) => Number(a.pk) - Number(b.pk))
        .map((c) => c.name);
      out.set(m.table, { columns, primaryKey });
    }
    if (missing.length > 0) {
      throw new HmsSyncError('SOURCE_STATE', missing.map((m) => `${m.file}: table ${m.table} not found in ${this.where}`).join('; '), {
        retryable: true,
      });
    }
    return out;
  }

  async checksum(statement: Statement): Promise<RangeChecksum> {
    const row = this.run(() => this.db.prepare(statement.text).get(...this.bind(statement))) as { n: bigint; s: string };
    return { rows: Number(row.n), sum: BigInt(row.s) };
  }

  async rows(statement: Statement, table: PollTable, withHint = false): Promise<PolledRow[]> {
    const rows = this.run(() => this.db.prepare(statement.text).all(...this.bind(statement))) as Array<Record<string, unknown>>;
    return rows.map((raw) => ({
      values: table.columns.map((_, i) => canonical(raw[`c${i}`])),
      dbHash: BigInt(raw.h as string),
      ...(withHint && table.changed ? { hint: canonical(raw.w) } : {}),
    }));
  }

  async scalar(statement: Statement): Promise<string | null> {
    const row = this.run(() => this.db.prepare(statement.text).get(...this.bind(statement))) as Record<string, unknown> | undefined;
    const value = row ? canonical(Object.values(row)[0]) : null;
    return typeof value === 'string' ? value : null;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private bind(statement: Statement): unknown[] {
    return statement.params.map((p) => {
      if (p.value instanceof Uint8Array) return Buffer.from(p.value);
      if (p.kind === 'integer' && p.value !== null && /^-?\d+$/.test(p.value)) return BigInt(p.value);
      return p.value;
    });
  }

  private run<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw new HmsSyncError('SOURCE_STATE', `${this.where}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
  }
}

function canonical(value: unknown): SourceValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return String(value);
}
