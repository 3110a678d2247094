// `hms-sync demo`: a legacy PostgreSQL database and nats-server as child processes on loopback
// ports, the bridge in this process between them (with its HTTP API and web console on --port,
// and a subscriber keeping a modern copy in a second database), a legacy application making
// changes, and a consumer that shows what arrives on the stream. Everything stops, and every
// temp dir goes, on Ctrl-C or at the end of --duration.
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { ReconcileScheduler } from '../../reconcile/index.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { HttpServerHandle } from '../http/index.ts';
import { loadMappingDir } from '../mapping/index.ts';
import { ReconcileRuns } from '../metrics/index.ts';
import { projectPath } from '../project-path.ts';
import { connectNats } from '../nats/connection.ts';
import { startBridge } from '../runtime/bridge.ts';
import { startHttpServices } from '../runtime/http-services.ts';
import { startSubscribers } from '../subscribers/index.ts';
import {
  makeTempDir,
  missingServerPackages,
  removeTempDir,
  startNatsProcess,
  startPostgresProcess,
  waitFor,
  type NatsProcessServer,
  type PostgresProcessServer,
} from '../servers/index.ts';
import { Arrivals } from './arrivals.ts';
import { bridgeLogger } from './bridge-log.ts';
import { DEMO_PREFIX, DEMO_SOURCE, DEMO_STREAM, DEMO_SUBSCRIBER, writeDemoConfig } from './bridge-config.ts';
import { FirstEnvelopes } from './first-envelopes.ts';
import { readStoredRows } from './legacy-display.ts';
import { LegacyRowGenerator, SEED_ROWS_PER_TABLE, rowKey, seededRandom, type LegacyRow } from './legacy-rows.ts';
import { LEGACY_TABLES, createLegacySchema, type LegacyTable } from './legacy-schema.ts';
import { createModernDatabase, type ModernDatabase } from './modern-database.ts';
import type { DemoOptions } from './options.ts';
import { elapsedLabel, formatEntityCounts, formatLatency, formatMs, plural } from './report.ts';
import { watchStream } from './stream-watch.ts';
import { Workload } from './workload.ts';

export interface DemoOutput {
  line(text?: string): void;
  error(text: string): void;
}

const terminal: DemoOutput = {
  line: (text = '') => process.stdout.write(`${text}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
};

const MAPPINGS_DIR = projectPath('mappings', 'demo');
const DATABASE = 'legacy';
const READER = 'hms_reader';
const MODERN_DATABASE = 'modern';
const WRITER = 'hms_writer';
const PUBLICATION = 'hms_sync';
const TICK_MS = 2_000;
/** How long the stream may take to show the last committed changes once the changes stop. */
const CATCH_UP_MS = 15_000;
/** npx forwards the terminal's Ctrl-C, so one keypress can arrive twice within a few ms. */
const REPEAT_SIGNAL_GRACE_MS = 1_000;

/** One step of the way down, run in reverse order of the way up; `done` is what the last line reports. */
interface Cleanup {
  done?: string;
  run: () => PromiseLike<unknown> | void;
}

/** Runs the demo; returns the exit code (0 after a clean stop). */
export async function runDemo(options: DemoOptions, out: DemoOutput = terminal): Promise<number> {
  const missing = missingServerPackages(['postgres', 'nats']);
  if (missing.length > 0) {
    out.error(`hms-sync demo: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed; run \`bash scripts/install-deps.sh\` first`);
    return 1;
  }
  const stopper = new AbortController();
  let firstSignalAt = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    if (!stopper.signal.aborted) {
      firstSignalAt = Date.now();
      out.line();
      out.line(`${name}: stopping (the bridge drains, then the servers stop)`);
      stopper.abort(name);
    } else if (Date.now() - firstSignalAt > REPEAT_SIGNAL_GRACE_MS) {
      // The 'exit' handlers of src/servers signal the servers and remove their temp dirs.
      out.error(`${name} again: stopping at once`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await demo(options, out, stopper);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function demo(options: DemoOptions, out: DemoOutput, stopper: AbortController): Promise<number> {
  const stop = stopper.signal;
  const cleanups: Cleanup[] = [];
  let exitCode = 0;
  /** A failure reported in one line after everything stopped (instead of a thrown error's). */
  let failure: string | undefined;
  // Printed once, on the banner; the config file reads it from a variable.
  const httpToken = randomBytes(16).toString('hex');
  out.line('hms-sync demo: a legacy database, the bridge and NATS JetStream, all on 127.0.0.1 (Ctrl-C stops)');
  const runDir = makeTempDir('run', undefined, 'demo');
  cleanups.push({ done: 'temp dirs removed', run: () => removeTempDir(runDir) });
  try {
    const { postgres, nats } = await startServers(cleanups);
    const [version] = await postgres.query<{ server_version: string }>('SHOW server_version');
    const pgName = `PostgreSQL ${version?.server_version.split(' ')[0] ?? ''}`.trim();
    out.line(`  ${pgName.padEnd(14)}  ${postgres.host}:${postgres.port}   pid ${postgres.pid}   ${postgres.dir}`);
    out.line(`  nats-server     ${nats.url.replace('nats://', '')}   pid ${nats.pid}   ${nats.dir}`);
    if (stop.aborted) return exitCode;

    const entityOf = await demoMappings();
    await postgres.createDatabase(DATABASE);
    const client = new pg.Client({ connectionString: postgres.superuserUrl(DATABASE) });
    client.on('error', () => undefined); // a lost connection fails the next query, which reports it
    await client.connect();
    cleanups.push({ run: () => client.end().catch(() => undefined) });
    const random = seededRandom(2026);
    const generator = new LegacyRowGenerator(random);
    const seed = generator.seed();
    const reader = { user: READER, password: randomBytes(18).toString('hex') };
    await createLegacySchema(client, seed, reader, PUBLICATION);
    const stored = await readStoredRows(client, LEGACY_TABLES);
    out.line(
      `  legacy tables   ${LEGACY_TABLES.map((t) => t.name).join(', ')} (${SEED_ROWS_PER_TABLE} rows each) in database "${DATABASE}"`,
    );
    const modern: ModernDatabase = { database: MODERN_DATABASE, user: WRITER, password: randomBytes(18).toString('hex') };
    await createModernDatabase(postgres, modern);

    const { file, config } = writeDemoConfig({
      dir: runDir,
      natsUrl: nats.url,
      pgHost: postgres.host,
      pgPort: postgres.port,
      database: DATABASE,
      user: reader.user,
      password: reader.password,
      mappingsDir: MAPPINGS_DIR,
      publication: PUBLICATION,
      httpPort: options.port,
      httpToken,
      modern,
    });
    out.line(`  bridge          in this process; config ${file}`);
    out.line(`                  reads as ${reader.user} (REPLICATION and SELECT only), mappings in ${MAPPINGS_DIR}`);
    if (stop.aborted) return exitCode;

    const log = bridgeLogger(config.log.level, (line) => out.error(line));
    const bridgeStop = new AbortController();
    const bridgeStarted = performance.now();
    const bridge = await startBridge(config, log, bridgeStop.signal);
    cleanups.push({
      done: 'bridge drained',
      run: async () => {
        bridgeStop.abort();
        await bridge.done;
        await bridge.nc.drain().catch(() => undefined);
      },
    });
    // What `hms-sync run` starts beside the bridge, so the console shows what it shows there.
    const subscribers = await startSubscribers(bridge.nc, config, log);
    // Deliveries in flight finish before the bridge's connection drains.
    cleanups.push({ run: () => subscribers.stop() });
    out.line(
      `  subscriber      "${DEMO_SUBSCRIBER}" (postgres) copies every entity into database "${modern.database}", one table each, as ${modern.user}`,
    );
    const reconcileRuns = new ReconcileRuns();
    const scheduler = new ReconcileScheduler({ config, log, runs: reconcileRuns });
    scheduler.start();
    cleanups.push({ run: () => scheduler.stop() });
    let http: HttpServerHandle;
    try {
      // writeDemoConfig always writes the http: block.
      http = await startHttpServices(config.http!, {
        bridge,
        subscribers,
        reconcile: { runs: reconcileRuns, scheduler },
        log,
        signal: bridgeStop.signal,
      });
    } catch (error) {
      failure = listenFailure(error, options.port);
      if (failure === undefined) throw error;
      return 1;
    }
    cleanups.push({ run: () => http.close() });
    out.line(`  console         ${http.url}/   (the HTTP API under /api, /healthz and /metrics)`);
    out.line(`                  console token: ${httpToken}   (type it into the page for pause, resume, resolve and resync)`);

    const nc: NatsConnection = await connectNats({ servers: [nats.url], name: 'hms-sync-demo-consumer' });
    cleanups.push({ run: () => nc.close() });
    const entities = LEGACY_TABLES.map((t) => entityOf.get(t.name)!);
    const arrivals = new Arrivals(entities);
    const first = new FirstEnvelopes((text) => out.line(text), stored);
    const watch = await watchStream(nc, DEMO_STREAM, DEMO_PREFIX, (event) => {
      arrivals.record(event);
      if (event.kind === 'status') out.line(`bridge: source ${DEMO_SOURCE} is ${event.state}${event.reason ? ` (${event.reason})` : ''}`);
      first.show(event);
    });
    cleanups.push({ run: () => watch.stop() });
    let watchError: unknown;
    watch.done.catch((error: unknown) => {
      watchError = error;
      stopper.abort(error);
    });
    out.line(`reading ${DEMO_PREFIX}.> from stream ${DEMO_STREAM} (an ordered consumer, as a downstream system would)`);

    const seedTotal = SEED_ROWS_PER_TABLE * LEGACY_TABLES.length;
    try {
      await waitFor(() => arrivals.count('r') >= seedTotal, {
        what: `the snapshot's ${seedTotal} rows on the stream`,
        timeoutMs: 60_000,
        intervalMs: 20,
        signal: stop,
      });
    } catch (error) {
      if (stop.aborted && watchError === undefined) return exitCode;
      throw watchError ?? error;
    }
    const snapshotSeconds = ((performance.now() - bridgeStarted) / 1000).toFixed(1);
    out.line(`snapshot: the ${seedTotal} existing rows are on the stream as "r" envelopes, ${snapshotSeconds} s after the bridge started`);

    const rows = new Map<LegacyTable, Map<string, LegacyRow>>(
      [...seed].map(([table, tableRows]) => [table, new Map(tableRows.map((row) => [rowKey(table, row), row]))]),
    );
    const workload = new Workload({
      client,
      tables: LEGACY_TABLES,
      rows,
      generator,
      random,
      ratePerSecond: options.rate,
      unmappableAfter: Math.max(10, Math.round(options.rate * 1.5)),
    });
    const until = options.durationMs === undefined ? 'until Ctrl-C' : `for ${formatDuration(options.durationMs)}`;
    out.line(
      `changes: ${options.rate}/s ${until}; inserts, updates and deletes, mostly 1-3 a transaction, every 8th transaction 12-25`,
    );
    out.line(`every ${TICK_MS / 1000} s: changes committed, envelopes read, end-to-end latency (source commit -> read here)`);
    const changesStarted = performance.now();
    const durationTimer =
      options.durationMs === undefined
        ? undefined
        : setTimeout(() => {
            if (stop.aborted) return;
            out.line(`--duration ${formatDuration(options.durationMs!)} reached: stopping`);
            stopper.abort('duration');
          }, options.durationMs);
    const deliveredLabel = (): string => {
      const view = subscribers.view(DEMO_SUBSCRIBER);
      return view === undefined ? 'not started' : `${view.delivered} delivered${view.dead > 0 ? `, ${view.dead} dead` : ''}`;
    };
    const ticker = setInterval(() => {
      const made = workload.counts;
      out.line(
        `${elapsedLabel(performance.now() - changesStarted)} committed ${plural(made.changes, 'change')} ` +
          `(${made.transactions} tx) · read ${plural(arrivals.envelopes, 'envelope')}, ` +
          `${plural(arrivals.deadLetters, 'dead letter')} · ${formatLatency(arrivals.takeWindow())} · ` +
          `${DEMO_SUBSCRIBER}: ${deliveredLabel()}`,
      );
      for (const line of formatEntityCounts(arrivals.byEntity, '          ')) out.line(line);
    }, TICK_MS);
    try {
      await workload.run(stop);
    } finally {
      clearInterval(ticker);
      clearTimeout(durationTimer);
    }
    if (watchError !== undefined) throw watchError;
    const changeSeconds = (performance.now() - changesStarted) / 1000;

    // The changes stopped; the stream catches up with the last of them.
    const made = workload.counts;
    const shortfall = (): string[] => {
      const short: string[] = [];
      for (const table of LEGACY_TABLES) {
        const entity = entityOf.get(table.name)!;
        const got = arrivals.byEntity.get(entity)!;
        const want = made.byTable.get(table.name)!;
        for (const op of ['c', 'u', 'd'] as const) {
          if (got[op] < want[op]) short.push(`${entity} ${op}: ${got[op]} of ${want[op]}`);
        }
      }
      if (arrivals.deadLetters < made.unmappable) short.push(`dead letters: ${arrivals.deadLetters} of ${made.unmappable}`);
      return short;
    };
    const caughtUp = await waitFor(() => shortfall().length === 0, {
      what: 'every committed change on the stream',
      timeoutMs: CATCH_UP_MS,
      intervalMs: 20,
    }).then(
      () => true,
      () => false,
    );

    out.line();
    out.line(`summary: ${changeSeconds.toFixed(1)} s of changes at ${options.rate}/s`);
    out.line(
      `  committed     ${plural(made.changes, 'change')} in ${plural(made.transactions, 'transaction')} (the largest ${made.largestTransaction})`,
    );
    if (caughtUp) {
      out.line(
        `  read          all of them: ${plural(arrivals.envelopes - arrivals.count('r'), 'change envelope')} and ` +
          `${plural(arrivals.deadLetters, 'dead letter')}, after ${seedTotal} snapshot rows`,
      );
    } else {
      exitCode = 1;
      out.line(`  read          NOT all of them after ${CATCH_UP_MS / 1000} s: ${shortfall().join(', ')}`);
    }
    for (const line of formatEntityCounts(arrivals.byEntity, '    ')) out.line(line);
    out.line(
      `  dead letters  ${arrivals.deadLetters}${arrivals.deadLetterSubjects.size > 0 ? ` on ${[...arrivals.deadLetterSubjects].join(', ')}` : ''}`,
    );
    const { latency } = arrivals;
    out.line(
      `  latency       source commit -> read here, over ${plural(latency.count, 'change')}: ` +
        `p50 ${formatMs(latency.percentile(50))}, p99 ${formatMs(latency.percentile(99))}, max ${formatMs(latency.count > 0 ? latency.max : undefined)}`,
    );
    out.line(`  subscriber    ${DEMO_SUBSCRIBER}: ${deliveredLabel()} to database "${modern.database}" (one envelope at a time, in stream order)`);
    return exitCode;
  } finally {
    const done: string[] = [];
    const failures: string[] = [];
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.run();
        if (cleanup.done) done.push(cleanup.done);
      } catch (error) {
        failures.push(errorMessage(error));
      }
    }
    out.line(`stopped: ${done.join(', ')}`);
    if (failures.length > 0) out.error(`hms-sync demo: while stopping: ${failures.join('; ')}`);
    if (failure !== undefined) out.error(`hms-sync demo: ${failure}`);
  }
}

/** Both servers at once, in process groups of their own so a Ctrl-C reaches only us. */
async function startServers(cleanups: Cleanup[]): Promise<{ postgres: PostgresProcessServer; nats: NatsProcessServer }> {
  const launch = { purpose: 'demo', detached: true };
  const [postgres, nats] = await Promise.allSettled([startPostgresProcess(launch), startNatsProcess(launch)]);
  if (postgres.status === 'fulfilled') cleanups.push({ done: 'PostgreSQL stopped', run: () => postgres.value[Symbol.asyncDispose]() });
  if (nats.status === 'fulfilled') cleanups.push({ done: 'nats-server stopped', run: () => nats.value[Symbol.asyncDispose]() });
  if (postgres.status === 'rejected') throw postgres.reason;
  if (nats.status === 'rejected') throw nats.reason;
  return { postgres: postgres.value, nats: nats.value };
}

/** mappings/demo: table name -> entity, and a clear error if a file there is broken. */
async function demoMappings(): Promise<Map<string, string>> {
  const { mappings, errors } = await loadMappingDir(MAPPINGS_DIR);
  if (errors.length > 0) throw new HmsSyncError('MAPPING', errors.map((e) => e.message).join('\n'));
  const entityOf = new Map(mappings.map((m) => [m.tableName, m.entity]));
  const unmapped = LEGACY_TABLES.filter((t) => !entityOf.has(t.name));
  if (unmapped.length > 0) {
    throw new HmsSyncError('MAPPING', `${MAPPINGS_DIR}: no mapping file for ${unmapped.map((t) => `public.${t.name}`).join(', ')}`);
  }
  return entityOf;
}

/** The one line for an HTTP server that could not listen on --port, or undefined for another failure. */
function listenFailure(error: unknown, port: number): string | undefined {
  const code = error instanceof Error && typeof (error.cause as { code?: unknown } | undefined)?.code === 'string' ? (error.cause as { code: string }).code : undefined;
  if (code === 'EADDRINUSE') return `port ${port} on 127.0.0.1 is already in use; choose another with --port (e.g. hms-sync demo --port ${port === 65_535 ? 8081 : port + 1})`;
  if (code === 'EACCES') return `port ${port} on 127.0.0.1 needs privileges this user lacks; choose another with --port (1024 or above)`;
  return undefined;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
