import { jetstream } from '@nats-io/jetstream';
import { startHeartbeats } from './heartbeat.ts';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config, SourceConfig } from '../config/index.ts';
import { statusSubject } from '../envelope/envelope.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { loadMappingDir } from '../mapping/index.ts';
import type { Mapping } from '../mapping/types.ts';
import { connectNats, natsSecurityOptions, payloadLimit } from '../nats/connection.ts';
import { KvOffsetStore } from '../offsets/index.ts';
import { runJob, type SourceState } from '../pipeline/job.ts';
import { runPipeline, type PipelineCounters } from '../pipeline/pipeline.ts';
import { tableRoute, type TableRoute, type TranslateContext } from '../pipeline/translate.ts';
import type { CaptureSource, OffsetStore } from '../ports.ts';
import { JetStreamPublisher, ensureStream } from '../publisher/index.ts';
import { CAPTURE_KINDS, chooseCaptureMethod, commitSwitchToLog, createCaptureSource, planEpoch, pollRequestQueue, prepareLogStart, watchForLogCapture } from './sources.ts';
import { epochPrefix, type MethodRecord } from './position-space.ts';
import { SourceLease, fencedOffsets, leaseBucketName, openLeaseBucket, withLease } from './lease.ts';
import { createPollSource } from '../../capture/poll/index.ts';
import { HeldChangesSource, JetStreamHeldStore, PauseStore, PauseWatch, runUnlessPaused } from '../control/index.ts';
import { estimateRowCountAt } from '../../capture/postgres/slot-lag.ts';
import {
  LOG_EVENTS,
  SlotWatch,
  captureLagSeconds,
  logSourceState,
  observeAttempt,
  provideSourceGauges,
  sourceMetrics,
  type CaptureObserver,
  type ProgressView,
  type SlotView,
} from '../metrics/index.ts';

export interface LoadedSource {
  config: SourceConfig;
  mappings: Mapping[];
}

/** Loads every source's mapping folder; any bad file is a startup error naming file:line. */
export async function loadSources(config: Config): Promise<LoadedSource[]> {
  const loaded: LoadedSource[] = [];
  const errors: string[] = [];
  for (const source of config.sources) {
    const { mappings, errors: bad } = await loadMappingDir(source.mappings);
    errors.push(...bad.map((e) => e.message));
    if (mappings.length === 0 && bad.length === 0) errors.push(`${source.mappings}: no mapping files for source ${source.name}`);
    loaded.push({ config: source, mappings });
  }
  if (errors.length > 0) throw new HmsSyncError('MAPPING', errors.join('\n'));
  return loaded;
}

/** A job's state, or `standby`: another process holds this source's capture lease. */
export type BridgeSourceState = SourceState | 'standby' | 'lagging';

/** What `run` knows of one source right now (for /api/sources, /healthz and the console). */
export interface SourceStatus {
  name: string;
  kind: string;
  /** The capture method of the current (or last) attempt; undefined before the first choice. */
  method?: 'log' | 'poll';
  /** Why that method (a sentence). */
  methodReason?: string;
  state: BridgeSourceState;
  /** Why the source is offline (the last error), when it is. */
  reason?: string;
  since: string;
  /** postgres: what the replication slot holds back (docs/operations.md "Slot safety"); absent without a slot. */
  slot?: SlotView;
  /** A snapshot in progress: rows done of the table's (estimated) rows, rate, ETA. */
  progress?: ProgressView;
}

export interface BridgeHandle {
  nc: NatsConnection;
  config: Config;
  counters: Map<string, PipelineCounters>;
  states: Map<string, BridgeSourceState>;
  status: Map<string, SourceStatus>;
  done: Promise<void>;
  /** Pause state of every source, kept current from NATS KV (docs/pause-resume.md). */
  pause: PauseWatch;
  /** Each source's mappings (the pause API checks table names against them; webhooks map with them). */
  mappings: Map<string, Mapping[]>;
}

/**
 * `hms-sync run`: one job per source, each job a loop of attempts, each attempt a fresh
 * source connection, a fresh publisher and the pipeline between them.
 */
export async function startBridge(config: Config, log: Logger, signal: AbortSignal): Promise<BridgeHandle> {
  const sources = await loadSources(config);
  for (const { config: source } of sources) {
    if (source.kind !== 'webhook' && !CAPTURE_KINDS.has(source.kind)) {
      throw new HmsSyncError(
        'CONFIG',
        `${config.file}: source ${source.name}: kind ${source.kind} has no capture module in this build (${[...CAPTURE_KINDS].join(', ')})`,
      );
    }
  }
  const nc = await connectNats({
    servers: config.nats.servers,
    waitOnFirstConnect: true,
    ...natsSecurityOptions(config.nats),
  });
  log.info({ servers: config.nats.servers }, 'connected to NATS');
  let offsets: KvOffsetStore;
  let leases: Awaited<ReturnType<typeof openLeaseBucket>>;
  let pause: PauseWatch;
  try {
    await ensureStream(nc, {
      stream: config.nats.stream,
      subjectPrefix: config.nats.subjectPrefix,
      duplicateWindowMs: config.nats.duplicateWindowMs,
      replicas: config.nats.replicas,
    });
    offsets = await KvOffsetStore.open(nc, config.nats.offsetsBucket, config.nats.replicas);
    leases = await openLeaseBucket(nc, leaseBucketName(config.nats.stream), config.nats.replicas);
    pause = await PauseWatch.start(
      await PauseStore.open(nc, config.nats.offsetsBucket, config.nats.replicas),
      sources.map((s) => s.config.name),
    );
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
  const counters = new Map<string, PipelineCounters>();
  const states = new Map<string, BridgeSourceState>();
  const status = new Map<string, SourceStatus>();
  for (const { config: source } of sources) {
    states.set(source.name, 'starting');
    status.set(source.name, { name: source.name, kind: source.kind, state: 'starting', since: new Date().toISOString() });
  }
  const js = jetstream(nc);
  const removeGauges = provideSourceGauges(() =>
    [...status.values()].map((s) => ({ source: s.name, state: s.state, lagSeconds: captureLagSeconds(counters.get(s.name)) })),
  );

  const jobs = sources.map(async ({ config: source, mappings }) => {
    const sourceLog = log.child({ source: source.name });
    const sourceCounters: PipelineCounters = { envelopes: 0, deadLetters: 0, batches: 0, committed: 0 };
    counters.set(source.name, sourceCounters);
    // A webhook source has nothing to capture: its changes come in through POST /webhook/... .
    if (source.kind === 'webhook') {
      states.set(source.name, 'online');
      status.set(source.name, { ...status.get(source.name)!, state: 'online', since: new Date().toISOString() });
      // Its job lasts until SIGTERM like the others, so a webhook-only bridge keeps serving.
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return;
    }
    // Standby is this process's own view (log and /api/sources), not published on the status
    // subject: the source itself is online in the process that holds the lease.
    const setLocalState = (state: BridgeSourceState): void => {
      states.set(source.name, state);
      status.set(source.name, { ...status.get(source.name)!, state, reason: undefined, since: new Date().toISOString() });
    };
    const lease = new SourceLease(leases, source.name, {
      ...config.nats.lease,
      log: sourceLog,
      onStandby: () => setLocalState('standby'),
    });
    const updateStatus = (change: (current: SourceStatus) => SourceStatus): void => {
      status.set(source.name, change(status.get(source.name)!));
    };
    // Slot safety (docs/operations.md): while online, a slot retaining more WAL than
    // maxSlotLag makes the source `lagging`, and back to `online` once it is within it.
    const slotWatch =
      source.kind === 'postgres'
        ? new SlotWatch({
            source,
            log: sourceLog,
            signal,
            onSample: (slot) => updateStatus(({ slot: _old, ...current }) => (slot ? { ...current, slot } : current)),
            onChange: () => {
              const state = states.get(source.name);
              if (state === 'online' || state === 'lagging') onState('online');
            },
          })
        : undefined;
    const metrics = sourceMetrics(source.name);
    const observer: CaptureObserver = {
      ...(source.kind === 'postgres' ? { estimateRows: (table: string) => estimateRowCountAt(source.url, table) } : {}),
      snapshotProgress: (view) => updateStatus(({ progress: _old, ...current }) => (view ? { ...current, progress: view } : current)),
      pollPass: (kind, durationMs) => metrics.pollPass(kind, durationMs),
    };
    const onState = (jobState: SourceState, jobReason?: string): void => {
      const lagging = jobState === 'online' && slotWatch?.lagging === true;
      const state: BridgeSourceState = lagging ? 'lagging' : jobState;
      const reason = lagging ? slotWatch!.reason : jobReason;
      const current = status.get(source.name)!;
      if (current.state === state && current.reason === reason) return;
      logSourceState(sourceLog, source.name, current.state, state, reason);
      states.set(source.name, state);
      status.set(source.name, { ...current, state, reason, since: new Date().toISOString() });
      const body = JSON.stringify({ source: source.name, state, reason: reason ?? null, ts: new Date().toISOString() });
      js.publish(statusSubject(config.nats.subjectPrefix, source.name), body).catch((error: unknown) =>
        sourceLog.warn(`cannot publish ${state} status: ${errorMessage(error)}`),
      );
    };
    // The capture lease wraps every attempt (docs/high-availability.md): an attempt runs only
    // while this process holds it, and losing it aborts the attempt before its next commit.
    const leaseOffsets = fencedOffsets(offsets, lease);
    await runJob(
      {
        name: source.name,
        log: sourceLog,
        onState,
        attempt: (jobSignal, markOnline) =>
          withLease(lease, jobSignal, () => setLocalState('starting'), (attemptSignal) =>
            runUnlessPaused(pause, source.name, sourceLog, attemptSignal, (unpausedSignal) =>
              observeAttempt(observer, () => runAttempt(config, source, mappings, leaseOffsets, nc, sourceLog, sourceCounters, unpausedSignal, () => {
                markOnline();
                // runJob reports only changes of its own state; after a standby period it may still think it is online.
                if (states.get(source.name) !== 'online') onState('online');
              }, (method, reason) => {
                const current = status.get(source.name)!;
                status.set(source.name, { ...current, method, methodReason: reason });
              }, pause, observer)),
            ),
          ),
      },
      signal,
    ).finally(() => lease.release());
  });
  startHeartbeats(nc, {
    subjectPrefix: config.nats.subjectPrefix,
    intervalMs: config.nats.heartbeatMs,
    log,
    signal,
    beats: () =>
      [...status.values()].map((s) => ({ source: s.name, state: s.state, method: s.method ?? null, position: counters.get(s.name)?.position ?? null })),
  });
  const done = Promise.all(jobs).then(() => pause.close());
  void done.then(removeGauges, removeGauges);
  return { nc, config, counters, states, status, done, pause, mappings: new Map(sources.map((s) => [s.config.name, s.mappings])) };
}

async function runAttempt(
  config: Config,
  source: SourceConfig,
  mappings: Mapping[],
  offsets: OffsetStore,
  nc: NatsConnection,
  log: Logger,
  counters: PipelineCounters,
  signal: AbortSignal,
  markOnline: () => void,
  onMethod: (method: 'log' | 'poll', reason: string) => void,
  pause: PauseWatch,
  observer: CaptureObserver,
): Promise<void> {
  const routes = new Map<string, TableRoute>();
  let routesReady!: () => void;
  const ready = new Promise<void>((resolve) => (routesReady = resolve));
  const choice = await chooseCaptureMethod(source, mappings, offsets);
  const metrics = sourceMetrics(source.name);
  onMethod(choice.method, choice.reason);
  log.info({ event: LOG_EVENTS.captureMethod, capture: choice.method, requested: source.capture, reason: choice.reason }, `source ${source.name}: capture method ${choice.method} (${choice.reason})`);
  // Position epochs (position-space.ts): the method changed since the source last emitted.
  const discardHeld = (): Promise<void> => discardHeldChanges(config, source, mappings, nc, log);
  const plan = await planEpoch({ source, mappings, offsets, log }, choice, discardHeld);
  if (plan.action === 'switch-to-log') {
    await switchToLog(config, source, mappings, offsets, nc, log, counters, signal, markOnline, plan.record, discardHeld, observer);
    return;
  }
  const captureContext = {
    source,
    mappings,
    offsets,
    log,
    observer,
    onReady: (keyColumns: Map<string, string[]>) => {
      for (const mapping of mappings) routes.set(mapping.table, tableRoute(mapping, keyColumns.get(mapping.table) ?? []));
      routesReady();
      markOnline();
    },
  };
  // Paused tables (docs/pause-resume.md): polling skips them; log capture diverts their
  // changes to the holding stream and replays them on resume.
  const isPaused = (table: string): boolean => pause.isTablePaused(source.name, table);
  const capture: CaptureSource<any> =
    choice.method === 'poll'
      ? createPollSource(captureContext, { isPaused, requests: await pollRequestQueue(nc, config.nats.offsetsBucket, source.name) })
      : new HeldChangesSource(createCaptureSource(captureContext, choice.method), {
          isPaused,
          onChange: (listener) => pause.onChange(listener),
          store: await JetStreamHeldStore.open(nc, {
            stream: config.nats.stream,
            source: source.name,
            duplicateWindowMs: config.nats.duplicateWindowMs,
            replicas: config.nats.replicas,
          }),
          tables: mappings.map((m) => m.table),
          log,
          ready,
        });
  const publisher = new JetStreamPublisher(nc, {
    maxInflight: config.nats.maxInflight,
    ackTimeoutMs: 5_000,
    maxSends: 12,
    onResend: (subject, sends, reason) => log.debug({ subject, sends, reason }, 're-sending unacknowledged envelope'),
    onAck: metrics.publishAcked,
  });
  // capture: auto while polling: once log capture becomes possible this attempt ends cleanly
  // (not a failure: the job starts the next one at once) and the next attempt switches.
  const switchWatch = new AbortController();
  const attemptSignal = AbortSignal.any([signal, switchWatch.signal]);
  if (choice.method === 'poll') void watchForLogCapture(source, mappings, log, attemptSignal, () => switchWatch.abort());
  try {
    await runPipeline(
      capture,
      publisher,
      {
        routes,
        ctx: translateContext(config, source, nc, plan.record.epoch),
        log,
        counters,
        metrics,
      },
      attemptSignal,
    );
  } finally {
    switchWatch.abort();
    await publisher.close();
    await capture.close();
  }
}

/**
 * Poll -> log (docs/polling.md "Switching to log capture"): (a) log capture's start point made
 * durable, (b) one last full poll pass published, acknowledged and committed at the old epoch,
 * (c) the new epoch recorded. The next attempt starts log capture from (a) without a snapshot
 * (the state written in (a) says it is done). Stopped or crashed before (c): the next attempt
 * repeats (a) and (b).
 */
async function switchToLog(
  config: Config,
  source: SourceConfig,
  mappings: Mapping[],
  offsets: OffsetStore,
  nc: NatsConnection,
  log: Logger,
  counters: PipelineCounters,
  signal: AbortSignal,
  markOnline: () => void,
  record: MethodRecord,
  discardHeld: () => Promise<void>,
  observer: CaptureObserver,
): Promise<void> {
  log.info({ event: 'capture_method_switching', from: 'poll', to: 'log', epoch: record.epoch }, `source ${source.name}: switching to log capture`);
  const start = await prepareLogStart({ source, mappings, offsets, log });
  const routes = new Map<string, TableRoute>();
  // Pauses are not honoured by this pass: a table it skipped would lose its changes between
  // its last poll and the log's start point.
  const capture = createPollSource(
    {
      source,
      mappings,
      offsets,
      log,
      observer,
      onReady: (keyColumns) => {
        for (const mapping of mappings) routes.set(mapping.table, tableRoute(mapping, keyColumns.get(mapping.table) ?? []));
        markOnline();
      },
    },
    { finalPass: true, requests: await pollRequestQueue(nc, config.nats.offsetsBucket, source.name) },
  );
  const publisher = new JetStreamPublisher(nc, { maxInflight: config.nats.maxInflight, ackTimeoutMs: 5_000, maxSends: 12 });
  try {
    await runPipeline(
      capture,
      publisher,
      {
        routes,
        ctx: translateContext(config, source, nc, record.epoch),
        log,
        counters,
        metrics: sourceMetrics(source.name),
      },
      signal,
    );
  } finally {
    await publisher.close();
    await capture.close();
  }
  // Stopped mid-pass: the pass may be incomplete, so the switch is not recorded.
  if (signal.aborted) return;
  // Polling holds nothing; held changes here are from an earlier log epoch (left by a bridge
  // that did not discard them when it fell back to polling). The pass just sent every table as
  // it is, so they are older than what the stream holds; replayed in the new epoch they would
  // sort after it.
  await discardHeld();
  await commitSwitchToLog({ source, offsets, log }, record, start);
}

/**
 * Removes the held changes of every mapped table of the source (a change of capture method: they
 * belong to the old position epoch). Logged as a warning naming what was discarded: those are
 * intermediate versions the new method's first read supersedes, except deletes, which
 * reconciliation finds (docs/polling.md "Back to polling").
 */
async function discardHeldChanges(config: Config, source: SourceConfig, mappings: Mapping[], nc: NatsConnection, log: Logger): Promise<void> {
  const store = await JetStreamHeldStore.open(nc, {
    stream: config.nats.stream,
    source: source.name,
    duplicateWindowMs: config.nats.duplicateWindowMs,
    replicas: config.nats.replicas,
  });
  for (const { table } of mappings) {
    const discarded = await store.discard(table);
    if (discarded > 0) {
      log.warn(
        { event: 'held_changes_discarded', table, discarded },
        `${table}: ${discarded} held changes of a paused table discarded: they belong to the previous capture method's position epoch; ` +
          'the new method sends the table as it is (a row deleted meanwhile is found by reconciliation)',
      );
    }
  }
}

/** How the pipeline turns this source's raw changes into envelopes, in a position epoch. */
function translateContext(config: Config, source: SourceConfig, nc: NatsConnection, epoch: number): TranslateContext {
  const maxPayload = payloadLimit(nc);
  return {
    sourceName: source.name,
    sourceKind: source.kind,
    subjectPrefix: config.nats.subjectPrefix,
    timezone: source.timezone,
    ...(maxPayload !== undefined ? { maxPayload } : {}),
    positionPrefix: epochPrefix(epoch),
  };
}
