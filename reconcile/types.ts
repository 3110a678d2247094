/**
 * The vocabulary of reconciliation: keys and key ranges in one canonical order, the two
 * "sides" being compared (the source, a target), and what a comparison finds.
 *
 * Everything here is plain data. Sides are the only things that do I/O; the bisection, the
 * normalization and the report building are pure functions over them (see bisect.ts).
 */
import type { FieldSpec, JsonObject, JsonValue } from '../src/mapping/types.ts';

/**
 * A row's key as the canonical text of each key field, in key order (see normalize.ts
 * `canonicalKeyText`). Both sides produce the same Key for the same logical row, whatever
 * their native types, so keys can be compared and ranges agreed on across them.
 */
export type Key = readonly string[];

/** How one key field orders: exact decimal, code point, false < true, or instant. */
export type KeyKind = 'number' | 'text' | 'boolean' | 'timestamp';

/** Keys k with from <= k < to; an absent bound is unbounded. */
export interface KeyRange {
  from?: Key;
  to?: Key;
}

export interface RangeSummary {
  count: number;
  /** Sum of the rows' 64-bit hashes mod 2^64, as 16 lower-case hex digits (order-independent). */
  checksum: string;
}

/** One row as a side holds it: mapped field values (the envelope's `after` shape). */
export interface SideRow {
  values: JsonObject;
  /** Targets: the position of the envelope (or of the row) this value came from. */
  position?: string;
  /** The source: the key columns' values as the database's input text, to read the row again. */
  sourceKey?: string[];
  /**
   * rowsByKey only: the target's latest word on this key is a delete (values then hold just
   * the key fields); it counts as absent, and its position still marks a change in flight.
   */
  deleted?: boolean;
}

/**
 * One side of a comparison. `countAndChecksum` is computed wherever the side can do it
 * cheapest (in SQL for a database target, from an in-memory index for the source and the
 * stream); `rows` is the only call that moves row values, and bisection calls it only for
 * small ranges whose checksums differ.
 */
export interface ReconcileSide {
  readonly name: string;
  countAndChecksum(range: KeyRange): Promise<RangeSummary>;
  /** The rows in the range, any order. */
  rows(range: KeyRange): Promise<SideRow[]>;
  /**
   * Up to parts-1 keys that cut the range into parts of about equal row counts (key
   * quantiles), sorted, distinct, each strictly above `range.from`. Optional: sides that
   * cannot do it cheaply leave it out and the other side splits.
   */
  splitPoints?(range: KeyRange, parts: number): Promise<Key[]>;
  /**
   * The count and checksum of every part subRanges(range, points) gives (bisect.ts), in that
   * order, from one pass over the range: bisection asks the side that did not choose the
   * points, instead of a countAndChecksum per part. Each summary must be exactly what
   * countAndChecksum of that part would return (same rows, same hash), or drift hides.
   * Optional: a side whose countAndChecksum is already cheap (an index) leaves it out.
   */
  summarizeParts?(range: KeyRange, points: readonly Key[]): Promise<RangeSummary[]>;
  /**
   * The smallest and largest key of the rows the side's ranges hold (an absent bound's range
   * included: the rows countAndChecksum({}) counts), for a key that is ONE integer column
   * (int2/int4/int8 in SQL): bisection then cuts the whole key space at evenly spaced integers
   * between the two sides' bounds and sums the parts on both sides at once, instead of a
   * checksum of everything first (see bisect.ts). Undefined when the key is not one integer
   * column, when the side holds no rows, or when some row its whole-range summary counts
   * would fall in no part (a NULL key the side's ranges do not leave out): bisection then
   * starts with the whole range, as without it. Optional.
   */
  keyBounds?(): Promise<KeyBounds | undefined>;
  /** The rows of these keys as the side holds them now (the re-check after catching up). */
  rowsByKey?(keys: readonly KeyRef[]): Promise<SideRow[]>;
  /** Targets: the latest position per key, for rows and for deletes (tombstones) alike. */
  positions?(keys: readonly KeyRef[]): Promise<Map<string, string>>;
}

/** The least and greatest key a side holds (canonical key text, see keyBounds). */
export interface KeyBounds {
  min: Key;
  max: Key;
}

/** A key with the mapped key object it came from (a side may need either). */
export interface KeyRef {
  key: Key;
  keyObject: JsonObject;
}

/** The fields compared and the key fields, in mapping order and key order. */
export interface CompareSpec {
  fields: readonly FieldSpec[];
  keyFields: readonly FieldSpec[];
}

export type DiffKind = 'missingInTarget' | 'missingInSource' | 'different';

export interface FieldDiff {
  field: string;
  source: JsonValue;
  target: JsonValue;
}

export interface RowDiff {
  key: JsonObject;
  kind: DiffKind;
  fields?: FieldDiff[];
  /** Internal: canonical key, for ordering and de-duplication. */
  sortKey: Key;
  /** Internal: the source's key column values (absent when the row is missing in the source). */
  sourceKey?: string[];
  /** Internal: the target's position for this key, where it has one. */
  targetPosition?: string;
}

export interface SideStats {
  /**
   * countAndChecksum calls, plus one per summarizeParts call (one pass summing all the parts
   * of a split or of the pre-split root; its parts then cost none). A side may answer a call
   * from what it computed before (the SQL source remembers every summary): bisection cannot
   * tell, and counts it as a query.
   */
  checksumQueries: number;
  /** Rows returned by rows() / rowsByKey(): the rows moved to compare values. */
  rowsReturned: number;
  /** splitPoints calls, and keyBounds calls (the pre-split's points come from them). */
  splitQueries: number;
}

export interface BisectStats {
  source: SideStats;
  target: SideStats;
  rangesCompared: number;
  rangesEqual: number;
  leafRanges: number;
  /**
   * Rows each side holds in the whole key space (from the first checksum, or from the sum of
   * the pre-split root's parts).
   */
  totals: { source: number; target: number };
  /** Parts the root was pre-split into by key bounds (bisect.ts); 0 when it was not. */
  rootParts: number;
}
