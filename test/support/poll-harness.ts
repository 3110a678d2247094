// A polling bridge in-process: createPollSource + runPipeline + JetStreamPublisher, the way
// src/runtime/bridge.ts runs one attempt, until `capture: poll` is wired into the CLI. In
// process, so a test can read the engine's counters (statements, rows read, passes) and ask
// for a sweep.
//
//   await using bridge = await startPollBridge({ natsUrl, id: uniqueName('poll'), source, mappings });
//   await bridge.waitForPasses(2);
import type { NatsConnection } from '@nats-io/transport-node';
import { createPollSource, type PollSource, type PollSourceOptions } from '../../capture/poll/index.ts';
import type { SourceConfig, SourceKind } from '../../src/config/index.ts';
import { createLogger } from '../../src/log.ts';
import { parseMapping } from '../../src/mapping/index.ts';
import type { Mapping } from '../../src/mapping/types.ts';
import { connectNats, payloadLimit } from '../../src/nats/connection.ts';
import { KvOffsetStore } from '../../src/offsets/index.ts';
import { runPipeline, type PipelineCounters } from '../../src/pipeline/pipeline.ts';
import { tableRoute, type TableRoute } from '../../src/pipeline/translate.ts';
import { JetStreamPublisher, ensureStream } from '../../src/publisher/index.ts';
import { waitFor } from './wait.ts';

export interface PollBridgeOptions {
  natsUrl: string;
  /** Unique per test: stream, subject prefix and offsets bucket derive from it (reuse it to restart). */
  id: string;
  source: { name: string; kind: SourceKind; url: string; path?: string };
  /** File name -> mapping file text. */
  mappings: Record<string, string>;
  poll?: Partial<SourceConfig['poll']>;
  /** Engine options the config does not carry (concurrency, sweep cadence, entry size). */
  engine?: Partial<PollSourceOptions>;
}

export interface PollBridge extends AsyncDisposable {
  readonly source: PollSource;
  readonly counters: PipelineCounters;
  readonly stream: string;
  readonly prefix: string;
  readonly bucket: string;
  /** Resolves when `passes` passes of this process have finished (idle ones included). */
  waitForPasses(passes: number, timeoutMs?: number): Promise<void>;
  /** Passes finished so far. */
  passes(): number;
  /** SIGTERM-like: stop capture, drain acknowledgements, commit, close. */
  stop(): Promise<void>;
  /** Rejects if the pipeline failed. */
  readonly done: Promise<void>;
}

export function pollNames(id: string): { stream: string; prefix: string; bucket: string } {
  const clean = id.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  return { stream: `T_${clean}`.toUpperCase(), prefix: `t.${clean}`, bucket: `offsets_${clean}` };
}

export async function startPollBridge(options: PollBridgeOptions): Promise<PollBridge> {
  const { stream, prefix, bucket } = pollNames(options.id);
  const mappings: Mapping[] = Object.entries(options.mappings).map(([file, text]) => {
    const parsed = parseMapping(`/poll-harness/${options.source.name}/${file}`, text);
    if (!parsed.mapping) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
    return parsed.mapping;
  });
  const log = createLogger(process.env.HMS_SYNC_TEST_LOG ?? 'error').child({ source: options.source.name });
  const nc: NatsConnection = await connectNats({ servers: [options.natsUrl], waitOnFirstConnect: true });
  await ensureStream(nc, { stream, subjectPrefix: prefix, duplicateWindowMs: 120_000, replicas: 1 });
  const offsets = await KvOffsetStore.open(nc, bucket);
  const source: SourceConfig = {
    name: options.source.name,
    kind: options.source.kind,
    url: options.source.url,
    ...(options.source.path ? { path: options.source.path } : {}),
    capture: 'poll',
    poll: { intervalMs: 200, debounceMs: 0, chunkSize: 100, ...options.poll },
    mappings: '/poll-harness',
    publication: 'unused',
    slot: 'unused',
    snapshot: 'initial',
    timezone: 'UTC',
  };
  const routes = new Map<string, TableRoute>();
  const capture = createPollSource(
    {
      source,
      mappings,
      offsets,
      log,
      onReady: (keyColumns) => {
        for (const mapping of mappings) routes.set(mapping.table, tableRoute(mapping, keyColumns.get(mapping.table) ?? []));
      },
    },
    options.engine,
  ) as PollSource;
  const publisher = new JetStreamPublisher(nc, { maxInflight: 256, ackTimeoutMs: 5_000, maxSends: 12 });
  const counters: PipelineCounters = { envelopes: 0, deadLetters: 0, batches: 0, committed: 0 };
  const abort = new AbortController();
  const done = runPipeline(
    capture,
    publisher,
    {
      routes,
      ctx: { sourceName: source.name, sourceKind: source.kind, subjectPrefix: prefix, timezone: 'UTC', maxPayload: payloadLimit(nc) },
      log,
      counters,
    },
    abort.signal,
  );
  let failure: unknown;
  done.catch((error: unknown) => (failure = error));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      abort.abort();
      try {
        await done;
      } finally {
        await publisher.close();
        await capture.close();
        await nc.close();
      }
    })();
    return stopped;
  };
  const passes = (): number => capture.stats?.passes ?? 0;
  return {
    source: capture,
    counters,
    stream,
    prefix,
    bucket,
    done,
    passes,
    async waitForPasses(target, timeoutMs = 30_000) {
      await waitFor(
        () => {
          if (failure) throw failure;
          return passes() >= target;
        },
        { what: `${target} poll passes (at ${passes()})`, timeoutMs, intervalMs: 20 },
      );
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop().catch(() => undefined);
    },
  };
}
