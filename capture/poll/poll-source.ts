/**
 * Hash-diff polling as a CaptureSource: a pass every `intervalMs` (never two at once: the next
 * waits for the previous one's reads), a short pass in between only when a held (debounced)
 * change comes due, and the poll state written to NATS as checkpoints come back acknowledged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HmsSyncError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { Mapping } from '../../src/mapping/types.ts';
import type { CaptureObserver } from '../../src/metrics/observer.ts';
import type { CaptureSource, ChangeBatch, OffsetStore } from '../../src/ports.ts';
import type { PollDialect, TableCatalog } from './dialect.ts';
import { PollEngine, type EngineStats, type PassKind, type PollCheckpoint } from './engine.ts';
import { QueryPool } from './query-pool.ts';
import type { PendingRequest, ResyncQueue } from './resync-requests.ts';
import { RowHasher } from './row-hash.ts';
import { PollStateStore } from './state.ts';
import type { PollTable } from './types.ts';

export interface PollSourceOptions {
  name: string;
  dialect: PollDialect;
  mappings: Mapping[];
  offsets: OffsetStore;
  log: Logger;
  onReady?: (keyColumns: Map<string, string[]>) => void;
  intervalMs: number;
  debounceMs: number;
  chunkSize: number;
  /** Statements against the source at once (default 1). */
  concurrency?: number;
  /** Server-side limit per statement (default 60 s). */
  statementTimeoutMs?: number;
  /** Chunks per top-level sweep checksum (default 64). */
  groupChunks?: number;
  /** Parts a moved group is split into (default 4). */
  fanout?: number;
  /** Largest chunk entry in the KV bucket (default 512 KiB; NATS' default max_payload is 1 MiB). */
  maxEntryBytes?: number;
  /** Full sweep cadence of tables with a hint column whose mapping names none (default 10 min). */
  sweepMs?: number;
  /**
   * One full pass, every table swept (hint columns notwithstanding), nothing held back by the
   * debounce, then the changes end: the last pass before a source moves to log capture.
   */
  finalPass?: boolean;
  /** Re-emit requests (review resync, snapshot), looked at when each full pass starts. */
  requests?: ResyncQueue;
  /** A paused table is skipped by every pass until resumed (docs/pause-resume.md). */
  isPaused?: (table: string) => boolean;
  /** Told of every pass that ends (src/metrics/observer.ts). */
  observer?: CaptureObserver;
}

export const POLL_DEFAULTS = {
  concurrency: 1,
  statementTimeoutMs: 30_000,
  groupChunks: 64,
  fanout: 4,
  maxEntryBytes: 512 * 1024,
  sweepMs: 10 * 60_000,
} as const;

export class PollSource implements CaptureSource<PollCheckpoint> {
  readonly name: string;
  private engine: PollEngine | undefined;
  private pool: QueryPool | undefined;
  private readonly store: PollStateStore;
  private wake: AbortController | undefined;
  private sweepRequested = false;

  constructor(private readonly options: PollSourceOptions) {
    this.name = options.name;
    this.store = new PollStateStore(options.offsets, options.name);
  }

  /** Counters of the engine (statements, rows read, changes, the last pass). */
  get stats(): EngineStats | undefined {
    return this.engine?.stats;
  }

  /** Starts a pass now that sweeps every table (hint columns notwithstanding). */
  requestSweep(): void {
    this.sweepRequested = true;
    this.engine?.requestSweep();
    this.wake?.abort();
  }

  async *changes(signal: AbortSignal): AsyncGenerator<ChangeBatch<PollCheckpoint>> {
    const { options } = this;
    const concurrency = options.concurrency ?? POLL_DEFAULTS.concurrency;
    this.pool = new QueryPool(options.dialect, concurrency, {
      statementTimeoutMs: options.statementTimeoutMs ?? POLL_DEFAULTS.statementTimeoutMs,
    });
    const catalog = await this.pool.use((c) => c.describe(options.mappings));
    const tables = options.mappings.map((m) => pollTable(m, catalog.get(m.table)!));
    const hasher = await RowHasher.create();
    const engine = new PollEngine(options.dialect.sql, this.pool, this.store, hasher, {
      sourceName: options.name,
      chunkSize: options.chunkSize,
      // The final pass sends everything it finds: a held change would be lost to the switch.
      debounceMs: options.finalPass ? 0 : options.debounceMs,
      concurrency,
      groupChunks: options.groupChunks ?? POLL_DEFAULTS.groupChunks,
      fanout: options.fanout ?? POLL_DEFAULTS.fanout,
      maxEntryBytes: options.maxEntryBytes ?? POLL_DEFAULTS.maxEntryBytes,
      defaultSweepMs: options.sweepMs ?? POLL_DEFAULTS.sweepMs,
      log: options.log,
      ...(options.isPaused !== undefined ? { isPaused: options.isPaused } : {}),
      ...(options.observer !== undefined ? { observer: options.observer } : {}),
    });
    await engine.load(tables, new Map(options.mappings.flatMap((m) => (m.poll?.sweepMs ? [[m.table, m.poll.sweepMs] as const] : []))));
    this.engine = engine;
    if (this.sweepRequested) engine.requestSweep();
    options.onReady?.(new Map(tables.map((t) => [t.table, t.keyColumns])));
    options.log.info(
      { dialect: options.dialect.kind, tables: tables.length, intervalMs: options.intervalMs, debounceMs: options.debounceMs, chunkSize: options.chunkSize },
      `polling ${options.dialect.where}`,
    );

    if (options.finalPass) {
      engine.requestSweep();
      yield* engine.pass('full', signal, await this.pendingRequests());
      return;
    }

    let nextFull = 0;
    while (!signal.aborted) {
      const now = Date.now();
      const kind: PassKind = now >= nextFull || this.sweepRequested ? 'full' : 'held';
      if (kind === 'full') {
        this.sweepRequested = false;
        // The interval runs from the start of a pass; a pass longer than it is followed by the
        // next one at once, never overlapped by it.
        nextFull = now + options.intervalMs;
      }
      yield* engine.pass(kind, signal, kind === 'full' ? await this.pendingRequests() : []);
      if (signal.aborted) return;
      const deadline = Math.min(nextFull, engine.nextDeadline() ?? Infinity);
      const wait = deadline - Date.now();
      if (wait > 0 && !this.sweepRequested) {
        this.wake = new AbortController();
        await sleep(wait, undefined, { signal: AbortSignal.any([signal, this.wake.signal]) }).catch(() => undefined);
        this.wake = undefined;
      }
    }
  }

  private async pendingRequests(): Promise<PendingRequest[]> {
    if (!this.options.requests) return [];
    try {
      return await this.options.requests.pending();
    } catch (error) {
      // A bucket hiccup delays the requests to the next pass; it is no reason to stop capture.
      this.options.log.warn({ error: (error as Error).message }, 'cannot read re-emit requests; trying again at the next pass');
      return [];
    }
  }

  /** Writes the poll state that the acknowledged envelopes account for. */
  async commit(checkpoint: PollCheckpoint): Promise<void> {
    await this.engine?.commit(checkpoint);
  }

  async close(): Promise<void> {
    this.wake?.abort();
    await this.pool?.close();
  }
}

/** A mapping and its table's catalog -> what the engine reads: key, mapped columns, hint column. */
export function pollTable(mapping: Mapping, catalog: TableCatalog): PollTable {
  const byName = new Map(catalog.columns.map((c) => [c.name, c]));
  const keyColumns = mapping.key ?? catalog.primaryKey;
  if (keyColumns.length === 0) {
    throw new HmsSyncError('MAPPING', `${mapping.file}: table ${mapping.table} has no primary key; name its key columns with "key:"`);
  }
  const problems: string[] = [];
  for (const column of keyColumns) if (!byName.has(column)) problems.push(`key column ${column} is not a column of ${mapping.table}`);
  for (const field of mapping.fields) if (!byName.has(field.from)) problems.push(`field ${field.name}: column ${field.from} is not a column of ${mapping.table}`);
  const changedName = mapping.poll?.changedColumn;
  if (changedName !== undefined && !byName.has(changedName)) problems.push(`poll.changedColumn: ${changedName} is not a column of ${mapping.table}`);
  if (problems.length > 0) throw new HmsSyncError('MAPPING', problems.map((p) => `${mapping.file}: ${p}`).join('\n'));

  // Only what the envelope carries is hashed: a change to an unmapped column is no change.
  const wanted =
    mapping.unmapped === 'ignore' ? new Set([...keyColumns, ...mapping.fields.map((f) => f.from)]) : new Set(catalog.columns.map((c) => c.name));
  const columns = catalog.columns.filter((c) => wanted.has(c.name));
  const keyIndexes = keyColumns.map((k) => columns.findIndex((c) => c.name === k));
  return {
    table: mapping.table,
    schema: mapping.schema,
    name: mapping.tableName,
    columns,
    keyColumns,
    keyIndexes,
    ...(changedName !== undefined ? { changed: byName.get(changedName)! } : {}),
  };
}
