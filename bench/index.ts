// `npm run bench`: the bridge against the raw limits and the issue-9 targets, measured in one
// run on this machine, with every server started here on loopback. Prints a table, writes
// bench/results.json and the results section of docs/benchmarks.md. Figures, not assertions:
// the tests assert behaviour, this measures speed.
//
//   BENCH_ROWS=20000 BENCH_BIG_ROWS=100000 npm run bench    # smaller, while developing
//   BENCH_ONLY=pg,nats,mariadb,latency,rss,poll,reconcile    # a subset of the phases
//   BENCH_REPEAT=1                                           # throughput phases once each (default 3, medians reported)
//   BENCH_PROFILE=/tmp/prof                                  # CPU profiles of every bridge process
//   BENCH_LATENCY_TRACE=1                                    # when the slowest envelopes arrived
//   BENCH_BRIDGE_NODE_OPTIONS="--max-old-space-size=100"     # node flags for the bridge, after the CLI's (experiments)
//   BENCH_MAX_INFLIGHT=1024 / BENCH_BRIDGE_LOG=FILE          # nats.maxInflight / all bridge output
//   BENCH_NATS_GOMAXPROCS=0                                  # nats-server with Go's default GOMAXPROCS (not 1)
//   BENCH_NATS_PROFILE=2                                     # nats-server's CPU profile, each catch-up's first 2 s (bench/nats-profile.ts)
//   node --max-semi-space-size=16 bin/run-ts.js bench/index.ts  # the in-process phases with other node flags
// Bridges and this process run with the node flags of bin/hms-sync.js's first line, as `hms-sync` does.
// Only a full run (all phases, default sizes and repetitions, no experiment) writes bench/results.json and docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { compiledIsCurrent } from '../bin/load.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsProcess, startPostgresProcess, type NatsProcessServer, type PostgresProcessServer } from '../src/servers/index.ts';
import { createBigTable, pollPasses, reconcileRuns } from './big-table.ts';
import { jetstreamRaw, type JetStreamRaw } from './jetstream-raw.ts';
import { mariadbCatchUp } from './mariadb.ts';
import { NATS_PROFILE_SECONDS, natsProfileArgs } from './nats-profile.ts';
import { dropDatabase, pgCatchUp, pgLatency, type CatchUp } from './postgres.ts';
import { describeRuns, median, summarize, type Summary } from './repeat.ts';
import { BIG_ROWS, CLI_NODE_FLAGS, describeSplit, log, perRow, ROOT, ROWS, settle } from './support.ts';

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const phase = (name: string): boolean => only === undefined || only.includes(name);
const LATENCY_RATE = 5_000;
const LATENCY_SECONDS = 12;
// nats-server shares the two cores with the databases and the bridge. With one Go thread running
// code (GOMAXPROCS=1) instead of one per core it spends 20-30 % less CPU a message here (less
// handing of work between threads): the setting for a small host it shares, docs/benchmarks.md.
// BENCH_NATS_GOMAXPROCS=0 runs it with Go's default (an experiment: results are not written).
const NATS_GOMAXPROCS = Number(process.env.BENCH_NATS_GOMAXPROCS ?? 1);
/** nats-server's options for the bench, with its profile port where BENCH_NATS_PROFILE asks for one. */
const natsOptions = async () => ({ purpose: 'bench', ...(NATS_GOMAXPROCS > 0 && { goMaxProcs: NATS_GOMAXPROCS }), args: await natsProfileArgs() });
/** Repetitions of each throughput phase (PostgreSQL both kinds, MariaDB); the medians are reported (bench/repeat.ts). */
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`BENCH_REPEAT must be a whole number from 1, not "${process.env.BENCH_REPEAT}"`);

type CatchUpRun = CatchUp & { rawRowsPerS: number };
/** A throughput phase's catch-up, which measured its raw limit too. */
function withRaw(run: CatchUp): CatchUpRun {
  if (run.rawRowsPerS === undefined) throw new Error('a throughput phase ran without its raw limit');
  return run as CatchUpRun;
}

/** A throughput measure's medians under its result keys, and the bridge's extremes as `<e2e>_min` / `<e2e>_max`. */
function record(results: Record<string, number>, keys: { e2e: string; raw: string; ratio: string }, summary: Summary<CatchUpRun>): void {
  results[keys.e2e] = Math.round(summary.rowsPerS);
  results[keys.raw] = Math.round(summary.rawRowsPerS);
  results[keys.ratio] = round2(summary.ratio);
  results[`${keys.e2e}_min`] = Math.round(summary.min);
  results[`${keys.e2e}_max`] = Math.round(summary.max);
}

/** The CPU a row and the main-thread split of the median repetition. */
function medianRepetitionNotes(what: string, summary: Summary<CatchUpRun>): string[] {
  const { cpu, mainThread } = summary.middle;
  return [
    `CPU µs a row, ${what} (median repetition): ${perRow(cpu, ROWS)}`,
    ...(mainThread ? [`Bridge main thread, ${what} (median repetition): ${describeSplit(mainThread)}`] : []),
  ];
}

/**
 * The bridges run the compiled copy, as after `npm install`, not the sources through tsx
 * (whose loader thread is ~30 MB more memory): bin/hms-sync.js runs the sources while dist/js
 * is older than them, so it is built first when it is.
 */
function buildIfStale(): void {
  if (compiledIsCurrent()) return;
  log('dist/js is older than the sources: building it (npm run build)');
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

/**
 * Runs this bench again in a node given CLI_NODE_FLAGS, unless this one has them: the polling
 * and reconciliation phases run in this process and are measured as `hms-sync` runs them.
 */
function withCliNodeFlags(): void {
  if (CLI_NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) return;
  // bin/run-ts.js took itself out of process.argv: put it back. Flags given to this node come
  // last, so they win (`node --max-semi-space-size=16 bin/run-ts.js bench/index.ts`: an experiment).
  const again = spawnSync(process.execPath, [...CLI_NODE_FLAGS, ...process.execArgv, join(ROOT, 'bin', 'run-ts.js'), ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(again.status ?? 1);
}

async function main(): Promise<void> {
  const started = Date.now();
  await using postgres = await startPostgresProcess({ purpose: 'bench' });
  await using nats = await startNatsProcess(await natsOptions());
  const results: Record<string, number> = {};
  const notes: string[] = [];

  // Latency first, while nothing else has run: the phases after it leave databases, WAL and
  // stream files behind whose cleanup would land in its percentiles.
  if (phase('latency')) {
    await settle('latency');
    const latency = await pgLatency(postgres, nats, LATENCY_RATE, LATENCY_SECONDS);
    results.latency_p50_ms = latency.p50;
    results.latency_p99_ms = latency.p99;
    results.latency_max_ms = latency.max;
    results.latency_rate_rows_per_s = Math.round(latency.rate);
  }
  if (phase('pg')) {
    // The two kinds alternate, so a busy minute lands on one repetition of each, not on all of one.
    const oneTxRuns: CatchUpRun[] = [];
    const smallTxRuns: CatchUpRun[] = [];
    for (let i = 1; i <= REPEAT; i++) {
      oneTxRuns.push(withRaw(await pgCatchUp(postgres, nats, `one_tx_${i}`, ROWS, ROWS, true)));
      smallTxRuns.push(withRaw(await pgCatchUp(postgres, nats, `small_tx_${i}`, ROWS, 10, true)));
    }
    const oneTx = summarize(oneTxRuns);
    record(results, { e2e: 'pg_e2e_rows_per_s_one_tx', raw: 'pg_raw_rows_per_s_one_tx', ratio: 'pg_ratio_one_tx' }, oneTx);
    const smallTx = summarize(smallTxRuns);
    record(results, { e2e: 'pg_e2e_rows_per_s_small_tx', raw: 'pg_raw_rows_per_s_small_tx', ratio: 'pg_ratio_small_tx' }, smallTx);
    notes.push(`Repetitions, PostgreSQL one transaction: ${describeRuns(oneTx.runs, 'pg_recvlogical')}`);
    notes.push(`Repetitions, PostgreSQL 10-row transactions: ${describeRuns(smallTx.runs, 'pg_recvlogical')}`);
    notes.push(...medianRepetitionNotes('PostgreSQL 10-row transactions', smallTx));
  }
  if (phase('nats')) {
    // JetStream alone (no bridge, no client), the bridge's message shape: the publish side's raw limit.
    const runs: JetStreamRaw[] = [];
    for (let i = 1; i <= REPEAT; i++) {
      await settle(`jetstream_${i}`);
      runs.push(await jetstreamRaw(nats, ROWS, `RAW_${i}`));
    }
    results.nats_raw_msgs_per_s = Math.round(median(runs.map((r) => r.msgsPerS)));
    results.nats_raw_us_per_msg = Number(median(runs.map((r) => r.usPerMsg)).toFixed(1));
    notes.push(
      `Repetitions, JetStream alone: ${runs.map((r) => Math.round(r.msgsPerS)).join(' / ')} msgs/s; nats-server ${runs.map((r) => r.usPerMsg.toFixed(1)).join(' / ')} µs CPU a message`,
    );
  }
  if (phase('mariadb')) {
    const runs: CatchUpRun[] = [];
    for (let i = 1; i <= REPEAT; i++) runs.push(withRaw(await mariadbCatchUp(nats, ROWS, 10, `mariadb_${i}`)));
    const maria = summarize(runs);
    record(results, { e2e: 'mysql_e2e_rows_per_s', raw: 'mysql_raw_rows_per_s', ratio: 'mysql_ratio' }, maria);
    notes.push(`Repetitions, MariaDB 10-row transactions: ${describeRuns(maria.runs, 'zongji')}`);
    notes.push(...medianRepetitionNotes('MariaDB 10-row transactions', maria));
  }
  if (phase('rss')) {
    // Each on servers of their own: on the servers of an earlier 1M-row run the second ran
    // 12-30 % slower whatever its flags (WAL, checkpoints and stream files left by the first),
    // which once passed for the cost of a small young generation.
    const big = await onFreshServers((pg, n) => pgCatchUp(pg, n, 'big_tx', BIG_ROWS, BIG_ROWS, false));
    results.peak_rss_mb_1m_tx = Math.round(big.peakRssMb);
    results.pg_e2e_rows_per_s_1m_tx = Math.round(big.rowsPerS);
    // Again with node's defaults instead of the CLI's flags: a young generation of two 16 MB
    // semi-spaces (32 MB resident, v8.getHeapSpaceStatistics) instead of two of 1 MB.
    const plain = await onFreshServers((pg, n) => pgCatchUp(pg, n, 'big_tx_node_defaults', BIG_ROWS, BIG_ROWS, false, []));
    results.peak_rss_mb_1m_tx_node_defaults = Math.round(plain.peakRssMb);
    results.pg_e2e_rows_per_s_1m_tx_node_defaults = Math.round(plain.rowsPerS);
  }
  if (phase('poll') || phase('reconcile')) {
    const url = await createBigTable(postgres, BIG_ROWS);
    if (phase('reconcile')) {
      await settle('reconcile');
      const runs = await reconcileRuns(postgres, nats, url, BIG_ROWS);
      results.reconcile_1m_identical_s = round2(runs.identical.seconds);
      results.reconcile_1m_10diff_s = round2(runs.tenDiffs.seconds);
      notes.push(`CPU s, reconciliation of identical sides: ${Object.entries(runs.identical.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    }
    if (phase('poll')) {
      await settle('poll');
      const poll = await pollPasses(url, BIG_ROWS);
      results.poll_idle_pass_s = round2(poll.idle.seconds);
      results.poll_idle_bytes = poll.idle.bytes;
      results.poll_idle_rows_read = poll.idle.rowsRead;
      results.poll_idle_statements = poll.idle.statements;
      results.poll_100_changed_s = round2(poll.changed.seconds);
      results.poll_100_changed_found = poll.changed.changes;
      results.poll_first_read_s = round2(poll.first.seconds);
    }
    await dropDatabase(postgres, 'bench_big');
  }

  const table = render(results, notes, (Date.now() - started) / 1000);
  console.log(table);
  const experiment =
    process.env.BENCH_NATS_GOMAXPROCS !== undefined ||
    NATS_PROFILE_SECONDS > 0 ||
    process.env.BENCH_BRIDGE_NODE_OPTIONS !== undefined ||
    process.execArgv.some((flag) => !CLI_NODE_FLAGS.includes(flag));
  if (only === undefined && ROWS === 200_000 && BIG_ROWS === 1_000_000 && REPEAT === 3 && !experiment) {
    writeFileSync(join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
    updateDocs(table);
  } else {
    log('a partial or scaled-down run: bench/results.json and docs/benchmarks.md left as they are');
  }
}

/** `run` against a PostgreSQL and a nats-server started for it alone, stopped afterwards. */
async function onFreshServers<T>(run: (postgres: PostgresProcessServer, nats: NatsProcessServer) => Promise<T>): Promise<T> {
  await using postgres = await startPostgresProcess({ purpose: 'bench' });
  await using nats = await startNatsProcess(await natsOptions());
  return await run(postgres, nats);
}

function round2(n: number): number {
  return Number(n.toFixed(2));
}

/** "; PostgreSQL 10-row tx at 0.58 of it, MariaDB at 0.70": the bridge against JetStream alone, measured the same run. */
function ofJetStream(r: Record<string, number>): string {
  const js = r.nats_raw_msgs_per_s;
  if (js === undefined) return '';
  const parts = [
    ...(r.pg_e2e_rows_per_s_small_tx !== undefined ? [`PostgreSQL 10-row tx at ${(r.pg_e2e_rows_per_s_small_tx / js).toFixed(2)} of it`] : []),
    ...(r.mysql_e2e_rows_per_s !== undefined ? [`MariaDB at ${(r.mysql_e2e_rows_per_s / js).toFixed(2)}`] : []),
  ];
  return parts.length > 0 ? `; ${parts.join(', ')}` : '';
}

/** "| what | measured | limit or target | ratio | met |" rows, for what this run measured. */
function render(r: Record<string, number>, notes: string[], seconds: number): string {
  const rows: string[] = [];
  const add = (what: string, value: number | undefined, unit: string, limit: string, ratio: number | undefined, met: boolean | undefined): void => {
    if (value === undefined) return;
    rows.push(`| ${what} | ${value} ${unit} | ${limit} | ${ratio === undefined ? '' : ratio.toFixed(2)} | ${met === undefined ? '' : met ? 'yes' : 'no'} |`);
  };
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b);
  const of = REPEAT > 1 ? ` (median of ${REPEAT})` : '';
  add(`PostgreSQL e2e, one ${ROWS % 1000 === 0 ? `${ROWS / 1000}k` : ROWS}-row transaction${of}`, r.pg_e2e_rows_per_s_one_tx, 'rows/s', `pg_recvlogical ${r.pg_raw_rows_per_s_one_tx} rows/s`, r.pg_ratio_one_tx, undefined);
  add(
    `PostgreSQL e2e, 10-row transactions${of}`,
    r.pg_e2e_rows_per_s_small_tx,
    'rows/s',
    `pg_recvlogical ${r.pg_raw_rows_per_s_small_tx} rows/s; target ≥ 50000 and ≥ 0.5 × raw`,
    r.pg_ratio_small_tx,
    r.pg_e2e_rows_per_s_small_tx === undefined ? undefined : r.pg_e2e_rows_per_s_small_tx >= 50_000 && r.pg_ratio_small_tx! >= 0.5,
  );
  add(
    `MariaDB e2e, 10-row transactions${of}`,
    r.mysql_e2e_rows_per_s,
    'rows/s',
    `zongji bare read ${r.mysql_raw_rows_per_s} rows/s; target ≥ 60000`,
    r.mysql_ratio,
    r.mysql_e2e_rows_per_s === undefined ? undefined : r.mysql_e2e_rows_per_s >= 60_000,
  );
  add(
    `JetStream alone, acknowledged publishes of the bridge's shape${of}`,
    r.nats_raw_msgs_per_s,
    'msgs/s',
    `the publish side's raw limit: no bridge, no client; nats-server ${r.nats_raw_us_per_msg} µs CPU a message${ofJetStream(r)}`,
    undefined,
    undefined,
  );
  add('latency p50, commit → JetStream', r.latency_p50_ms, 'ms', `at ${r.latency_rate_rows_per_s} rows/s`, undefined, undefined);
  add('latency p99, commit → JetStream', r.latency_p99_ms, 'ms', 'target ≤ 25 ms', ratio(r.latency_p99_ms, 25), r.latency_p99_ms === undefined ? undefined : r.latency_p99_ms <= 25);
  add(
    `peak RSS, one ${BIG_ROWS}-row transaction`,
    r.peak_rss_mb_1m_tx,
    'MB',
    `target ≤ 200 MB (streamed at ${r.pg_e2e_rows_per_s_1m_tx} rows/s; node ${CLI_NODE_FLAGS.join(' ')}, as \`hms-sync\` runs)`,
    ratio(r.peak_rss_mb_1m_tx, 200),
    r.peak_rss_mb_1m_tx === undefined ? undefined : r.peak_rss_mb_1m_tx <= 200,
  );
  add(
    `peak RSS, one ${BIG_ROWS}-row transaction, node's defaults`,
    r.peak_rss_mb_1m_tx_node_defaults,
    'MB',
    `streamed at ${r.pg_e2e_rows_per_s_1m_tx_node_defaults} rows/s (\`node bin/hms-sync.js\`)`,
    ratio(r.peak_rss_mb_1m_tx_node_defaults, 200),
    undefined,
  );
  add(
    `poll: idle pass over ${BIG_ROWS} rows`,
    r.poll_idle_pass_s,
    's',
    `target ≤ 1 s; ${r.poll_idle_statements} statements, ${r.poll_idle_rows_read} rows read`,
    ratio(r.poll_idle_pass_s, 1),
    r.poll_idle_pass_s === undefined ? undefined : r.poll_idle_pass_s <= 1,
  );
  add('poll: idle pass, bytes on the wire', r.poll_idle_bytes, 'bytes', 'target < 1 MB', ratio(r.poll_idle_bytes, 1_000_000), r.poll_idle_bytes === undefined ? undefined : r.poll_idle_bytes < 1_000_000);
  add('poll: pass finding 100 changed rows', r.poll_100_changed_s, 's', `found ${r.poll_100_changed_found}; first read ${r.poll_first_read_s} s`, undefined, undefined);
  add(
    `reconcile ${BIG_ROWS} rows a side, identical`,
    r.reconcile_1m_identical_s,
    's',
    'target ≤ 2 s',
    ratio(r.reconcile_1m_identical_s, 2),
    r.reconcile_1m_identical_s === undefined ? undefined : r.reconcile_1m_identical_s <= 2,
  );
  add(
    `reconcile ${BIG_ROWS} rows a side, 10 differences`,
    r.reconcile_1m_10diff_s,
    's',
    'target ≤ 4 s',
    ratio(r.reconcile_1m_10diff_s, 4),
    r.reconcile_1m_10diff_s === undefined ? undefined : r.reconcile_1m_10diff_s <= 4,
  );
  return [
    `hms-sync bench (${ROWS} rows of ~100 bytes for throughput, PostgreSQL 15, MariaDB 10.11, nats-server file storage and GOMAXPROCS=${NATS_GOMAXPROCS > 0 ? NATS_GOMAXPROCS : 'default'}, ${process.platform} ${process.arch}, 2 cores shared by all; whole run ${Math.round(seconds)} s)`,
    '',
    '| measure | bridge | raw limit / target | ratio | met |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...notes,
  ].join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function updateDocs(table: string): void {
  const file = join(ROOT, 'docs', 'benchmarks.md');
  const doc = readFileSync(file, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) {
    log(`docs/benchmarks.md has no ${START} … ${END} section: not updated`);
    return;
  }
  const day = new Date().toISOString().slice(0, 10);
  const section = `${START}\nLast full run: ${day}.\n\n\`\`\`\n${table}\n\`\`\`\n`;
  writeFileSync(file, doc.slice(0, from) + section + doc.slice(to));
  log('docs/benchmarks.md updated');
}

buildIfStale();
withCliNodeFlags();
await main();
