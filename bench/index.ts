// `npm run bench`: PostgreSQL log capture end to end against the raw limits, measured in one
// run on this machine, with every server started here on loopback. Prints a table and writes
// bench/results.json. Figures, not assertions: the tests assert behaviour, this measures speed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { requirePostgresBinDir, startNatsProcess, startPostgresProcess, waitFor } from '../src/servers/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);

const MAPPING = `table: public.bench
entity: bench
fields:
  id: { from: id, type: integer }
  code: { from: code, type: string, trim: true }
  amount: { from: amount, type: decimal }
  note: { from: note, type: string }
`;

interface Phase {
  rowsPerS: number;
  seconds: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  await using postgres = await startPostgresProcess({ purpose: 'bench' });
  await using nats = await startNatsProcess({ purpose: 'bench' });
  const results: Record<string, number> = {};

  for (const [label, perTx] of [
    ['one_tx', ROWS],
    ['small_tx', 10],
  ] as const) {
    const db = `bench_${label}`;
    const url = await postgres.createDatabase(db);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query(`CREATE TABLE bench (id integer PRIMARY KEY, code char(8), amount numeric(12,2), note text)`);
    await client.query(`CREATE PUBLICATION bench_pub FOR TABLE bench`);
    // Two slots made before the load: one for the bridge, one for pg_recvlogical (the raw limit).
    // (Slot names are cluster-wide, hence the label.)
    await client.query(`SELECT pg_create_logical_replication_slot('bridge_${label}', 'pgoutput'), pg_create_logical_replication_slot('raw_${label}', 'pgoutput')`);
    // ~100 bytes a row.
    const generated = Date.now();
    for (let start = 1; start <= ROWS; start += perTx) {
      const end = Math.min(ROWS, start + perTx - 1);
      await client.query(
        `INSERT INTO bench SELECT g, 'C' || (g % 97), g * 0.25, repeat(md5(g::text), 2) FROM generate_series($1::int, $2::int) g`,
        [start, end],
      );
    }
    const endLsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    await client.end();
    console.error(`bench: ${ROWS} rows in ${perTx === ROWS ? 'one transaction' : `${perTx}-row transactions`} written in ${((Date.now() - generated) / 1000).toFixed(1)} s`);

    let raw: number;
    let bridge: Phase;
    try {
      raw = rawDecode(postgres.superuserUrl(db), `raw_${label}`, endLsn);
      console.error(`bench: raw decode ${raw.toFixed(2)} s`);
      bridge = await bridgeCatchUp(url, nats.url, label);
    } catch (error) {
      console.error(`bench: ${label} failed: ${(error as Error).message}`);
      throw error;
    }
    results[`pg_e2e_rows_per_s_${label}`] = Math.round(bridge.rowsPerS);
    results[`pg_raw_rows_per_s_${label}`] = Math.round(ROWS / raw);
    results[`pg_ratio_${label}`] = Number((bridge.rowsPerS / (ROWS / raw)).toFixed(2));
    if (label === 'one_tx') results.peak_rss_mb_200k_tx = Math.round(bridge.peakRssMb);
  }

  const lines = [
    `hms-sync bench (${ROWS} rows of ~100 bytes, PostgreSQL 15, nats-server 2.9 file storage, ${process.platform} ${process.arch}, 2 cores shared by all)`,
    '',
    '| path | bridge end to end | raw limit (pg_recvlogical) | ratio |',
    '| --- | --- | --- | --- |',
    `| one transaction | ${results.pg_e2e_rows_per_s_one_tx} rows/s | ${results.pg_raw_rows_per_s_one_tx} rows/s | ${results.pg_ratio_one_tx} |`,
    `| 10-row transactions | ${results.pg_e2e_rows_per_s_small_tx} rows/s | ${results.pg_raw_rows_per_s_small_tx} rows/s | ${results.pg_ratio_small_tx} |`,
    '',
    `peak RSS of the bridge while streaming one ${ROWS}-row transaction: ${results.peak_rss_mb_200k_tx} MB`,
  ];
  console.log(lines.join('\n'));
  writeFileSync(join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
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

/**
 * Starts the bridge on a slot that already holds ROWS changes and times it from its first
 * envelope to JetStream holding all of them (commit -> acknowledged, for a backlog).
 */
async function bridgeCatchUp(dbUrl: string, natsUrl: string, label: string): Promise<Phase> {
  const dir = mkdtempSync(join(tmpdir(), 'hms-sync-bench-'));
  const stream = `BENCH_${label.toUpperCase()}`;
  mkdirSync(join(dir, 'mappings'));
  writeFileSync(join(dir, 'mappings', 'bench.yaml'), MAPPING);
  writeFileSync(
    join(dir, 'hms-sync.yaml'),
    `nats: { servers: ${natsUrl}, stream: ${stream}, subjectPrefix: bench.${label}, offsetsBucket: bench_${label} }
sources:
  - { name: src, kind: postgres, url: "${dbUrl}", mappings: ./mappings, publication: bench_pub, slot: bridge_${label}, snapshot: never }
log: { level: warn }
`,
  );
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  const count = async (): Promise<number> => (await jsm.streams.info(stream).catch(() => undefined))?.state.messages ?? 0;
  // BENCH_PROFILE=DIR writes a CPU profile of the bridge there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, join(ROOT, 'bin', 'hms-sync.js'), 'run', '-c', join(dir, 'hms-sync.yaml')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitFor(async () => (await count()) > 0, { what: 'the first envelope', timeoutMs: 60_000, intervalMs: 5 });
    const first = process.hrtime.bigint();
    const firstCount = await count();
    await waitFor(async () => (await count()) >= ROWS, { what: `${ROWS} envelopes`, timeoutMs: 600_000, intervalMs: 20 });
    const seconds = Number(process.hrtime.bigint() - first) / 1e9;
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const peakRssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
    return { rowsPerS: (ROWS - firstCount) / seconds, seconds, peakRssMb };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
