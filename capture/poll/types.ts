/**
 * Plain data shared by the polling engine, its SQL builders and its drivers.
 */
import type { SourceColumn, SourceColumnKind, SourceValue } from '../../src/mapping/types.ts';

/**
 * How the client may order values of a key column so that the order equals the database's
 * ORDER BY (needed only to place hint-column rows in their chunk):
 * - numeric: integer / decimal / float text, compared by value
 * - text: code point order (a binary collation: PostgreSQL "C", MySQL *_nopad_bin, SQLite BINARY)
 * - bytes: unsigned byte order
 * - lexical: the canonical text compared as a plain string (ISO dates and times, 'false' < 'true')
 * Absent: only the database can compare (a linguistic collation); hint rows then trigger a sweep.
 */
export type KeyOrdering = 'numeric' | 'text' | 'bytes' | 'lexical';

export interface PollColumn extends SourceColumn {
  ordering?: KeyOrdering;
  /** The column's collation as the database names it, where a dialect reads by it (SQL Server: *_UTF8 text through NVARCHAR). */
  collation?: string;
}

/** One mapped table as the poller reads it. */
export interface PollTable {
  /** "schema.table" as in the mapping file (and the catalog). */
  table: string;
  schema: string;
  name: string;
  /** The columns read and hashed, in the catalog's order. */
  columns: PollColumn[];
  /** Key columns in key order; each is one of `columns`. */
  keyColumns: string[];
  /** Index into `columns` of each key column, in key order. */
  keyIndexes: number[];
  /** The optional hint column (`poll: { changedColumn }` in the mapping file). */
  changed?: PollColumn;
}

/** Canonical values of a row's key columns, in key order. */
export type KeyValues = SourceValue[];

/** Rows with key in (after, upTo]; an absent bound is open. */
export interface KeyRange {
  after?: KeyValues;
  upTo?: KeyValues;
}

/** A bind value, with the kind of the column it is compared with (drivers bind by kind). */
export interface BoundValue {
  kind: SourceColumnKind;
  value: SourceValue;
}

export interface Statement {
  text: string;
  params: BoundValue[];
}

/** One row as read: values in PollTable.columns order, the database's own 64-bit row hash. */
export interface PolledRow {
  values: SourceValue[];
  dbHash: bigint;
  /** The hint column's value (hint queries only). */
  hint?: SourceValue;
}

/** What a checksum statement returns for a key range. */
export interface RangeChecksum {
  rows: number;
  /** Exact sum of the range's row hashes (the database's `h`), as a decimal integer. */
  sum: bigint;
}

export type DialectKind = 'postgres' | 'mysql' | 'sqlite' | 'oracle' | 'mssql';
