// PostgreSQL log capture: end to end beside pg_recvlogical, the 1M-row transaction's memory,
// and latency at a steady rate.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { requirePostgresBinDir, type NatsProcessServer, type PostgresProcessServer } from '../src/servers/index.ts';
import {
  Bridge,
  cpuSeconds,
  describeSplit,
  log,
  peakRssMb,
  percentile,
  perRow,
  settle,
  StreamCount,
  timeCatchUp,
  treeCpuSeconds,
  type MainThreadSplit,
} from './support.ts';

export const PG_MAPPING = `table: public.bench
entity: bench
fields:
  id: { from: id, type: integer }
  code: { from: code, type: string, trim: true }
  amount: { from: amount, type: decimal }
  note: { from: note, type: string }
`;

export interface CatchUp {
  rowsPerS: number;
  rawRowsPerS?: number;
  peakRssMb: number;
  /** CPU seconds by process while the bridge caught up. */
  cpu: Record<string, number>;
  /** The bridge's main thread over the same window (undefined without schedstat). */
  mainThread?: MainThreadSplit;
}

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function createBenchTable(c: pg.Client, slots: string[]): Promise<void> {
  await c.query(`CREATE TABLE bench (id integer PRIMARY KEY, code char(8), amount numeric(12,2), note text)`);
  await c.query(`CREATE PUBLICATION bench_pub FOR TABLE bench`);
  for (const slot of slots) await c.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
}

/** ~100 bytes a row: 8-char code, numeric(12,2), 64-char note. */
async function insertRows(c: pg.Client, from: number, to: number): Promise<void> {
  await c.query(
    `INSERT INTO bench SELECT g, 'C' || (g % 97), g * 0.25, repeat(md5(g::text), 2) FROM generate_series($1::int, $2::int) g`,
    [from, to],
  );
}

/**
 * Writes `rows` rows in transactions of `perTx` with the bridge stopped, then times the bridge
 * from its first envelope to JetStream holding all of them, and (with `raw`) pg_recvlogical
 * decoding the same changes from a second slot.
 */
export async function pgCatchUp(
  postgres: PostgresProcessServer,
  nats: NatsProcessServer,
  label: string,
  rows: number,
  perTx: number,
  raw: boolean,
  /** Node flags for the bridge; those `hms-sync` runs with when absent. */
  nodeFlags?: readonly string[],
): Promise<CatchUp> {
  const db = `bench_${label}`;
  const url = await postgres.createDatabase(db);
  const c = await client(url);
  await createBenchTable(c, raw ? [`bridge_${label}`, `raw_${label}`] : [`bridge_${label}`]);
  const generated = Date.now();
  if (perTx >= rows) {
    await insertRows(c, 1, rows);
  } else {
    // 100 transactions a round trip (each its own BEGIN/COMMIT: a multi-statement query is otherwise one).
    const statements: string[] = [];
    for (let start = 1; start <= rows; start += perTx) {
      const end = Math.min(rows, start + perTx - 1);
      statements.push(`BEGIN; INSERT INTO bench SELECT g, 'C' || (g % 97), g * 0.25, repeat(md5(g::text), 2) FROM generate_series(${start}, ${end}) g; COMMIT`);
      if (statements.length === 100) await c.query(statements.splice(0).join(';'));
    }
    if (statements.length > 0) await c.query(statements.join(';'));
  }
  const endLsn = (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  await c.end();
  log(`${rows} rows in ${perTx >= rows ? 'one transaction' : `${perTx}-row transactions`} written in ${((Date.now() - generated) / 1000).toFixed(1)} s`);

  await settle(label);
  let rawRowsPerS: number | undefined;
  if (raw) {
    const postgresCpu = treeCpuSeconds(postgres.pid);
    const seconds = rawDecode(postgres.superuserUrl(db), `raw_${label}`, endLsn);
    rawRowsPerS = rows / seconds;
    // PostgreSQL's CPU for the same decode as the bridge's (its walsender, mostly), to set beside
    // the bridge's phase; counted once the postmaster has reaped the exited walsender.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const walsender = ((treeCpuSeconds(postgres.pid) - postgresCpu) * 1e6) / rows;
    log(`pg_recvlogical decoded ${rows} rows in ${seconds.toFixed(2)} s; postgres ${walsender.toFixed(1)} µs CPU a row`);
  }

  const stream = `BENCH_${label.toUpperCase()}`;
  await using counter = await StreamCount.open(nats.url, stream, `bench.${label}`);
  const bridge = new Bridge({
    natsUrl: nats.url,
    stream,
    subjectPrefix: `bench.${label}`,
    offsetsBucket: `bench_${label}`,
    source: `{ name: src, kind: postgres, url: "${url}", mappings: ./mappings, publication: bench_pub, slot: bridge_${label}, snapshot: never }`,
    mappings: { 'bench.yaml': PG_MAPPING },
    ...(nodeFlags && { nodeFlags }),
  });
  try {
    const { cpu, mainThread, ...timing } = await timeCatchUp(counter, rows, bridge, {
      bridge: () => cpuSeconds(bridge.pid),
      'nats-server': () => cpuSeconds(nats.pid),
      postgres: () => treeCpuSeconds(postgres.pid),
    });
    const rss = peakRssMb(bridge.pid);
    log(
      `bridge: ${Math.round(timing.rowsPerS)} rows/s, ${timing.seconds.toFixed(2)} s (first envelope ${timing.startSeconds.toFixed(2)} s after the spawn), peak RSS ${rss.toFixed(0)} MB; CPU µs a row: ${perRow(cpu, rows)}${
        mainThread ? `; main thread ${describeSplit(mainThread)}` : ''
      }`,
    );
    return { rowsPerS: timing.rowsPerS, ...(rawRowsPerS !== undefined ? { rawRowsPerS } : {}), peakRssMb: rss, cpu, ...(mainThread && { mainThread }) };
  } finally {
    await bridge.stop();
    await counter.deleteStream();
    await dropDatabase(postgres, db);
  }
}

/** Drops a phase's database and its slots, so their WAL is not kept for the phases after it. */
export async function dropDatabase(postgres: PostgresProcessServer, db: string): Promise<void> {
  await postgres.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1', [db]).catch(() => undefined);
  await postgres.query(`DROP DATABASE ${db} WITH (FORCE)`).catch(() => undefined);
}

/** Seconds pg_recvlogical takes to decode `slot` up to `endLsn` (output discarded). */
function rawDecode(url: string, slot: string, endLsn: string): number {
  const u = new URL(url);
  const started = process.hrtime.bigint();
  const result = spawnSync(
    join(requirePostgresBinDir(), 'pg_recvlogical'),
    ['-d', u.pathname.slice(1), '-h', u.hostname, '-p', u.port, '-U', decodeURIComponent(u.username), '-S', slot, '--start',
      '-o', 'proto_version=1', '-o', 'publication_names=bench_pub', '-E', endLsn, '--no-loop', '-f', '/dev/null'],
    { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) }, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`pg_recvlogical failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** Rows a second the writer actually committed. */
  rate: number;
}

/**
 * The bridge streams live while a paced writer commits `rate` rows a second in 10-row
 * transactions; a JetStream consumer (ordered, after storage) takes each envelope's latency
 * as its receipt time minus the source's commit time (`source.commitTs`, the server's
 * commit timestamp in whole milliseconds, truncated, so a latency reads up to 1 ms high).
 */
export async function pgLatency(
  postgres: PostgresProcessServer,
  nats: NatsProcessServer,
  rate: number,
  seconds: number,
): Promise<Latency> {
  const db = 'bench_latency';
  const url = await postgres.createDatabase(db);
  const c = await client(url);
  await createBenchTable(c, ['bridge_latency']);
  const stream = 'BENCH_LATENCY';
  const prefix = 'bench.latency';
  await using counter = await StreamCount.open(nats.url, stream, prefix);
  const bridge = new Bridge({
    natsUrl: nats.url,
    stream,
    subjectPrefix: prefix,
    offsetsBucket: 'bench_latency',
    source: `{ name: src, kind: postgres, url: "${url}", mappings: ./mappings, publication: bench_pub, slot: bridge_latency, snapshot: never }`,
    mappings: { 'bench.yaml': PG_MAPPING },
  });
  const nc = await connect({ servers: nats.url });
  try {
    // Warm up: the bridge is streaming once a first row made it into the stream.
    await insertRows(c, 1, 1);
    await timeCatchUp(counter, 1, bridge);
    log(`bridge streaming, idle: RSS ${(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${bridge.pid}/status`, 'utf8'))?.[1]) / 1024).toFixed(0)} MB`);

    const js = jetstream(nc);
    const consumer = await js.consumers.get(stream, { filter_subjects: `${prefix}.>`, deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume({ max_messages: 2_000 });
    const latencies: number[] = [];
    const warmupRows = Math.round(rate); // the first second is not counted
    const total = Math.round(rate * seconds);
    const decoder = new TextDecoder();
    // BENCH_LATENCY_TRACE=1: print when the slow envelopes arrived (ms into the run, latency).
    const trace: Array<[number, number]> | undefined = process.env.BENCH_LATENCY_TRACE ? [] : undefined;
    const traceStart = Date.now();
    const reading = (async () => {
      let seen = 0;
      for await (const m of messages) {
        const received = Date.now();
        const envelope = JSON.parse(decoder.decode(m.data)) as { source: { commitTs: string } };
        seen += 1;
        if (seen > warmupRows) {
          latencies.push(received - Date.parse(envelope.source.commitTs));
          if (trace) trace.push([received - traceStart, received - Date.parse(envelope.source.commitTs)]);
        }
        if (seen >= total) break;
      }
    })();

    const perTx = 10;
    const intervalMs = (1000 * perTx) / rate;
    const started = performance.now();
    let next = 2;
    for (let tx = 0; next <= total + 1; tx++) {
      const due = started + tx * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      await insertRows(c, next, next + perTx - 1);
      next += perTx;
    }
    const writeSeconds = (performance.now() - started) / 1000;
    await Promise.race([reading, sleep(30_000).then(() => Promise.reject(new Error(`latency consumer saw only ${latencies.length} rows`)))]);
    latencies.sort((a, b) => a - b);
    if (trace) log(`slowest: ${JSON.stringify(trace.filter(([, l]) => l >= percentile(latencies, 99)).slice(0, 60))}`);
    const result = {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? NaN,
      samples: latencies.length,
      rate: (next - 2) / writeSeconds,
    };
    log(`latency at ${Math.round(result.rate)} rows/s: p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms over ${result.samples} rows`);
    return result;
  } finally {
    await nc.close();
    await c.end();
    await bridge.stop();
    await dropDatabase(postgres, db);
  }
}
