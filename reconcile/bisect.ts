/**
 * Checksum bisection (the data-diff idea) over two sides, pure but for the sides' own I/O.
 *
 * Start with the whole key space. For a range, ask both sides for count and checksum: equal
 * means the range is done at the cost of one checksum each. Unequal ranges are cut at key
 * quantiles into `splitFactor` parts and compared again, until a range is small
 * (`leafRows`) or one side has nothing in it; only then are rows fetched, from both sides,
 * and compared field by field on normalized values. With d differing keys among n rows the
 * rows moved are about d * leafRows per side instead of n, and the checksum calls about
 * d * splitFactor * log_splitFactor(n / leafRows). A side that can sum all the parts of a split
 * in one pass (summarizeParts, a database) is asked once per split instead of once per part,
 * and both sides are asked together after the splitter has chosen the points: the order at
 * every split is "points (key quantiles, cheap) -> both sides' part sums, concurrently".
 *
 * Pre-split root: when the key is one integer column and both sides can give their key bounds
 * (keyBounds, an index lookup) and sum parts, the whole key space is not checksummed first.
 * Its points are evenly spaced integers between the smaller minimum and the larger maximum
 * (rootParts of them, fewer when the span is small), and both sides sum those parts in one pass
 * each, concurrently: with drift, that pass is the first split's as well, so a run saves a
 * full pass per side (the root's checksum) and the splitter's quantile pass over every key. The
 * first and last parts are open-ended, so every row a side's whole-range checksum would count
 * is in exactly one part, whatever the bounds were; the totals are the sums of the parts.
 */
import { canonicalRow, keyComparator, keyId, keyKind, keyKinds, keyObjectOf, rowKey } from './normalize.ts';
import type {
  BisectStats,
  CompareSpec,
  FieldDiff,
  Key,
  KeyRange,
  KeyRef,
  RangeSummary,
  ReconcileSide,
  RowDiff,
  SideRow,
  SideStats,
} from './types.ts';

export interface BisectOptions {
  /** Parts an unequal range is cut into. Default 16. */
  splitFactor?: number;
  /** A range with at most this many rows on each side is compared row by row. Default 64. */
  leafRows?: number;
  /**
   * Parts the whole key space is pre-split into by key bounds, for a single integer key where
   * both sides give keyBounds and summarizeParts. Default 64; below 2, no pre-split.
   */
  rootParts?: number;
  /** Ranges compared at once (each costs a query on each side). Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface BisectResult {
  diffs: RowDiff[];
  stats: BisectStats;
  /** The rows fetched from each side, by key id: the values the diffs were computed from. */
  sourceRows: Map<string, SideRow>;
  targetRows: Map<string, SideRow>;
}

function emptyStats(): SideStats {
  return { checksumQueries: 0, rowsReturned: 0, splitQueries: 0 };
}

/** Compares one key's rows; undefined when they are equal after normalization. */
export function compareRows(spec: CompareSpec, source: SideRow | undefined, target: SideRow | undefined): RowDiff | undefined {
  const present = source ?? target;
  if (present === undefined) return undefined;
  const sortKey = rowKey(spec, present.values);
  const base = {
    key: keyObjectOf(spec, present.values),
    sortKey,
    ...(source?.sourceKey ? { sourceKey: source.sourceKey } : {}),
    ...(target?.position !== undefined ? { targetPosition: target.position } : {}),
  };
  if (source === undefined) return { ...base, kind: 'missingInSource' };
  if (target === undefined) return { ...base, kind: 'missingInTarget' };
  const a = canonicalRow(spec, source.values);
  const b = canonicalRow(spec, target.values);
  const fields: FieldDiff[] = [];
  for (let i = 0; i < spec.fields.length; i++) {
    if (a[i] === b[i]) continue;
    const name = spec.fields[i]!.name;
    fields.push({ field: name, source: source.values[name] ?? null, target: target.values[name] ?? null });
  }
  return fields.length === 0 ? undefined : { ...base, kind: 'different', fields };
}

/** Diffs of every key in the union of two row sets, in key order. */
export function diffRowSets(spec: CompareSpec, sourceRows: ReadonlyMap<string, SideRow>, targetRows: ReadonlyMap<string, SideRow>): RowDiff[] {
  const diffs: RowDiff[] = [];
  for (const [id, row] of sourceRows) {
    const diff = compareRows(spec, row, targetRows.get(id));
    if (diff) diffs.push(diff);
  }
  for (const [id, row] of targetRows) {
    if (sourceRows.has(id)) continue;
    const diff = compareRows(spec, undefined, row);
    if (diff) diffs.push(diff);
  }
  return sortDiffs(spec, diffs);
}

export function sortDiffs(spec: CompareSpec, diffs: RowDiff[]): RowDiff[] {
  const compare = keyComparator(keyKinds(spec));
  return diffs.sort((x, y) => compare(x.sortKey, y.sortKey));
}

function indexRows(spec: CompareSpec, rows: readonly SideRow[], into: Map<string, SideRow>): void {
  for (const row of rows) {
    if (row.deleted) continue;
    into.set(keyId(rowKey(spec, row.values)), row);
  }
}

/** The parts of a range cut at points (sorted, inside it): [from, p1), [p1, p2), ..., [pk, to). */
export function subRanges(range: KeyRange, points: readonly Key[]): KeyRange[] {
  const out: KeyRange[] = [];
  let from = range.from;
  for (const point of points) {
    out.push({ ...(from !== undefined ? { from } : {}), to: point });
    from = point;
  }
  out.push({ ...(from !== undefined ? { from } : {}), ...(range.to !== undefined ? { to: range.to } : {}) });
  return out;
}

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

/**
 * Up to parts-1 evenly spaced integers strictly inside (min, max], strictly increasing, as
 * canonical key text (normalize.ts canonicalKeyText of an integer: plain decimal). BigInt all
 * the way, so int8 keys beyond 2^53 cut exactly. None when max <= min.
 */
export function integerSplitPoints(min: bigint, max: bigint, parts: number): Key[] {
  const span = max - min;
  if (span <= 0n || parts < 2) return [];
  const n = BigInt(parts);
  const points: Key[] = [];
  let last = min;
  for (let i = 1n; i < n; i++) {
    // min + ceil(span * i / n): above min (span * i > 0), at most max (i < n).
    const point = min + (span * i + n - 1n) / n;
    if (point > last) points.push([point.toString()]);
    last = point;
  }
  return points;
}

/** A range to compare, with what a side already said of it (a part of a split it summarized). */
interface PendingRange {
  range: KeyRange;
  source?: RangeSummary | undefined;
  target?: RangeSummary | undefined;
}

export async function bisect(source: ReconcileSide, target: ReconcileSide, spec: CompareSpec, options: BisectOptions = {}): Promise<BisectResult> {
  const splitFactor = Math.max(2, options.splitFactor ?? 16);
  const leafRows = Math.max(1, options.leafRows ?? 64);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const rootParts = Math.floor(options.rootParts ?? 64);
  const stats: BisectStats = {
    source: emptyStats(),
    target: emptyStats(),
    rangesCompared: 0,
    rangesEqual: 0,
    leafRanges: 0,
    totals: { source: 0, target: 0 },
    rootParts: 0,
  };
  const sourceRows = new Map<string, SideRow>();
  const targetRows = new Map<string, SideRow>();

  const fetchLeaf = async (range: KeyRange, s: RangeSummary, t: RangeSummary): Promise<void> => {
    stats.leafRanges += 1;
    const [a, b] = await Promise.all([
      s.count > 0 ? source.rows(range) : Promise.resolve([]),
      t.count > 0 ? target.rows(range) : Promise.resolve([]),
    ]);
    stats.source.rowsReturned += a.length;
    stats.target.rowsReturned += b.length;
    indexRows(spec, a, sourceRows);
    indexRows(spec, b, targetRows);
  };

  const summary = (side: ReconcileSide, sideStats: SideStats, range: KeyRange, known: RangeSummary | undefined): Promise<RangeSummary> => {
    if (known) return Promise.resolve(known);
    sideStats.checksumQueries += 1;
    return side.countAndChecksum(range);
  };

  // The parts' summaries from one pass, on a side that can: the splitter too (it chose the
  // points only; summing its parts now runs concurrently with the other side's sums).
  const partSummaries = async (side: ReconcileSide, sideStats: SideStats, range: KeyRange, points: Key[], parts: number): Promise<RangeSummary[] | undefined> => {
    if (side.summarizeParts === undefined) return undefined;
    sideStats.checksumQueries += 1;
    const summaries = await side.summarizeParts(range, points);
    if (summaries.length !== parts) throw new Error(`reconcile side ${side.name}: summarizeParts gave ${summaries.length} summaries for ${parts} parts`);
    return summaries;
  };

  const visit = async ({ range, source: knownSource, target: knownTarget }: PendingRange): Promise<PendingRange[]> => {
    options.signal?.throwIfAborted();
    const [s, t] = await Promise.all([summary(source, stats.source, range, knownSource), summary(target, stats.target, range, knownTarget)]);
    stats.rangesCompared += 1;
    if (range.from === undefined && range.to === undefined) stats.totals = { source: s.count, target: t.count };
    if (s.count === t.count && s.checksum === t.checksum) {
      stats.rangesEqual += 1;
      return [];
    }
    if (s.count === 0 || t.count === 0 || Math.max(s.count, t.count) <= leafRows) {
      await fetchLeaf(range, s, t);
      return [];
    }
    // Split by the side that holds more rows here and can cut cheaply.
    const order = s.count >= t.count ? [source, target] : [target, source];
    const splitter = order.find((side) => side.splitPoints !== undefined);
    const points = splitter ? await splitter.splitPoints!(range, splitFactor) : [];
    if (splitter) (splitter === source ? stats.source : stats.target).splitQueries += 1;
    if (splitter === undefined || points.length === 0) {
      await fetchLeaf(range, s, t);
      return [];
    }
    const parts = subRanges(range, points);
    const [sourceParts, targetParts] = await Promise.all([
      partSummaries(source, stats.source, range, points, parts.length),
      partSummaries(target, stats.target, range, points, parts.length),
    ]);
    return parts.map((part, i) => ({ range: part, source: sourceParts?.[i], target: targetParts?.[i] }));
  };

  // The root's parts by key bounds (see the top of the file), or undefined: start with the root.
  const preSplitRoot = async (): Promise<PendingRange[] | undefined> => {
    const single = spec.keyFields.length === 1 && keyKind(spec.keyFields[0]!) === 'number';
    if (!single || rootParts < 2) return undefined;
    if (!source.keyBounds || !target.keyBounds || !source.summarizeParts || !target.summarizeParts) return undefined;
    options.signal?.throwIfAborted();
    stats.source.splitQueries += 1;
    stats.target.splitQueries += 1;
    const [a, b] = await Promise.all([source.keyBounds(), target.keyBounds()]);
    if (a === undefined || b === undefined) return undefined;
    const ends = [a.min, a.max, b.min, b.max].map((key) => (key.length === 1 && INTEGER_TEXT.test(key[0]!) ? BigInt(key[0]!) : undefined));
    if (ends.some((end) => end === undefined)) return undefined;
    const [aMin, aMax, bMin, bMax] = ends as bigint[];
    const points = integerSplitPoints(aMin! < bMin! ? aMin! : bMin!, aMax! > bMax! ? aMax! : bMax!, rootParts);
    if (points.length === 0) return undefined;
    const root: KeyRange = {};
    const parts = subRanges(root, points);
    const [sourceParts, targetParts] = await Promise.all([
      partSummaries(source, stats.source, root, points, parts.length),
      partSummaries(target, stats.target, root, points, parts.length),
    ]);
    const total = (summaries: RangeSummary[]): number => summaries.reduce((n, part) => n + part.count, 0);
    stats.totals = { source: total(sourceParts!), target: total(targetParts!) };
    stats.rootParts = parts.length;
    return parts.map((part, i) => ({ range: part, source: sourceParts![i], target: targetParts![i] }));
  };

  let pending: PendingRange[] = (await preSplitRoot()) ?? [{ range: {} }];
  while (pending.length > 0) {
    const batch = pending.splice(0, concurrency);
    const next = await Promise.all(batch.map(visit));
    pending = [...next.flat(), ...pending];
  }
  // Merged by key, so a key the two sides happened to place in different leaves still
  // compares as one row, not as "missing" on both sides.
  return { diffs: diffRowSets(spec, sourceRows, targetRows), stats, sourceRows, targetRows };
}

export interface ReconcileOptions extends BisectOptions {
  /**
   * The source position read before the source was read. A target row or delete newer than
   * it is a change committed during the run: never reported.
   */
  startPosition?: string;
  /**
   * Waits (with its own deadline) until the target holds everything up to the start
   * position; resolves false when the deadline passed first.
   */
  waitForTarget?: () => Promise<boolean>;
}

export interface ReconcileOutcome {
  diffs: RowDiff[];
  stats: BisectStats;
  /** Keys that differed but whose target is newer than the start: changes in flight. */
  inFlight: number;
  /** Keys that differed at first and matched once the target had caught up. */
  settled: number;
  /** undefined when no wait was needed. */
  caughtUp?: boolean;
}

function refs(diffs: readonly RowDiff[]): KeyRef[] {
  return diffs.map((d) => ({ key: d.sortKey, keyObject: d.key }));
}

/**
 * Bisection, then the in-flight rules: drop keys whose target is newer than the run's start;
 * wait for the target to catch up to the start; compare the remaining keys once more
 * (source values as of the run's snapshot, target values as they are now).
 */
export async function reconcileSides(
  source: ReconcileSide,
  target: ReconcileSide,
  spec: CompareSpec,
  options: ReconcileOptions = {},
): Promise<ReconcileOutcome> {
  const result = await bisect(source, target, spec, options);
  const start = options.startPosition;
  let inFlight = 0;
  const isNewer = (position: string | undefined): boolean => start !== undefined && position !== undefined && position > start;

  let candidates = result.diffs;
  if (start !== undefined && candidates.length > 0 && target.positions) {
    const positions = await target.positions(refs(candidates));
    const kept = candidates.filter((d) => !isNewer(d.targetPosition ?? positions.get(keyId(d.sortKey))));
    inFlight += candidates.length - kept.length;
    candidates = kept;
  }
  if (candidates.length === 0 || options.waitForTarget === undefined) {
    return { diffs: candidates, stats: result.stats, inFlight, settled: 0 };
  }

  const caughtUp = await options.waitForTarget();
  const fresh = new Map<string, SideRow>();
  const freshPositions = new Map<string, string>();
  if (target.rowsByKey) {
    const rows = await target.rowsByKey(refs(candidates));
    result.stats.target.rowsReturned += rows.length;
    for (const row of rows) {
      const id = keyId(rowKey(spec, row.values));
      if (row.position !== undefined) freshPositions.set(id, row.position);
      if (!row.deleted) fresh.set(id, row);
    }
  } else {
    for (const d of candidates) {
      const row = result.targetRows.get(keyId(d.sortKey));
      if (row) fresh.set(keyId(d.sortKey), row);
    }
  }
  const diffs: RowDiff[] = [];
  let settled = 0;
  for (const candidate of candidates) {
    const id = keyId(candidate.sortKey);
    if (isNewer(freshPositions.get(id))) {
      inFlight += 1;
      continue;
    }
    const diff = compareRows(spec, result.sourceRows.get(id), fresh.get(id));
    if (diff) diffs.push(diff);
    else settled += 1;
  }
  return { diffs: sortDiffs(spec, diffs), stats: result.stats, inFlight, settled, caughtUp };
}
