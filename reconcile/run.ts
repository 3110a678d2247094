/**
 * One reconciliation run: for each mapped table of each (selected) source, open the source
 * side (start position, snapshot, index), open the target side, bisect, apply the in-flight
 * rules, and put a diff report in the review queue when differences remain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { stateKey, type PostgresState } from '../capture/postgres/index.ts';
import type { Config, SourceConfig } from '../src/config/index.ts';
import { compareLsn } from '../src/envelope/envelope.ts';
import { HmsSyncError, errorMessage } from '../src/errors.ts';
import type { Logger } from '../src/log.ts';
import type { Mapping } from '../src/mapping/types.ts';
import { connectNats, natsSecurityOptions, payloadLimit } from '../src/nats/connection.ts';
import { loadSources } from '../src/runtime/bridge.ts';
import { currentPositionSpace } from '../src/runtime/position-space.ts';
import { pollPosition } from '../capture/poll/position.ts';
import { ProgressMeter, type ProgressView } from '../src/metrics/progress.ts';
import type { ReconcileProgress, ReconcileTableSummary } from '../src/metrics/reconcile-runs.ts';
import { reconcileSides, type BisectOptions, type ReconcileOutcome } from './bisect.ts';
import { buildReport, newReportId, type DiffCounts, type DiffReport } from './report.ts';
import { ReviewStore, reviewBucketName } from './review-store.ts';
import { PostgresSourceSide } from './sides/postgres-source.ts';
import { MysqlSourceSide } from './sides/mysql-source.ts';
import { MysqlTargetSide } from './sides/mysql-target.ts';
import { stateKey as mysqlStateKey, type MysqlState } from '../capture/mysql/index.ts';
import type { BinlogPoint } from '../capture/mysql/position.ts';
import { PostgresTargetSide } from './sides/postgres-target.ts';
import { StreamTargetSide } from './sides/stream-target.ts';
import type { BisectStats, ReconcileSide } from './types.ts';

export const DEFAULT_CATCH_UP_MS = 30_000;

export interface ReconcileRunOptions {
  source?: string;
  table?: string;
  log: Logger;
  signal: AbortSignal;
  /** How long to wait for the target to catch up to the run's start before re-checking. */
  catchUpMs?: number;
  bisect?: BisectOptions;
  maxDiffs?: number;
  /** Tables done of all and the current table's rows; `event: 'progress'` lines are logged too. */
  onProgress?: (progress: ReconcileProgress) => void;
  /**
   * Scheduled runs of several bridge processes: resolves true when this process takes the
   * table for this run, false when another one already did (scheduler.ts claims in NATS KV).
   */
  claim?: (source: string, table: string) => Promise<boolean>;
}

export interface TableResult {
  source: string;
  table: string;
  entity: string;
  target: string;
  startPosition: string;
  counts: DiffCounts;
  report?: DiffReport;
  outcome: ReconcileOutcome;
  /** Rows each side read to build its index (0 for a side that checksums in SQL). */
  scanned: { source: number; target: number };
  unmappable: number;
  stats: BisectStats;
}

/** Selects sources and mappings, and checks the run can happen; CONFIG errors exit 2. */
export async function selectTables(config: Config, options: { source?: string; table?: string }): Promise<Array<{ source: SourceConfig; mappings: Mapping[] }>> {
  const sources = (await loadSources(config)).filter((s) => !options.source || s.config.name === options.source);
  if (sources.length === 0) throw new HmsSyncError('CONFIG', `${config.file}: no source named "${options.source}"`);
  const selected: Array<{ source: SourceConfig; mappings: Mapping[] }> = [];
  for (const { config: source, mappings: all } of sources) {
    if (source.kind !== 'postgres' && source.kind !== 'mysql') {
      throw new HmsSyncError('CONFIG', `${config.file}: source ${source.name}: reconcile supports postgres and mysql sources in this build, not ${source.kind}`);
    }
    const mappings = all.filter((m) => !options.table || m.table === options.table);
    if (mappings.length === 0) {
      if (options.source || sources.length === 1) throw new HmsSyncError('CONFIG', `source ${source.name} has no mapping for table ${options.table}`);
      continue;
    }
    selected.push({ source, mappings });
  }
  if (selected.length === 0) throw new HmsSyncError('CONFIG', `${config.file}: no source has a mapping for table ${options.table}`);
  return selected;
}

export async function connectConfigNats(config: Config): Promise<NatsConnection> {
  return connectNats({ servers: config.nats.servers, ...natsSecurityOptions(config.nats) });
}

export async function openReviewStore(nc: NatsConnection, config: Config): Promise<ReviewStore> {
  return ReviewStore.open(nc, reviewBucketName(config.nats.stream), config.nats.replicas);
}

/**
 * Waits until the bridge has confirmed `lsn` (its offsets bucket, or the replication slot
 * itself) or the deadline passes. Resolves whether it caught up.
 */
export async function waitForConfirmed(lsn: string, deadlineMs: number, probes: Array<() => Promise<string | undefined>>, signal: AbortSignal): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    for (const probe of probes) {
      const confirmed = await probe().catch(() => undefined);
      if (confirmed !== undefined && compareLsn(confirmed, lsn) >= 0) return true;
    }
    if (Date.now() >= until) return false;
    await sleep(Math.min(250, Math.max(1, until - Date.now())), undefined, { signal });
  }
}

export async function runReconcile(config: Config, nc: NatsConnection, options: ReconcileRunOptions): Promise<TableResult[]> {
  const selected = await selectTables(config, options);
  const store = await openReviewStore(nc, config);
  let offsets: KV | undefined;
  try {
    offsets = await new Kvm(nc).open(config.nats.offsetsBucket);
  } catch {
    offsets = undefined;
  }
  const results: TableResult[] = [];
  const finished: ReconcileTableSummary[] = [];
  const tablesTotal = selected.reduce((n, s) => n + s.mappings.length, 0);
  const emit = (current?: ProgressView): void => options.onProgress?.({ tablesTotal, tablesDone: finished.length, finished: [...finished], ...(current ? { current } : {}) });
  emit();
  for (const { source, mappings } of selected) {
    for (const mapping of mappings) {
      options.signal.throwIfAborted();
      if (options.claim && !(await options.claim(source.name, mapping.table))) {
        options.log.info({ event: 'reconcile_claimed_elsewhere', source: source.name, table: mapping.table }, `reconcile ${source.name} ${mapping.table}: another bridge process takes this table in this run`);
        continue;
      }
      const result = await reconcileTable(config, nc, source, mapping, offsets, options, emit);
      if (result.report) await store.add(result.report);
      results.push(result);
      finished.push({ source: source.name, table: mapping.table, counts: result.counts, ...(result.report ? { report: result.report.id } : {}) });
      emit();
      options.log.info(
        { source: source.name, table: mapping.table, counts: result.counts, report: result.report?.id, inFlight: result.outcome.inFlight },
        result.report ? `reconcile ${source.name} ${mapping.table}: differences, report ${result.report.id}` : `reconcile ${source.name} ${mapping.table}: clean`,
      );
    }
  }
  return results;
}

async function reconcileTable(
  config: Config,
  nc: NatsConnection,
  source: SourceConfig,
  mapping: Mapping,
  offsets: KV | undefined,
  options: ReconcileRunOptions,
  onTableProgress?: (view: ProgressView) => void,
): Promise<TableResult> {
  // The run's start in the source's own position space (docs/reconciliation.md "Polled
  // sources"): a polled source's envelopes carry poll positions, which an LSN cannot be
  // compared with. Read before the source is read, as the LSN is.
  const space = await currentPositionSpace(async (key) => (offsets ? (await offsets.get(key).catch(() => null))?.json() : undefined), source.name);
  const pollStartMs = space.method === 'poll' ? await pollRunStart(offsets, source.name, Date.now()) : 0;
  const sourceSide: SourceSide =
    source.kind === 'mysql'
      ? await MysqlSourceSide.open({ url: source.url, mapping, timezone: source.timezone, log: options.log })
      : await PostgresSourceSide.open({
          url: source.url,
          mapping,
          timezone: source.timezone,
          chunkSize: Math.max(source.poll.chunkSize, 5000),
          signal: options.signal,
        });
  const snapshotMs = Date.now();
  const startPosition = space.prefix + (space.method === 'poll' ? pollPosition(pollStartMs, 0, 0) : sourceSide.startPosition);
  // Count and checksum in SQL for a PostgreSQL source whose mapping SQL reproduces exactly
  // (sql-exact.ts), else in the bridge from a scan of every row.
  const checksumsIn = sourceSide instanceof PostgresSourceSide ? sourceSide.checksumsIn : 'bridge';
  options.log.info(
    {
      event: 'reconcile_source_checksums',
      source: source.name,
      table: mapping.table,
      in: checksumsIn,
      ...(sourceSide instanceof PostgresSourceSide && !sourceSide.sqlVerdict.exact ? { why: sourceSide.sqlVerdict.reasons } : {}),
    },
    `reconcile ${source.name} ${mapping.table}: source checksums computed in ${checksumsIn === 'sql' ? 'SQL' : 'the bridge (scan)'}`,
  );
  const progress = await scanProgress(sourceSide, source.name, mapping.table, options.log, onTableProgress);
  let closeTarget: () => Promise<void> = async () => undefined;
  try {
    const index = await sourceSide.scan(Math.max(source.poll.chunkSize, 5000), options.signal);
    progress.phase('target');
    const spec = sourceSide.spec;
    let target: ReconcileSide;
    let targetScanned = 0;
    const targetConfig = config.reconcile.target;
    if (targetConfig.kind === 'postgres') {
      const side = await PostgresTargetSide.open(targetConfig.url, mapping.entity, spec);
      closeTarget = () => side.close();
      target = side;
    } else if (targetConfig.kind === 'mysql') {
      const side = await MysqlTargetSide.open(targetConfig.url, mapping.entity, spec);
      closeTarget = () => side.close();
      target = await side.scan(options.signal);
      targetScanned = side.scanned;
    } else {
      const side = await StreamTargetSide.open({
        nc,
        stream: config.nats.stream,
        subjectPrefix: config.nats.subjectPrefix,
        sourceName: source.name,
        entity: mapping.entity,
        spec,
        signal: options.signal,
      });
      targetScanned = side.scanned;
      target = side.side();
    }
    const catchUpMs = options.catchUpMs ?? DEFAULT_CATCH_UP_MS;
    const waitForLog = (): Promise<boolean> => {
      if (sourceSide instanceof MysqlSourceSide) return waitForMysqlConfirmed(offsets, source.name, sourceSide.point, catchUpMs, options.signal);
      const pgSide = sourceSide as PostgresSourceSide;
      const probes: Array<() => Promise<string | undefined>> = [
        async () => (offsets ? ((await offsets.get(stateKey(source.name)))?.json<PostgresState>()?.confirmedLsn ?? undefined) : undefined),
        () => pgSide.slotConfirmedLsn(source.slot),
      ];
      return waitForConfirmed(pgSide.snapshotLsn, catchUpMs, probes, options.signal);
    };
    progress.phase('compare');
    const outcome = await reconcileSides(index, target, spec, {
      ...options.bisect,
      signal: options.signal,
      startPosition,
      waitForTarget:
        space.method === 'poll'
          ? () => waitForPollPasses(offsets, source.name, snapshotMs, source.poll.debounceMs, catchUpMs, options.signal)
          : waitForLog,
    });
    // With checksums in SQL the source's total counted every row; the scan's leaves out rows
    // that do not map (all of them were read and found unmappable in differing ranges).
    if (sourceSide instanceof PostgresSourceSide && checksumsIn === 'sql') {
      outcome.stats.totals.source = Math.max(0, outcome.stats.totals.source - sourceSide.unmappableCounted);
    }
    const { stats } = outcome;
    options.log.info(
      {
        event: 'reconcile_compared',
        source: source.name,
        table: mapping.table,
        rootParts: stats.rootParts,
        checksumQueries: { source: stats.source.checksumQueries, target: stats.target.checksumQueries },
        splitQueries: { source: stats.source.splitQueries, target: stats.target.splitQueries },
        rangesCompared: stats.rangesCompared,
        leafRanges: stats.leafRanges,
      },
      `reconcile ${source.name} ${mapping.table}: compared ${stats.rangesCompared} ranges` +
        (stats.rootParts > 0 ? ` (root pre-split into ${stats.rootParts} parts by key bounds)` : ''),
    );
    const createdAt = new Date().toISOString();
    const report = buildReport({
      id: newReportId(createdAt),
      source: source.name,
      table: mapping.table,
      entity: mapping.entity,
      createdAt,
      runStartPosition: startPosition,
      target: targetConfig.kind,
      targetCaughtUp: outcome.caughtUp ?? true,
      keyColumns: sourceSide.keyColumns,
      diffs: outcome.diffs,
      ...(options.maxDiffs !== undefined ? { maxDiffs: options.maxDiffs } : {}),
      ...(payloadLimit(nc) !== undefined ? { maxBytes: payloadLimit(nc)! } : {}),
    });
    const counts = report?.counts ?? { missingInTarget: 0, missingInSource: 0, different: 0 };
    return {
      source: source.name,
      table: mapping.table,
      entity: mapping.entity,
      target: targetConfig.kind,
      startPosition,
      counts,
      ...(report ? { report } : {}),
      outcome,
      scanned: { source: sourceSide.scanned, target: targetScanned },
      unmappable: sourceSide.unmappable,
      stats: outcome.stats,
    };
  } catch (error) {
    if (error instanceof HmsSyncError || (error instanceof Error && error.name === 'AbortError')) throw error;
    throw new HmsSyncError('INTERNAL', `reconcile ${source.name} ${mapping.table}: ${errorMessage(error)}`, { cause: error });
  } finally {
    progress.stop();
    await closeTarget();
    await sourceSide.close();
  }
}

/**
 * Progress of one table: the source scan's rows (read from the side's counter every second)
 * of the table's row count, then the target and compare phases. The count is read in the
 * run's snapshot before the scan (the planner's estimate, or an exact count for a small table).
 */
/** What a run needs of the source side, whatever the database (sides/postgres-source.ts, sides/mysql-source.ts). */
interface SourceSide {
  readonly spec: import('./types.ts').CompareSpec;
  readonly keyColumns: string[];
  readonly startPosition: string;
  readonly scanned: number;
  readonly unmappable: number;
  scan(chunkSize: number, signal: AbortSignal): Promise<ReconcileSide>;
  estimateRows(): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Waits until the bridge has confirmed the snapshot's binlog point (its offsets entry), or the deadline. */
async function waitForMysqlConfirmed(offsets: KV | undefined, sourceName: string, point: BinlogPoint, deadlineMs: number, signal: AbortSignal): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const state = offsets ? await offsets.get(mysqlStateKey(sourceName)).then((e) => e?.json<MysqlState>()).catch(() => undefined) : undefined;
    if (MysqlSourceSide.caughtUp(state, point)) return true;
    if (Date.now() >= until) return false;
    await sleep(Math.min(250, Math.max(1, until - Date.now())), undefined, { signal });
  }
}

async function scanProgress(
  side: SourceSide,
  source: string,
  table: string,
  log: Logger,
  report: ((view: ProgressView) => void) | undefined,
): Promise<{ phase(name: string): void; stop(): void }> {
  const total = await side.estimateRows();
  const meter = new ProgressMeter({ task: 'reconcile', source, table, total, phase: 'source', log });
  const tick = (phase?: string): void => {
    meter.update(side.scanned, phase);
    report?.(meter.view());
  };
  tick();
  const timer = setInterval(() => tick(), 1_000);
  timer.unref();
  return {
    phase: (name) => tick(name),
    stop: () => {
      clearInterval(timer);
      meter.finish();
    },
  };
}

interface PollHead {
  pass: number;
  startMs: number;
  done: boolean;
}

async function pollHead(offsets: KV | undefined, sourceName: string): Promise<PollHead | undefined> {
  if (!offsets) return undefined;
  const entry = await offsets.get(`poll.${sourceName}`).catch(() => null);
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
  return entry.json<PollHead>();
}

/**
 * A polled source's run start: now, or the start of a pass still being sent (its envelopes
 * carry that pass's start, and it may have read rows after the run's snapshot).
 */
async function pollRunStart(offsets: KV | undefined, sourceName: string, now: number): Promise<number> {
  const head = await pollHead(offsets, sourceName);
  return head && !head.done ? Math.min(now, head.startMs) : now;
}

/**
 * The polled twin of waitForConfirmed: a pass that started after the snapshot and completed
 * has sent every change the snapshot sees, except those the debounce held; those are sent by
 * the first pass that starts a debounce window after they were seen. So: a completed pass
 * that started after the snapshot, then one that started a debounce window after that one.
 */
export async function waitForPollPasses(
  offsets: KV | undefined,
  sourceName: string,
  snapshotMs: number,
  debounceMs: number,
  deadlineMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  let seenStart: number | undefined;
  for (;;) {
    const head = await pollHead(offsets, sourceName);
    if (head?.done && head.startMs >= snapshotMs) {
      seenStart ??= head.startMs;
      if (head.startMs >= seenStart + debounceMs) return true;
    }
    if (Date.now() >= until) return false;
    await sleep(Math.min(250, Math.max(1, until - Date.now())), undefined, { signal });
  }
}
