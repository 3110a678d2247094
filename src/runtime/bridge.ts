import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config, SourceConfig } from '../config/index.ts';
import { statusSubject } from '../envelope/envelope.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { loadMappingDir } from '../mapping/index.ts';
import type { Mapping } from '../mapping/types.ts';
import { connectNats, payloadLimit } from '../nats/connection.ts';
import { KvOffsetStore } from '../offsets/index.ts';
import { runJob, type SourceState } from '../pipeline/job.ts';
import { runPipeline, type PipelineCounters } from '../pipeline/pipeline.ts';
import { tableRoute, type TableRoute } from '../pipeline/translate.ts';
import type { OffsetStore } from '../ports.ts';
import { JetStreamPublisher, ensureStream } from '../publisher/index.ts';
import { CAPTURE_KINDS, chooseCaptureMethod, createCaptureSource } from './sources.ts';

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

/** What `run` knows of one source right now (for /api/sources, /healthz and the console). */
export interface SourceStatus {
  name: string;
  kind: string;
  /** The capture method of the current (or last) attempt; undefined before the first choice. */
  method?: 'log' | 'poll';
  /** Why that method (a sentence). */
  methodReason?: string;
  state: SourceState;
  /** Why the source is offline (the last error), when it is. */
  reason?: string;
  since: string;
}

export interface BridgeHandle {
  nc: NatsConnection;
  config: Config;
  counters: Map<string, PipelineCounters>;
  states: Map<string, SourceState>;
  status: Map<string, SourceStatus>;
  done: Promise<void>;
}

/**
 * `hms-sync run`: one job per source, each job a loop of attempts, each attempt a fresh
 * source connection, a fresh publisher and the pipeline between them.
 */
export async function startBridge(config: Config, log: Logger, signal: AbortSignal): Promise<BridgeHandle> {
  const sources = await loadSources(config);
  for (const { config: source } of sources) {
    if (!CAPTURE_KINDS.has(source.kind)) {
      throw new HmsSyncError(
        'CONFIG',
        `${config.file}: source ${source.name}: kind ${source.kind} has no capture module in this build (${[...CAPTURE_KINDS].join(', ')})`,
      );
    }
  }
  const nc = await connectNats({
    servers: config.nats.servers,
    waitOnFirstConnect: true,
    ...(config.nats.user !== undefined ? { user: config.nats.user, password: config.nats.password ?? '' } : {}),
    ...(config.nats.token !== undefined ? { token: config.nats.token } : {}),
  });
  log.info({ servers: config.nats.servers }, 'connected to NATS');
  let offsets: KvOffsetStore;
  try {
    await ensureStream(nc, {
      stream: config.nats.stream,
      subjectPrefix: config.nats.subjectPrefix,
      duplicateWindowMs: config.nats.duplicateWindowMs,
      replicas: config.nats.replicas,
    });
    offsets = await KvOffsetStore.open(nc, config.nats.offsetsBucket, config.nats.replicas);
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
  const counters = new Map<string, PipelineCounters>();
  const states = new Map<string, SourceState>();
  const status = new Map<string, SourceStatus>();
  for (const { config: source } of sources) {
    states.set(source.name, 'starting');
    status.set(source.name, { name: source.name, kind: source.kind, state: 'starting', since: new Date().toISOString() });
  }
  const js = jetstream(nc);

  const jobs = sources.map(async ({ config: source, mappings }) => {
    const sourceLog = log.child({ source: source.name });
    const sourceCounters: PipelineCounters = { envelopes: 0, deadLetters: 0, batches: 0, committed: 0 };
    counters.set(source.name, sourceCounters);
    await runJob(
      {
        name: source.name,
        log: sourceLog,
        onState: (state, reason) => {
          states.set(source.name, state);
          const current = status.get(source.name)!;
          status.set(source.name, { ...current, state, reason, since: new Date().toISOString() });
          const body = JSON.stringify({ source: source.name, state, reason: reason ?? null, ts: new Date().toISOString() });
          js.publish(statusSubject(config.nats.subjectPrefix, source.name), body).catch((error: unknown) =>
            sourceLog.warn(`cannot publish ${state} status: ${errorMessage(error)}`),
          );
        },
        attempt: (attemptSignal, markOnline) =>
          runAttempt(config, source, mappings, offsets, nc, sourceLog, sourceCounters, attemptSignal, markOnline, (method, reason) => {
            const current = status.get(source.name)!;
            status.set(source.name, { ...current, method, methodReason: reason });
          }),
      },
      signal,
    );
  });
  const done = Promise.all(jobs).then(() => undefined);
  return { nc, config, counters, states, status, done };
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
): Promise<void> {
  const routes = new Map<string, TableRoute>();
  const choice = await chooseCaptureMethod(source, mappings, offsets);
  onMethod(choice.method, choice.reason);
  log.info({ capture: choice.method, requested: source.capture }, `source ${source.name}: capture method ${choice.method} (${choice.reason})`);
  const capture = createCaptureSource({
    source,
    mappings,
    offsets,
    log,
    onReady: (keyColumns) => {
      for (const mapping of mappings) routes.set(mapping.table, tableRoute(mapping, keyColumns.get(mapping.table) ?? []));
      markOnline();
    },
  }, choice.method);
  const publisher = new JetStreamPublisher(nc, {
    maxInflight: config.nats.maxInflight,
    ackTimeoutMs: 5_000,
    maxSends: 12,
    onResend: (subject, sends, reason) => log.debug({ subject, sends, reason }, 're-sending unacknowledged envelope'),
  });
  try {
    await runPipeline(
      capture,
      publisher,
      { routes, ctx: { sourceName: source.name, sourceKind: source.kind, subjectPrefix: config.nats.subjectPrefix, timezone: source.timezone, maxPayload: payloadLimit(nc) }, log, counters },
      signal,
    );
  } finally {
    await publisher.close();
    await capture.close();
  }
}
