// `npm run bench`: the bridge against the raw limits and the issue-9 targets, measured in one
// run on this machine, with every server started here on loopback. Prints a table, writes
// bench/results.json and the results section of docs/benchmarks.md. Figures, not assertions:
// the tests assert behaviour, this measures speed.
//
//   BENCH_ROWS=20000 BENCH_BIG_ROWS=100000 npm run bench    # smaller, while developing
//   BENCH_ONLY=pg,mariadb,latency,rss,poll,reconcile         # a subset of the phases
//   BENCH_PROFILE=/tmp/prof                                  # CPU profiles of every bridge process
//   BENCH_LATENCY_TRACE=1                                    # when the slowest envelopes arrived
//   BENCH_BRIDGE_NODE_OPTIONS="--max-old-space-size=100"     # node flags for the bridge (experiments)
//   BENCH_MAX_INFLIGHT=1024 / BENCH_BRIDGE_LOG=FILE          # nats.maxInflight / all bridge output
//   BENCH_NATS_GOMAXPROCS=0                                  # nats-server with Go's default GOMAXPROCS (not 1)
// Only a full run (all phases, default sizes) writes bench/results.json and docs/benchmarks.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsProcess, startPostgresProcess } from '../src/servers/index.ts';
import { createBigTable, pollPasses, reconcileRuns } from './big-table.ts';
import { mariadbCatchUp } from './mariadb.ts';
import { dropDatabase, pgCatchUp, pgLatency } from './postgres.ts';
import { BIG_ROWS, log, perRow, ROOT, ROWS } from './support.ts';

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const phase = (name: string): boolean => only === undefined || only.includes(name);
const LATENCY_RATE = 5_000;
const LATENCY_SECONDS = 12;
const SMALL_YOUNG_GEN = '--max-semi-space-size=1';
// nats-server shares the two cores with the databases and the bridge. With one Go thread running
// code (GOMAXPROCS=1) instead of one per core it spends 20-30 % less CPU a message here (less
// handing of work between threads): the setting for a small host it shares, docs/benchmarks.md.
// BENCH_NATS_GOMAXPROCS=0 runs it with Go's default (an experiment: results are not written).
const NATS_GOMAXPROCS = Number(process.env.BENCH_NATS_GOMAXPROCS ?? 1);

async function main(): Promise<void> {
  const started = Date.now();
  await using postgres = await startPostgresProcess({ purpose: 'bench' });
  await using nats = await startNatsProcess({ purpose: 'bench', ...(NATS_GOMAXPROCS > 0 && { goMaxProcs: NATS_GOMAXPROCS }) });
  const results: Record<string, number> = {};
  const notes: string[] = [];

  // Latency first, while nothing else has run: the phases after it leave databases, WAL and
  // stream files behind whose cleanup would land in its percentiles.
  if (phase('latency')) {
    const latency = await pgLatency(postgres, nats, LATENCY_RATE, LATENCY_SECONDS);
    results.latency_p50_ms = latency.p50;
    results.latency_p99_ms = latency.p99;
    results.latency_max_ms = latency.max;
    results.latency_rate_rows_per_s = Math.round(latency.rate);
  }
  if (phase('pg')) {
    const oneTx = await pgCatchUp(postgres, nats, 'one_tx', ROWS, ROWS, true);
    results.pg_e2e_rows_per_s_one_tx = Math.round(oneTx.rowsPerS);
    results.pg_raw_rows_per_s_one_tx = Math.round(oneTx.rawRowsPerS!);
    results.pg_ratio_one_tx = round2(oneTx.rowsPerS / oneTx.rawRowsPerS!);
    const smallTx = await pgCatchUp(postgres, nats, 'small_tx', ROWS, 10, true);
    results.pg_e2e_rows_per_s_small_tx = Math.round(smallTx.rowsPerS);
    results.pg_raw_rows_per_s_small_tx = Math.round(smallTx.rawRowsPerS!);
    results.pg_ratio_small_tx = round2(smallTx.rowsPerS / smallTx.rawRowsPerS!);
    notes.push(`CPU µs a row, PostgreSQL 10-row transactions: ${perRow(smallTx.cpu, ROWS)}`);
  }
  if (phase('mariadb')) {
    const maria = await mariadbCatchUp(nats, ROWS, 10);
    results.mysql_e2e_rows_per_s = Math.round(maria.rowsPerS);
    results.mysql_raw_rows_per_s = Math.round(maria.rawRowsPerS!);
    results.mysql_ratio = round2(maria.rowsPerS / maria.rawRowsPerS!);
    notes.push(`CPU µs a row, MariaDB 10-row transactions: ${perRow(maria.cpu, ROWS)}`);
  }
  if (phase('rss')) {
    const big = await pgCatchUp(postgres, nats, 'big_tx', BIG_ROWS, BIG_ROWS, false);
    results.peak_rss_mb_1m_tx = Math.round(big.peakRssMb);
    results.pg_e2e_rows_per_s_1m_tx = Math.round(big.rowsPerS);
    // Again with the young generation capped at 1 MB a semi-space (docker/Dockerfile's
    // NODE_OPTIONS): fewer messages awaiting their acks are promoted to the old generation.
    const small = await pgCatchUp(postgres, nats, 'big_tx_semi1', BIG_ROWS, BIG_ROWS, false, [SMALL_YOUNG_GEN]);
    results.peak_rss_mb_1m_tx_semi_space_1mb = Math.round(small.peakRssMb);
    results.pg_e2e_rows_per_s_1m_tx_semi_space_1mb = Math.round(small.rowsPerS);
  }
  if (phase('poll') || phase('reconcile')) {
    const url = await createBigTable(postgres, BIG_ROWS);
    if (phase('reconcile')) {
      const runs = await reconcileRuns(postgres, nats, url, BIG_ROWS);
      results.reconcile_1m_identical_s = round2(runs.identical.seconds);
      results.reconcile_1m_10diff_s = round2(runs.tenDiffs.seconds);
      notes.push(`CPU s, reconciliation of identical sides: ${Object.entries(runs.identical.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    }
    if (phase('poll')) {
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
  if (only === undefined && ROWS === 200_000 && BIG_ROWS === 1_000_000 && process.env.BENCH_NATS_GOMAXPROCS === undefined) {
    writeFileSync(join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
    updateDocs(table);
  } else {
    log('a partial or scaled-down run: bench/results.json and docs/benchmarks.md left as they are');
  }
}

function round2(n: number): number {
  return Number(n.toFixed(2));
}

/** "| what | measured | limit or target | ratio | met |" rows, for what this run measured. */
function render(r: Record<string, number>, notes: string[], seconds: number): string {
  const rows: string[] = [];
  const add = (what: string, value: number | undefined, unit: string, limit: string, ratio: number | undefined, met: boolean | undefined): void => {
    if (value === undefined) return;
    rows.push(`| ${what} | ${value} ${unit} | ${limit} | ${ratio === undefined ? '' : ratio.toFixed(2)} | ${met === undefined ? '' : met ? 'yes' : 'no'} |`);
  };
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b);
  add('PostgreSQL e2e, one 200k-row transaction', r.pg_e2e_rows_per_s_one_tx, 'rows/s', `pg_recvlogical ${r.pg_raw_rows_per_s_one_tx} rows/s`, r.pg_ratio_one_tx, undefined);
  add(
    'PostgreSQL e2e, 10-row transactions',
    r.pg_e2e_rows_per_s_small_tx,
    'rows/s',
    `pg_recvlogical ${r.pg_raw_rows_per_s_small_tx} rows/s; target ≥ 50000 and ≥ 0.5 × raw`,
    r.pg_ratio_small_tx,
    r.pg_e2e_rows_per_s_small_tx === undefined ? undefined : r.pg_e2e_rows_per_s_small_tx >= 50_000 && r.pg_ratio_small_tx! >= 0.5,
  );
  add(
    'MariaDB e2e, 10-row transactions',
    r.mysql_e2e_rows_per_s,
    'rows/s',
    `zongji bare read ${r.mysql_raw_rows_per_s} rows/s; target ≥ 60000`,
    r.mysql_ratio,
    r.mysql_e2e_rows_per_s === undefined ? undefined : r.mysql_e2e_rows_per_s >= 60_000,
  );
  add('latency p50, commit → JetStream', r.latency_p50_ms, 'ms', `at ${r.latency_rate_rows_per_s} rows/s`, undefined, undefined);
  add('latency p99, commit → JetStream', r.latency_p99_ms, 'ms', 'target ≤ 25 ms', ratio(r.latency_p99_ms, 25), r.latency_p99_ms === undefined ? undefined : r.latency_p99_ms <= 25);
  add(
    `peak RSS, one ${BIG_ROWS}-row transaction`,
    r.peak_rss_mb_1m_tx,
    'MB',
    `target ≤ 200 MB (streamed at ${r.pg_e2e_rows_per_s_1m_tx} rows/s)`,
    ratio(r.peak_rss_mb_1m_tx, 200),
    r.peak_rss_mb_1m_tx === undefined ? undefined : r.peak_rss_mb_1m_tx <= 200,
  );
  add(
    `peak RSS, one ${BIG_ROWS}-row transaction, ${SMALL_YOUNG_GEN}`,
    r.peak_rss_mb_1m_tx_semi_space_1mb,
    'MB',
    `target ≤ 200 MB (streamed at ${r.pg_e2e_rows_per_s_1m_tx_semi_space_1mb} rows/s; the image's NODE_OPTIONS)`,
    ratio(r.peak_rss_mb_1m_tx_semi_space_1mb, 200),
    r.peak_rss_mb_1m_tx_semi_space_1mb === undefined ? undefined : r.peak_rss_mb_1m_tx_semi_space_1mb <= 200,
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

await main();
