/**
 * The polling engine: one pass over every mapped table, yielding batches of changes.
 *
 * A table is cut into chunks: consecutive key ranges of about `chunkSize` rows, each with the
 * row count and the exact sum of the rows' database hashes as of the last read. A sweep asks
 * the database for the count and sum of a group of chunks (one statement, one row back) and
 * compares it with the sum of the stored chunk sums; only a group that moved is split and asked
 * again, down to single chunks, and only a chunk that moved is read row by row. Its rows are
 * hashed (xxhash over the canonical values) and compared with the hashes stored for that chunk:
 * new keys are `c`, other hashes `u`, missing keys `d`. Chunks that grew past twice the chunk
 * size are split; chunks that emptied are merged away.
 *
 * Tables with a hint column are read by `hint >= watermark` between sweeps; a sweep on a
 * slower cadence still finds deletes and rows whose hint column did not move.
 *
 * State changes go out with the batches and are written (PollSource.commit) only after
 * JetStream acknowledged the envelopes: the state never claims more than the stream holds.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../src/log.ts';
import type { CaptureObserver } from '../../src/metrics/observer.ts';
import type { SourceColumn, SourceRow } from '../../src/mapping/types.ts';
import type { ChangeBatch, RawChange } from '../../src/ports.ts';
import {
  applySent,
  cutChunks,
  diffChunk,
  diffFound,
  entryRowBytes,
  entryToRows,
  rowsToEntry,
  sumHashes,
  type Detected,
  type ReadRow,
  type StoredRows,
} from './chunk-diff.ts';
import { Debouncer } from './debounce.ts';
import type { PollConnection, PollSql } from './dialect.ts';
import { keyId, keyOf, keyRow } from './key-codec.ts';
import { keyComparator, type KeyComparator } from './key-order.ts';
import { nextPassStart, pollPosition } from './position.ts';
import { emptyCounters, forEachLimit, type QueryCounters, type QueryPool } from './query-pool.ts';
import type { PendingRequest } from './resync-requests.ts';
import type { RowHasher } from './row-hash.ts';
import { PollStateStore, tableToken, type ChunkEntry, type ChunkState, type ManifestSnapshot, type SourceHead, type TableState } from './state.ts';
import type { KeyRange, KeyValues, PollTable } from './types.ts';

export interface PollEngineOptions {
  sourceName: string;
  /** Rows per statement, and the target size of a chunk. */
  chunkSize: number;
  debounceMs: number;
  /** Statements at once (checksums of different groups run side by side up to this). */
  concurrency: number;
  /** Chunks per top-level checksum statement of a sweep. */
  groupChunks: number;
  /** A moved group is split into this many parts. */
  fanout: number;
  /** Largest chunk entry (JSON bytes) in the KV bucket; a chunk is split before it grows past it. */
  maxEntryBytes: number;
  /** Full sweep cadence of tables with a hint column, unless their mapping says otherwise. */
  defaultSweepMs: number;
  log: Logger;
  now?: () => number;
  /** A paused table (docs/pause-resume.md) is skipped by every pass: no reads, state untouched. */
  isPaused?: (table: string) => boolean;
  /** Told of every pass that ends (the bridge's metrics). */
  observer?: CaptureObserver;
}

export type PassKind = 'full' | 'held';

export interface PassStats extends QueryCounters {
  kind: PassKind;
  pass: number;
  startMs: number;
  durationMs: number;
  changes: number;
  sweeps: number;
  hintScans: number;
  chunksRead: number;
}

export interface EngineStats extends QueryCounters {
  passes: number;
  changes: number;
  sweeps: number;
  hintScans: number;
  held: number;
  /** Chunks over all tables after the last pass. */
  chunks: number;
  last?: PassStats;
}

/** What one batch hands to commit(): written in order, entries before manifests before the head. */
export interface PendingCommit {
  seq: number;
  writes: Array<{ key: string; value: ChunkEntry }>;
  manifests: Array<{ table: string; snapshot: ManifestSnapshot; freed: number[] }>;
  progress: Omit<SourceHead, 'v' | 'updatedAt'>;
  /** Keys deleted after the rest is written (re-emit requests that are done). */
  deletes: string[];
}

export interface PollCheckpoint {
  seq: number;
}

interface TableRuntime {
  table: PollTable;
  token: string;
  signature: string;
  columns: ReadonlyMap<string, SourceColumn>;
  state: TableState;
  compare: KeyComparator | undefined;
  sweepMs: number;
  lastSweepMs: number;
  debouncer: Debouncer;
  /** Ids freed since the last manifest: reusable once a manifest without them is written. */
  freeing: number[];
  /** Ids freed in manifests not written yet (listed as free in every later manifest too). */
  pendingFree: number[];
  manifestDirty: boolean;
  lastManifestMs: number;
  warnedNoOrder: boolean;
}

interface PassContext {
  kind: PassKind;
  pass: number;
  startMs: number;
  index: number;
  opened: boolean;
  stats: PassStats;
}

export const ROW_HASH_VERSION = 1;

/** Same columns, kinds, key and row hash: the stored hashes still mean the same thing. */
export function tableSignature(table: PollTable, dialect: string): string {
  return createHash('sha256')
    .update(JSON.stringify([ROW_HASH_VERSION, dialect, table.columns.map((c) => [c.name, c.kind]), table.keyColumns]))
    .digest('hex')
    .slice(0, 16);
}

export class PollEngine {
  readonly stats: EngineStats = { ...emptyCounters(), passes: 0, changes: 0, sweeps: 0, hintScans: 0, held: 0, chunks: 0 };
  private readonly tables: TableRuntime[] = [];
  private readonly entryCache = new Map<string, ChunkEntry>();
  private readonly queue: PendingCommit[] = [];
  private seq = 0;
  private head: SourceHead | undefined;
  private lastPass: { pass: number; startMs: number } | undefined;
  private resume: { pass: number; startMs: number; nextIndex: number } | undefined;
  private sweepAll = false;
  private readonly now: () => number;

  constructor(
    private readonly sql: PollSql,
    private readonly pool: QueryPool,
    private readonly store: PollStateStore,
    private readonly hasher: RowHasher,
    private readonly options: PollEngineOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Reads the state from NATS; a table without (usable) state is read whole as `r` rows at the first pass. */
  async load(tables: readonly PollTable[], sweepMs: ReadonlyMap<string, number>): Promise<void> {
    const { log } = this.options;
    this.head = await this.store.getSource();
    if (this.head) {
      this.lastPass = { pass: this.head.pass, startMs: this.head.startMs };
      // A pass cut short: run it again under the same number, so what is sent again keeps its position.
      if (!this.head.done) this.resume = { pass: this.head.pass, startMs: this.head.startMs, nextIndex: this.head.nextIndex };
    }
    for (const table of [...tables].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0))) {
      const token = tableToken(table.table);
      const signature = tableSignature(table, this.sql.dialect);
      const loaded = await this.store.getTable(token);
      let state: TableState;
      if ('state' in loaded && loaded.state.signature === signature) {
        state = loaded.state;
        log.info({ table: table.table, chunks: state.chunks.length, building: Boolean(state.building) }, `poll state of ${table.table} loaded`);
      } else {
        const why =
          'state' in loaded
            ? 'its mapped columns or key changed since the state was written'
            : loaded.lost === 'missing'
              ? 'there is no poll state for it (first start, or the state was lost)'
              : 'its poll state is incomplete';
        const gen = 'state' in loaded ? loaded.state.gen : loaded.gen;
        log.warn({ table: table.table }, `${table.table}: ${why}; every row is sent as r at the first pass`);
        state = { signature, chunks: [], nextId: 0, free: [], watermark: null, gen };
      }
      this.store.knowGeneration(token, state.gen);
      this.tables.push({
        table,
        token,
        signature,
        columns: new Map(table.columns.map((c) => [c.name, { name: c.name, kind: c.kind, nativeType: c.nativeType }])),
        state,
        compare: keyComparator(table.keyIndexes.map((i) => table.columns[i]!)),
        sweepMs: sweepMs.get(table.table) ?? this.options.defaultSweepMs,
        lastSweepMs: 0,
        debouncer: new Debouncer(this.options.debounceMs),
        freeing: [],
        pendingFree: [],
        manifestDirty: false,
        lastManifestMs: 0,
        warnedNoOrder: false,
      });
    }
  }

  /** The next pass sweeps every table, hint column or not (an operator's or a test's request). */
  requestSweep(): void {
    this.sweepAll = true;
  }

  /** When the earliest held change is due (undefined: nothing held). */
  nextDeadline(): number | undefined {
    let first: number | undefined;
    for (const rt of this.tables) {
      if (this.options.isPaused?.(rt.table.table)) continue;
      const d = rt.debouncer.nextDeadline();
      if (d !== undefined) first = first === undefined ? d : Math.min(first, d);
    }
    return first;
  }

  /**
   * One pass. `full` checks every table (sweep, or hint scan between sweeps) and sends held
   * changes that are due; `held` only sends held changes that are due (a debounce deadline
   * fell between two passes).
   */
  async *pass(kind: PassKind, signal: AbortSignal, requests: readonly PendingRequest[] = []): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    const ctx = this.beginPass(kind);
    const sweepAll = kind === 'full' && this.sweepAll;
    if (sweepAll) this.sweepAll = false;
    try {
      for (const request of requests) {
        if (signal.aborted) return;
        yield* this.reemit(request, ctx, signal);
      }
      for (const rt of this.tables) {
        if (signal.aborted) return;
        if (this.options.isPaused?.(rt.table.table)) continue;
        if (kind === 'full') {
          if (rt.state.building || rt.state.chunks.length === 0) yield* this.build(rt, ctx, signal);
          else if (rt.table.changed && !sweepAll && ctx.startMs - rt.lastSweepMs < rt.sweepMs) yield* this.hintScan(rt, ctx, signal);
          else yield* this.sweep(rt, ctx, signal);
        }
        if (signal.aborted) return;
        yield* this.sendDue(rt, ctx);
      }
      const manifests = this.tables.filter((rt) => rt.manifestDirty).map((rt) => this.manifest(rt));
      // A full pass always ends with a checkpoint, even an idle one, so the source head says
      // which pass was completed last (reconcile waits for a pass that started after its snapshot).
      if (ctx.opened || manifests.length > 0 || kind === 'full') {
        yield this.batch(ctx, [], [], manifests, true);
      }
    } finally {
      this.endPass(ctx);
    }
  }

  /**
   * Writes the poll state that a checkpoint (and every one before it) accounts for: chunk
   * entries in the order they were made, then the newest manifest of each table, then the
   * source head. Called only once JetStream acknowledged the envelopes up to the checkpoint.
   */
  async commit(checkpoint: PollCheckpoint): Promise<void> {
    const done: PendingCommit[] = [];
    while (this.queue[0] && this.queue[0].seq <= checkpoint.seq) done.push(this.queue.shift()!);
    if (done.length === 0) return;
    for (const commit of done) for (const write of commit.writes) await this.store.put(write.key, write.value);
    const manifests = new Map<string, PendingCommit['manifests'][number]>();
    for (const commit of done) for (const m of commit.manifests) manifests.set(m.table, m);
    for (const m of manifests.values()) await this.store.putManifest(m.snapshot);
    await this.store.putSource(done.at(-1)!.progress);
    for (const commit of done) for (const key of commit.deletes) await this.store.delete(key);
    for (const commit of done) {
      for (const write of commit.writes) if (this.entryCache.get(write.key) === write.value) this.entryCache.delete(write.key);
      // Ids freed before this manifest may be reused now: no written manifest points at them.
      for (const m of commit.manifests) {
        const rt = this.tables.find((t) => t.table.table === m.table);
        if (!rt) continue;
        rt.pendingFree = rt.pendingFree.filter((id) => !m.freed.includes(id));
        rt.state.free.push(...m.freed);
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Passes

  private beginPass(kind: PassKind): PassContext {
    const now = this.now();
    let pass: number;
    let startMs: number;
    let index = 0;
    if (this.resume) {
      ({ pass, startMs, nextIndex: index } = this.resume);
      this.resume = undefined;
    } else {
      pass = ((this.lastPass?.pass ?? 0) % 0xffffffff) + 1;
      startMs = nextPassStart(now, this.lastPass?.startMs);
    }
    this.lastPass = { pass, startMs };
    return {
      kind,
      pass,
      startMs,
      index,
      opened: false,
      stats: { ...emptyCounters(), kind, pass, startMs, durationMs: 0, changes: 0, sweeps: 0, hintScans: 0, chunksRead: 0 },
    };
  }

  private endPass(ctx: PassContext): void {
    ctx.stats.durationMs = this.now() - ctx.stats.startMs;
    this.stats.passes += 1;
    this.stats.held = this.tables.reduce((n, rt) => n + rt.debouncer.size, 0);
    this.stats.chunks = this.tables.reduce((n, rt) => n + rt.state.chunks.length, 0);
    this.stats.last = ctx.stats;
    // Pass durations for /metrics: the bridge's observer of this attempt (none outside the bridge).
    this.options.observer?.pollPass?.(ctx.stats.kind, ctx.stats.durationMs);
  }

  /**
   * A re-emit request (review resync, snapshot): the current row of each requested key as `r`,
   * `d` for a key the table no longer has; without keys, every row as `r`. At this pass's own
   * positions, so they sort after everything sent before. The poll state is left as it is: it
   * records what the sweep compares with, and a row re-sent here that also changed since is
   * sent once more by the sweep (same row, later position), which is harmless.
   */
  private async *reemit(pending: PendingRequest, ctx: PassContext, signal: AbortSignal): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    const { request } = pending;
    const { chunkSize } = this.options;
    const rt = this.tables.find((t) => t.table.table === request.table);
    if (!rt) {
      this.options.log.warn({ request: request.id, table: request.table }, `re-emit request ${request.id}: ${request.table} is not a mapped table of this source; dropped`);
      yield this.batch(ctx, [], [], [], false, [pending.key]);
      return;
    }
    let emitted = 0;
    if (request.keys === undefined) {
      let after: KeyValues | undefined;
      for (;;) {
        if (signal.aborted) return;
        const page = await this.readPage(rt, ctx, after ? { after } : {}, chunkSize);
        const done = page.length < chunkSize;
        const changes = page.map((row) => this.change(rt, ctx, { op: 'r', id: row.id, key: row.key, row }));
        emitted += changes.length;
        if (changes.length > 0) await this.open(ctx);
        if (page.length > 0) after = page.at(-1)!.key;
        if (done) {
          yield this.batch(ctx, changes, [], [], false, [pending.key]);
          break;
        }
        yield this.batch(ctx, changes, []);
      }
    } else {
      const keys = request.keys.filter((k) => Array.isArray(k) && k.length === rt.table.keyColumns.length) as KeyValues[];
      for (let i = 0; i < keys.length || i === 0; i += chunkSize) {
        if (signal.aborted) return;
        const slice = keys.slice(i, i + chunkSize);
        const found = new Map<string, ReadRow>();
        if (slice.length > 0) {
          const rows = await this.query(ctx, 'rows', (c) => c.rows(this.sql.rowsByKey(rt.table, slice), rt.table));
          ctx.stats.rowsRead += rows.length;
          this.stats.rowsRead += rows.length;
          for (const row of rows) {
            const read = this.readRow(rt, row.values, row.dbHash);
            found.set(read.id, read);
          }
        }
        const changes: RawChange[] = [];
        for (const key of slice) {
          const id = keyId(key);
          const row = found.get(id);
          changes.push(this.change(rt, ctx, row ? { op: 'r', id, key: row.key, row } : { op: 'd', id, key }));
        }
        emitted += changes.length;
        if (changes.length > 0) await this.open(ctx);
        const last = i + chunkSize >= keys.length;
        yield this.batch(ctx, changes, [], [], false, last ? [pending.key] : []);
      }
    }
    this.options.log.info({ request: request.id, table: request.table, envelopes: emitted, pass: ctx.pass }, `re-emit request ${request.id} for ${request.table}: ${emitted} envelopes`);
  }

  /** First read of a table (or after its state was lost): every row is an `r`, chunks are cut as it goes. */
  private async *build(rt: TableRuntime, ctx: PassContext, signal: AbortSignal): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    const { chunkSize, maxEntryBytes } = this.options;
    const s = rt.state;
    if (!s.building) {
      s.building = { pass: ctx.pass, startMs: ctx.startMs, nextIndex: ctx.index };
      if (rt.table.changed) s.watermark = await this.maxChanged(rt, ctx);
    } else if (s.building.pass === ctx.pass && s.building.startMs === ctx.startMs) {
      // The same pass resumed after a restart: the rows after the last recorded chunk get the positions they had.
      ctx.index = s.building.nextIndex;
    }
    let after = s.chunks.at(-1)?.upTo ?? undefined;
    for (;;) {
      if (signal.aborted) return;
      const page = await this.readPage(rt, ctx, { ...(after ? { after } : {}) }, chunkSize);
      const done = page.length < chunkSize;
      const changes: RawChange[] = [];
      const writes: Array<{ key: string; value: ChunkEntry }> = [];
      for (const group of cutChunks(page, chunkSize, maxEntryBytes)) {
        const chunk: ChunkState = { id: this.allocate(rt), upTo: group.at(-1)!.key, rows: group.length, sum: sumHashes(group).toString() };
        s.chunks.push(chunk);
        const stored: StoredRows = new Map(group.map((r) => [r.id, { key: r.key, hash: r.hash }]));
        writes.push(this.entryWrite(rt, chunk.id, stored));
        for (const row of group) changes.push(this.change(rt, ctx, { op: 'r', id: row.id, key: row.key, row }));
      }
      if (page.length > 0) after = page.at(-1)!.key;
      s.building.nextIndex = ctx.index;
      if (done) this.finishBuild(rt, ctx, writes);
      rt.manifestDirty = true;
      const manifests = done || this.now() - rt.lastManifestMs >= 1000 ? [this.manifest(rt)] : [];
      if (changes.length > 0 || writes.length > 0 || manifests.length > 0) {
        if (changes.length > 0) await this.open(ctx);
        yield this.batch(ctx, changes, writes, manifests);
      }
      if (done) return;
    }
  }

  private finishBuild(rt: TableRuntime, ctx: PassContext, writes: Array<{ key: string; value: ChunkEntry }>): void {
    const s = rt.state;
    const last = s.chunks.at(-1);
    if (last) {
      last.upTo = null;
    } else {
      const id = this.allocate(rt);
      s.chunks.push({ id, upTo: null, rows: 0, sum: '0' });
      writes.push(this.entryWrite(rt, id, new Map()));
    }
    delete s.building;
    rt.lastSweepMs = ctx.startMs;
    this.options.log.info({ table: rt.table.table, chunks: s.chunks.length, pass: ctx.pass }, `first read of ${rt.table.table} done`);
  }

  private async *sweep(rt: TableRuntime, ctx: PassContext, signal: AbortSignal): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    rt.lastSweepMs = ctx.startMs;
    ctx.stats.sweeps += 1;
    this.stats.sweeps += 1;
    const moved = await this.findMoved(rt, ctx);
    for (const chunk of moved) {
      if (signal.aborted) return;
      yield* this.readChunk(rt, chunk, ctx);
    }
  }

  /** The chunks whose rows moved, by checksums over groups of chunks split down to single chunks. */
  private async findMoved(rt: TableRuntime, ctx: PassContext): Promise<ChunkState[]> {
    const chunks = rt.state.chunks.slice();
    const moved = new Set<ChunkState>();
    const { groupChunks, fanout, concurrency } = this.options;
    const visit = async (lo: number, hi: number): Promise<void> => {
      const slice = chunks.slice(lo, hi);
      const dirty = slice.some((c) => c.sum === null);
      if (!dirty) {
        const found = await this.checksum(rt, ctx, rangeOf(chunks, lo, hi));
        const rows = slice.reduce((n, c) => n + c.rows, 0);
        const sum = slice.reduce((n, c) => n + BigInt(c.sum!), 0n);
        if (found.rows === rows && found.sum === sum) return;
      }
      if (hi - lo === 1) {
        moved.add(chunks[lo]!);
        return;
      }
      const step = Math.ceil((hi - lo) / fanout);
      const parts: Array<[number, number]> = [];
      for (let i = lo; i < hi; i += step) parts.push([i, Math.min(hi, i + step)]);
      await forEachLimit(parts, concurrency, ([a, b]) => visit(a, b));
    };
    const groups: Array<[number, number]> = [];
    for (let i = 0; i < chunks.length; i += groupChunks) groups.push([i, Math.min(chunks.length, i + groupChunks)]);
    await forEachLimit(groups, concurrency, ([lo, hi]) => visit(lo, hi));
    return chunks.filter((c) => moved.has(c));
  }

  /** Reads a moved chunk whole, sends what differs from its stored hashes, splits or merges it. */
  private async *readChunk(rt: TableRuntime, chunk: ChunkState, ctx: PassContext): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    const { chunkSize, maxEntryBytes } = this.options;
    const chunks = rt.state.chunks;
    const at = chunks.indexOf(chunk);
    if (at < 0) return;
    ctx.stats.chunksRead += 1;
    const range: KeyRange = {
      ...(at > 0 && chunks[at - 1]!.upTo ? { after: chunks[at - 1]!.upTo! } : {}),
      ...(chunk.upTo ? { upTo: chunk.upTo } : {}),
    };
    const read = await this.readRange(rt, ctx, range);
    const loaded = await this.loadEntry(rt, chunk.id);
    if (!loaded) this.options.log.warn({ table: rt.table.table, chunk: chunk.id }, 'chunk entry missing from the poll state: its rows are sent as r');
    const bytes = read.reduce((n, r) => n + entryRowBytes(r), 0);
    const split = read.length > 2 * chunkSize || bytes > maxEntryBytes;

    const detected = diffChunk(read, loaded);
    const seen = new Set(detected.map((d) => d.id));
    const sent = detected.filter((d) => rt.debouncer.decide(d.id, d.key, chunk.id, ctx.startMs, split || d.op === 'r'));
    for (const [id] of rt.debouncer.inChunk(chunk.id)) if (!seen.has(id)) rt.debouncer.resolve(id);
    const holding = rt.debouncer.inChunk(chunk.id).length > 0;

    const stored: StoredRows = new Map(loaded ?? []);
    applySent(stored, sent);
    const changes = sent.map((d) => this.change(rt, ctx, d));
    const writes: Array<{ key: string; value: ChunkEntry }> = [];

    if (split) {
      // Every change of this chunk was sent above (forced), so its rows are exactly `read`.
      const groups = cutChunks(read, chunkSize, maxEntryBytes);
      const parts: ChunkState[] = groups.map((group, i) => ({
        id: i === 0 ? chunk.id : this.allocate(rt),
        upTo: i === groups.length - 1 ? chunk.upTo : group.at(-1)!.key,
        rows: group.length,
        sum: sumHashes(group).toString(),
      }));
      Object.assign(chunk, parts[0]!);
      chunks.splice(at + 1, 0, ...parts.slice(1));
      // The chunk that keeps its id loses keys: written first, so a crash in between never
      // leaves a key's older hash where a stale manifest would look for it.
      groups.forEach((group, i) => writes.push(this.entryWrite(rt, parts[i]!.id, new Map(group.map((r) => [r.id, { key: r.key, hash: r.hash }])))));
    } else if (read.length === 0 && !holding && stored.size === 0 && chunks.length > 1) {
      if (loaded && loaded.size > 0) writes.push(this.entryWrite(rt, chunk.id, stored));
      chunks.splice(at, 1);
      // The emptied range joins a neighbour; its stored sum still holds (the range had no rows).
      if (chunk.upTo === null) chunks[at - 1]!.upTo = null;
      rt.freeing.push(chunk.id);
    } else {
      chunk.rows = read.length;
      chunk.sum = holding ? null : sumHashes(read).toString();
      if (sent.length > 0 || !loaded) writes.push(this.entryWrite(rt, chunk.id, stored));
    }
    rt.manifestDirty = true;
    if (changes.length > 0) await this.open(ctx);
    if (changes.length > 0 || writes.length > 0) yield this.batch(ctx, changes, writes);
  }

  /** Between sweeps: rows whose hint column is at or past the watermark. */
  private async *hintScan(rt: TableRuntime, ctx: PassContext, signal: AbortSignal): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    const { chunkSize } = this.options;
    const s = rt.state;
    if (!rt.compare) {
      if (!rt.warnedNoOrder) {
        rt.warnedNoOrder = true;
        this.options.log.warn(
          { table: rt.table.table },
          `${rt.table.table}: the key's collation cannot be reproduced outside the database, so hint rows cannot be placed in their chunk; sweeping every pass instead`,
        );
      }
      yield* this.sweep(rt, ctx, signal);
      return;
    }
    if (s.watermark === null) {
      s.watermark = await this.maxChanged(rt, ctx);
      rt.manifestDirty = s.watermark !== null;
      return;
    }
    ctx.stats.hintScans += 1;
    this.stats.hintScans += 1;
    const found: Array<ReadRow & { hint: string }> = [];
    let after: { hint: string; key: KeyValues } | undefined;
    for (;;) {
      const page = await this.query(ctx, 'rows', (c) => c.rows(this.sql.changedSince(rt.table, s.watermark!, chunkSize, after), rt.table, true));
      for (const row of page) if (typeof row.hint === 'string') found.push({ ...this.readRow(rt, row.values, row.dbHash), hint: row.hint });
      ctx.stats.rowsRead += page.length;
      this.stats.rowsRead += page.length;
      if (page.length < chunkSize) break;
      const last = found.at(-1)!;
      after = { hint: last.hint, key: last.key };
    }
    if (found.length === 0) return;
    const byChunk = new Map<ChunkState, ReadRow[]>();
    for (const row of found) {
      const chunk = this.locate(rt, row.key);
      const list = byChunk.get(chunk) ?? [];
      list.push(row);
      byChunk.set(chunk, list);
    }
    for (const chunk of s.chunks.filter((c) => byChunk.has(c))) {
      const rows = byChunk.get(chunk)!;
      const loaded = await this.loadEntry(rt, chunk.id);
      if (!loaded) {
        // A lost entry: the next sweep reads the whole chunk and sends it as r.
        chunk.sum = null;
        rt.manifestDirty = true;
        continue;
      }
      const detected = diffFound(rows, loaded);
      const seen = new Set(detected.map((d) => d.id));
      for (const row of rows) if (!seen.has(row.id)) rt.debouncer.resolve(row.id);
      const sent = detected.filter((d) => rt.debouncer.decide(d.id, d.key, chunk.id, ctx.startMs));
      if (detected.length === 0) continue;
      const stored: StoredRows = new Map(loaded);
      applySent(stored, sent);
      // The chunk's sum no longer matches its stored hashes: read it at the next sweep.
      chunk.sum = null;
      rt.manifestDirty = true;
      const changes = sent.map((d) => this.change(rt, ctx, d));
      const writes = sent.length > 0 ? [this.entryWrite(rt, chunk.id, stored)] : [];
      if (changes.length > 0) await this.open(ctx);
      if (changes.length > 0 || writes.length > 0) yield this.batch(ctx, changes, writes);
    }
    // Rows come in hint order: the last one's hint is the largest (in the database's order).
    const top = found.at(-1)!.hint;
    if (top !== s.watermark) {
      s.watermark = top;
      rt.manifestDirty = true;
    }
  }

  /** Held changes whose window has passed: read those keys again and send what still differs. */
  private async *sendDue(rt: TableRuntime, ctx: PassContext): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    const due = rt.debouncer.due(ctx.startMs);
    if (due.length === 0) return;
    const found = new Map<string, ReadRow>();
    for (let i = 0; i < due.length; i += this.options.chunkSize) {
      const keys = due.slice(i, i + this.options.chunkSize).map(([, h]) => h.key);
      const rows = await this.query(ctx, 'rows', (c) => c.rows(this.sql.rowsByKey(rt.table, keys), rt.table));
      ctx.stats.rowsRead += rows.length;
      this.stats.rowsRead += rows.length;
      for (const row of rows) {
        const read = this.readRow(rt, row.values, row.dbHash);
        found.set(read.id, read);
      }
    }
    const byChunk = new Map<number, Array<[string, KeyValues]>>();
    for (const [id, held] of due) {
      const list = byChunk.get(held.chunkId) ?? [];
      list.push([id, held.key]);
      byChunk.set(held.chunkId, list);
    }
    for (const chunk of rt.state.chunks.filter((c) => byChunk.has(c.id))) {
      const loaded = (await this.loadEntry(rt, chunk.id)) ?? new Map();
      const sent: Detected[] = [];
      for (const [id, key] of byChunk.get(chunk.id)!) {
        rt.debouncer.resolve(id);
        const row = found.get(id);
        const before = loaded.get(id);
        if (row && !before) sent.push({ op: 'c', id, key: row.key, row });
        else if (row && before && before.hash !== row.hash) sent.push({ op: 'u', id, key: row.key, row });
        else if (!row && before) sent.push({ op: 'd', id, key });
      }
      chunk.sum = null;
      rt.manifestDirty = true;
      if (sent.length === 0) continue;
      const stored: StoredRows = new Map(loaded);
      applySent(stored, sent);
      const changes = sent.map((d) => this.change(rt, ctx, d));
      await this.open(ctx);
      yield this.batch(ctx, changes, [this.entryWrite(rt, chunk.id, stored)]);
    }
    // Held keys of chunks that are gone cannot exist (a chunk holding keys is never split or
    // merged); resolve any leftovers so they do not come due forever.
    for (const [id] of due) rt.debouncer.resolve(id);
  }

  // ---------------------------------------------------------------------------------------
  // Helpers

  private change(rt: TableRuntime, ctx: PassContext, d: Detected): RawChange {
    ctx.stats.changes += 1;
    this.stats.changes += 1;
    let row: SourceRow | null = null;
    if (d.row) {
      row = {};
      rt.table.columns.forEach((c, i) => (row![c.name] = d.row!.values[i] ?? null));
    }
    return {
      op: d.op,
      table: rt.table.table,
      position: pollPosition(ctx.startMs, ctx.pass, ctx.index++),
      // Polling sees a change, not when it was committed.
      commitTs: null,
      capture: 'poll',
      row,
      before: null,
      keyRow: keyRow(rt.table.keyColumns, d.key),
      columns: rt.columns,
    };
  }

  /**
   * Before the first change of a pass goes out, the bucket learns that the pass is under way:
   * a bridge restarted mid-pass repeats it under the same number and start, so rows sent again
   * carry the same positions (and ids) where nothing changed in between.
   */
  private async open(ctx: PassContext): Promise<void> {
    if (ctx.opened) return;
    ctx.opened = true;
    await this.store.putSource({ pass: ctx.pass, startMs: ctx.startMs, nextIndex: ctx.index, done: false });
  }

  private batch(
    ctx: PassContext,
    changes: RawChange[],
    writes: Array<{ key: string; value: ChunkEntry }>,
    manifests: PendingCommit['manifests'] = [],
    done = false,
    deletes: string[] = [],
  ): ChangeBatch<PollCheckpoint> {
    const seq = ++this.seq;
    this.queue.push({ seq, writes, manifests, progress: { pass: ctx.pass, startMs: ctx.startMs, nextIndex: ctx.index, done }, deletes });
    return { changes, checkpoint: { seq } };
  }

  private manifest(rt: TableRuntime): PendingCommit['manifests'][number] {
    const freed = rt.freeing;
    rt.freeing = [];
    rt.pendingFree.push(...freed);
    rt.manifestDirty = false;
    rt.lastManifestMs = this.now();
    return { table: rt.table.table, snapshot: this.store.snapshot(rt.token, rt.table.table, rt.state, [...rt.state.free, ...rt.pendingFree]), freed };
  }

  private entryWrite(rt: TableRuntime, id: number, rows: StoredRows): { key: string; value: ChunkEntry } {
    const key = this.store.entryKey(rt.token, id);
    const value = rowsToEntry(rows);
    this.entryCache.set(key, value);
    return { key, value };
  }

  private async loadEntry(rt: TableRuntime, id: number): Promise<StoredRows | undefined> {
    const key = this.store.entryKey(rt.token, id);
    const cached = this.entryCache.get(key);
    return entryToRows(cached ?? (await this.store.getEntry(key)));
  }

  private allocate(rt: TableRuntime): number {
    return rt.state.free.shift() ?? rt.state.nextId++;
  }

  /** The chunk whose range holds `key` (the last chunk has no upper bound). */
  private locate(rt: TableRuntime, key: KeyValues): ChunkState {
    const chunks = rt.state.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const upTo = chunks[mid]!.upTo;
      if (upTo === null || rt.compare!(key, upTo) <= 0) hi = mid;
      else lo = mid + 1;
    }
    return chunks[lo]!;
  }

  private readRow(rt: TableRuntime, values: ReadRow['values'], dbHash: bigint): ReadRow {
    const key = keyOf(values, rt.table.keyIndexes);
    return { key, id: keyId(key), hash: this.hasher.hash(values), values, dbHash };
  }

  private async readPage(rt: TableRuntime, ctx: PassContext, range: KeyRange, limit: number): Promise<ReadRow[]> {
    const rows = await this.query(ctx, 'rows', (c) => c.rows(this.sql.rows(rt.table, range, limit), rt.table));
    ctx.stats.rowsRead += rows.length;
    this.stats.rowsRead += rows.length;
    return rows.map((r) => this.readRow(rt, r.values, r.dbHash));
  }

  /**
   * A whole key range, `chunkSize + 1` rows per statement: a chunk holds `chunkSize` rows
   * when it is cut, so the one extra row saves a second statement that would find nothing.
   */
  private async readRange(rt: TableRuntime, ctx: PassContext, range: KeyRange): Promise<ReadRow[]> {
    const limit = this.options.chunkSize + 1;
    const out: ReadRow[] = [];
    let after = range.after;
    for (;;) {
      const page = await this.readPage(rt, ctx, { ...(after ? { after } : {}), ...(range.upTo ? { upTo: range.upTo } : {}) }, limit);
      out.push(...page);
      if (page.length < limit) return out;
      after = page.at(-1)!.key;
    }
  }

  private async checksum(rt: TableRuntime, ctx: PassContext, range: KeyRange) {
    return this.query(ctx, 'checksum', (c) => c.checksum(this.sql.checksum(rt.table, range)));
  }

  private async maxChanged(rt: TableRuntime, ctx: PassContext): Promise<string | null> {
    return this.query(ctx, 'other', (c) => c.scalar(this.sql.maxChanged(rt.table), rt.table));
  }

  private async query<T>(ctx: PassContext, kind: 'rows' | 'checksum' | 'other', run: (c: PollConnection) => Promise<T>): Promise<T> {
    ctx.stats.queries += 1;
    this.stats.queries += 1;
    if (kind === 'rows') {
      ctx.stats.rowQueries += 1;
      this.stats.rowQueries += 1;
    } else if (kind === 'checksum') {
      ctx.stats.checksumQueries += 1;
      this.stats.checksumQueries += 1;
    }
    return this.pool.use(run);
  }
}

/** Key range of chunks[lo..hi): after the previous chunk's upper key, up to the last one's. */
export function rangeOf(chunks: readonly ChunkState[], lo: number, hi: number): KeyRange {
  const after = lo > 0 ? chunks[lo - 1]!.upTo : null;
  const upTo = chunks[hi - 1]!.upTo;
  return { ...(after ? { after } : {}), ...(upTo ? { upTo } : {}) };
}
