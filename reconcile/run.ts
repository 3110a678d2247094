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
import { connectNats, payloadLimit } from '../src/nats/connection.ts';
import { loadSources } from '../src/runtime/bridge.ts';
import { reconcileSides, type BisectOptions, type ReconcileOutcome } from './bisect.ts';
import { buildReport, newReportId, type DiffCounts, type DiffReport } from './report.ts';
import { ReviewStore, reviewBucketName } from './review-store.ts';
import { PostgresSourceSide } from './sides/postgres-source.ts';
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
  if (config.reconcile.target.kind === 'mysql') {
    throw new HmsSyncError('CONFIG', `${config.file}: reconcile.target kind mysql is not built in this version (stream or postgres)`);
  }
  const selected: Array<{ source: SourceConfig; mappings: Mapping[] }> = [];
  for (const { config: source, mappings: all } of sources) {
    if (source.kind !== 'postgres') {
      throw new HmsSyncError('CONFIG', `${config.file}: source ${source.name}: reconcile supports postgres sources in this build, not ${source.kind}`);
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
  return connectNats({
    servers: config.nats.servers,
    ...(config.nats.user !== undefined ? { user: config.nats.user, password: config.nats.password ?? '' } : {}),
    ...(config.nats.token !== undefined ? { token: config.nats.token } : {}),
  });
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
  for (const { source, mappings } of selected) {
    for (const mapping of mappings) {
      options.signal.throwIfAborted();
      const result = await reconcileTable(config, nc, source, mapping, offsets, options);
      if (result.report) await store.add(result.report);
      results.push(result);
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
): Promise<TableResult> {
  const sourceSide = await PostgresSourceSide.open({
    url: source.url,
    mapping,
    timezone: source.timezone,
    chunkSize: Math.max(source.poll.chunkSize, 5000),
    signal: options.signal,
  });
  let closeTarget: () => Promise<void> = async () => undefined;
  try {
    const index = await sourceSide.scan(Math.max(source.poll.chunkSize, 5000), options.signal);
    const spec = sourceSide.spec;
    let target: ReconcileSide;
    let targetScanned = 0;
    const targetConfig = config.reconcile.target;
    if (targetConfig.kind === 'postgres') {
      const side = await PostgresTargetSide.open(targetConfig.url, mapping.entity, spec);
      closeTarget = () => side.close();
      target = side;
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
    const probes: Array<() => Promise<string | undefined>> = [
      async () => (offsets ? ((await offsets.get(stateKey(source.name)))?.json<PostgresState>()?.confirmedLsn ?? undefined) : undefined),
      () => sourceSide.slotConfirmedLsn(source.slot),
    ];
    const outcome = await reconcileSides(index, target, spec, {
      ...options.bisect,
      signal: options.signal,
      startPosition: sourceSide.startPosition,
      waitForTarget: () => waitForConfirmed(sourceSide.snapshotLsn, options.catchUpMs ?? DEFAULT_CATCH_UP_MS, probes, options.signal),
    });
    const createdAt = new Date().toISOString();
    const report = buildReport({
      id: newReportId(createdAt),
      source: source.name,
      table: mapping.table,
      entity: mapping.entity,
      createdAt,
      runStartPosition: sourceSide.startPosition,
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
      startPosition: sourceSide.startPosition,
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
    await closeTarget();
    await sourceSide.close();
  }
}
