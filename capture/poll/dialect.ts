/**
 * The port between the polling engine and a database: the SQL it needs (pure, unit-tested per
 * dialect as strings) and a connection that runs it and returns canonical values.
 */
import type { Mapping } from '../../src/mapping/types.ts';
import type { DialectKind, KeyRange, KeyValues, PollColumn, PolledRow, PollTable, RangeChecksum, Statement } from './types.ts';

/**
 * Statements over one table. Every statement reads only; row statements return the columns as
 * `c0..cN` (PollTable.columns order), the row's database hash as `h` and, for hint queries,
 * the hint column as `w`; checksum statements return `n` (rows) and `s` (exact sum of `h`).
 */
export interface PollSql {
  readonly dialect: DialectKind;
  /** Row count and sum of row hashes over a key range: the database does the work, one row comes back. */
  checksum(table: PollTable, range: KeyRange): Statement;
  /** Rows of a key range in key order, at most `limit`. */
  rows(table: PollTable, range: KeyRange, limit: number): Statement;
  /** The rows with these keys (those that still exist). */
  rowsByKey(table: PollTable, keys: KeyValues[]): Statement;
  /**
   * Rows whose hint column is >= `since`, in (hint, key) order, at most `limit`; `after`
   * continues after the last (hint, key) read.
   */
  changedSince(table: PollTable, since: string, limit: number, after?: { hint: string; key: KeyValues }): Statement;
  /** The hint column's largest value (`m`). */
  maxChanged(table: PollTable): Statement;
}

export interface TableCatalog {
  columns: PollColumn[];
  primaryKey: string[];
}

/** One session with the source. Read-only; every statement is bounded by the statement timeout. */
export interface PollConnection {
  /** Columns (kind, native type, key ordering) and primary keys of the mapped tables. */
  describe(mappings: readonly Mapping[]): Promise<Map<string, TableCatalog>>;
  checksum(statement: Statement): Promise<RangeChecksum>;
  rows(statement: Statement, table: PollTable, withHint?: boolean): Promise<PolledRow[]>;
  /** A single scalar (maxChanged): canonical text of the hint column, or null. */
  scalar(statement: Statement, table: PollTable): Promise<string | null>;
  close(): Promise<void>;
  /** Bytes sent and received on the connection so far, where the driver can tell. */
  traffic?(): { sent: number; received: number };
}

export interface ConnectOptions {
  /** Server-side statement timeout where the database has one. */
  statementTimeoutMs: number;
}

export interface PollDialect {
  readonly kind: DialectKind;
  readonly sql: PollSql;
  /** "postgres 127.0.0.1:5432/legacy": for messages, never with credentials. */
  readonly where: string;
  connect(options: ConnectOptions): Promise<PollConnection>;
}
