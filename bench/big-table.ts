// The 1M-row table phases: polling passes and reconciliation, both over one PostgreSQL table
// (`legacy_item`, mapped to the entity `item`), through the project's real entry points.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresDialect } from '../capture/poll/dialects/postgres.ts';
import { PollEngine } from '../capture/poll/engine.ts';
import { POLL_DEFAULTS, pollTable } from '../capture/poll/poll-source.ts';
import { QueryPool } from '../capture/poll/query-pool.ts';
import { RowHasher } from '../capture/poll/row-hash.ts';
import { PollStateStore } from '../capture/poll/state.ts';
import { connectConfigNats, runReconcile, type TableResult } from '../reconcile/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { createLogger } from '../src/log.ts';
import { parseMapping } from '../src/mapping/index.ts';
import type { OffsetStore } from '../src/ports.ts';
import type { NatsProcessServer, PostgresProcessServer } from '../src/servers/index.ts';
import { cpuSeconds, log, measureCpu, treeCpuSeconds } from './support.ts';

const MAPPING = `table: public.legacy_item
entity: item
fields:
  id: { from: id, type: integer }
  code: { from: code, type: string, trim: true }
  amount: { from: amount, type: decimal }
  note: { from: note, type: string }
`;

export async function createBigTable(postgres: PostgresProcessServer, rows: number): Promise<string> {
  const url = await postgres.createDatabase('bench_big');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const started = Date.now();
  await c.query(`CREATE TABLE legacy_item (id integer PRIMARY KEY, code char(8), amount numeric(12,2), note text)`);
  await c.query(
    `INSERT INTO legacy_item SELECT g, 'C' || (g % 97), g * 0.25, repeat(md5(g::text), 2) FROM generate_series(1, $1::int) g`,
    [rows],
  );
  // The modern copy reconciliation compares with: the mapped rows (code trimmed), as the postgres subscriber keeps them.
  await c.query(`CREATE TABLE item (id integer PRIMARY KEY, code text, amount numeric, note text)`);
  await c.query(`INSERT INTO item SELECT id, rtrim(code), amount, note FROM legacy_item`);
  await c.query('VACUUM ANALYZE legacy_item');
  await c.query('VACUUM ANALYZE item');
  // The 2M rows just written are flushed now, not by the checkpointer during the measured
  // passes (its CPU is in the PostgreSQL figures, and it competes for the two cores).
  await c.query('CHECKPOINT');
  await c.end();
  log(`${rows}-row table and its target copy written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return url;
}

class MemoryOffsets implements OffsetStore {
  private readonly data = new Map<string, string>();
  async get<T>(key: string): Promise<T | undefined> {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  async put(key: string, value: unknown): Promise<void> {
    this.data.set(key, JSON.stringify(value));
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
}

export interface PollPass {
  seconds: number;
  statements: number;
  rowsRead: number;
  bytes: number;
  changes: number;
}

export interface PollResults {
  first: PollPass;
  idle: PollPass;
  changed: PollPass;
}

/**
 * The polling engine as the bridge runs it (chunk checksums in SQL, xxhash per row, state in
 * an in-memory offset store): a first read, an idle pass, and a pass after 100 rows changed.
 */
export async function pollPasses(url: string, rows: number): Promise<PollResults> {
  const mapping = parseMapping('legacy_item.yaml', MAPPING).mapping!;
  const dialect = postgresDialect(url);
  const pool = new QueryPool(dialect, 1, { statementTimeoutMs: 120_000 });
  const chunkSize = 1000; // the config's default poll.chunkSize
  try {
    const catalog = await pool.use((c) => c.describe([mapping]));
    const engine = new PollEngine(dialect.sql, pool, new PollStateStore(new MemoryOffsets(), 'bench'), await RowHasher.create(), {
      sourceName: 'bench',
      chunkSize,
      debounceMs: 0,
      concurrency: 1,
      groupChunks: POLL_DEFAULTS.groupChunks,
      fanout: POLL_DEFAULTS.fanout,
      maxEntryBytes: POLL_DEFAULTS.maxEntryBytes,
      defaultSweepMs: POLL_DEFAULTS.sweepMs,
      log: createLogger('silent'),
    });
    await engine.load([pollTable(mapping, catalog.get('public.legacy_item')!)], new Map());
    const pass = async (label: string): Promise<PollPass> => {
      const before = pool.traffic();
      const started = performance.now();
      let changes = 0;
      for await (const batch of engine.pass('full', new AbortController().signal)) {
        changes += batch.changes.length;
        if (batch.checkpoint) await engine.commit(batch.checkpoint);
      }
      const seconds = (performance.now() - started) / 1000;
      const after = pool.traffic();
      const s = engine.stats.last!;
      const result = { seconds, statements: s.queries, rowsRead: s.rowsRead, bytes: after.sent - before.sent + after.received - before.received, changes };
      log(`poll ${label}: ${seconds.toFixed(2)} s, ${result.statements} statements, ${result.rowsRead} rows read, ${result.bytes} bytes, ${changes} changes`);
      return result;
    };
    const first = await pass('first read');
    const idle = await pass('idle');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // 100 rows spread over the key space: 100 different chunks.
    await c.query(`UPDATE legacy_item SET note = 'changed' WHERE id % ${Math.floor(rows / 100)} = 7`);
    await c.end();
    const changed = await pass('100 rows changed');
    return { first, idle, changed };
  } finally {
    await pool.close();
  }
}

export interface ReconcileRun {
  seconds: number;
  result: TableResult;
  cpu: Record<string, number>;
}

/**
 * `hms-sync reconcile` as the CLI runs it (loadConfig, runReconcile), against the `postgres`
 * target: once on identical sides, once after 10 rows of the target were changed, deleted or
 * added. No bridge runs, so the catch-up wait is 0.
 */
export async function reconcileRuns(
  postgres: PostgresProcessServer,
  nats: NatsProcessServer,
  url: string,
  rows: number,
): Promise<{ identical: ReconcileRun; tenDiffs: ReconcileRun }> {
  const dir = mkdtempSync(join(tmpdir(), 'hms-sync-bench-reconcile-'));
  mkdirSync(join(dir, 'mappings'));
  writeFileSync(join(dir, 'mappings', 'legacy_item.yaml'), MAPPING);
  writeFileSync(
    join(dir, 'hms-sync.yaml'),
    `nats: { servers: ${nats.url}, stream: BENCH_RECONCILE, subjectPrefix: bench.reconcile, offsetsBucket: bench_reconcile }
sources:
  - { name: src, kind: postgres, url: "${url}", mappings: ./mappings }
reconcile:
  target: { kind: postgres, url: "${url}" }
log: { level: warn }
`,
  );
  const config = await loadConfig(join(dir, 'hms-sync.yaml'));
  const nc = await connectConfigNats(config);
  const run = async (label: string): Promise<ReconcileRun> => {
    const stop = measureCpu({ 'bench process (reconcile)': () => cpuSeconds(process.pid), postgres: () => treeCpuSeconds(postgres.pid) });
    const started = performance.now();
    const [result] = await runReconcile(config, nc, { log: createLogger('warn'), signal: new AbortController().signal, catchUpMs: 0 });
    const seconds = (performance.now() - started) / 1000;
    const cpu = stop();
    const c = result!.counts;
    log(
      `reconcile ${label}: ${seconds.toFixed(2)} s; missing in target ${c.missingInTarget}, missing in source ${c.missingInSource}, ` +
        `different ${c.different}; rows scanned ${result!.scanned.source}, checksums ${result!.stats.source.checksumQueries}/${result!.stats.target.checksumQueries}, ` +
        `rows compared ${result!.stats.source.rowsReturned}/${result!.stats.target.rowsReturned}`,
    );
    return { seconds, result: result!, cpu };
  };
  try {
    const identical = await run('identical');
    if (identical.result.report) throw new Error('reconcile found differences between identical sides');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // 10 differences: 4 values changed, 3 rows missing in the target, 3 rows only in the target.
    const at = (fraction: number): number => Math.floor(rows * fraction) + 1;
    await c.query(`UPDATE item SET note = 'drift' WHERE id IN (11, ${at(0.25)}, ${at(0.5)}, ${rows - 9})`);
    await c.query(`DELETE FROM item WHERE id IN (77, ${at(0.33)}, ${at(0.77)})`);
    await c.query(`INSERT INTO item VALUES (${rows + 1}, 'X', 1.5, 'extra'), (${rows + 2}, 'X', 1.5, 'extra'), (${rows + 3}, 'X', 1.5, 'extra')`);
    await c.end();
    const tenDiffs = await run('10 differences');
    const counts = tenDiffs.result.counts;
    const found = counts.missingInSource + counts.missingInTarget + counts.different;
    if (found !== 10) throw new Error(`reconcile found ${found} differences, expected 10`);
    return { identical, tenDiffs };
  } finally {
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
