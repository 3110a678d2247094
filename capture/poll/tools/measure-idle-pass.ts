/**
 * Measures what polling costs on a 1M-row PostgreSQL table: the first read (every row as r),
 * an idle pass (nothing changed), and a pass after one row changed. Starts its own PostgreSQL
 * on a free loopback port and keeps the poll state in memory (an idle pass writes no state).
 *
 *   node bin/run-ts.js capture/poll/tools/measure-idle-pass.ts [rows] [chunkSize]
 *
 * Prints one JSON line per pass; docs/polling.md records a run.
 */
import pg from 'pg';
import { createLogger } from '../../../src/log.ts';
import { parseMapping } from '../../../src/mapping/index.ts';
import type { OffsetStore } from '../../../src/ports.ts';
import { startPostgresProcess } from '../../../src/servers/index.ts';
import { postgresDialect } from '../dialects/postgres.ts';
import { PollEngine } from '../engine.ts';
import { POLL_DEFAULTS, pollTable } from '../poll-source.ts';
import { QueryPool } from '../query-pool.ts';
import { RowHasher } from '../row-hash.ts';
import { PollStateStore } from '../state.ts';

const rows = Number(process.argv[2] ?? 1_000_000);
const chunkSize = Number(process.argv[3] ?? 1000);

class MemoryOffsets implements OffsetStore {
  readonly data = new Map<string, string>();
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

await using server = await startPostgresProcess();
const url = server.superuserUrl();
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE TABLE inspections (id integer PRIMARY KEY, bridge text NOT NULL, status char(1), score numeric(6,2), inspected timestamptz, note text)`);
await admin.query(
  `INSERT INTO inspections SELECT g, 'B-' || g, 'A', (g % 10000) / 100.0, timestamptz '2020-01-01' + g * interval '1 minute', repeat('n', 40) FROM generate_series(1, $1) g`,
  [rows],
);
await admin.query('VACUUM ANALYZE inspections');
const { rows: size } = await admin.query<{ s: string }>(`SELECT pg_size_pretty(pg_total_relation_size('inspections')) AS s`);

const mapping = parseMapping(
  'INSPECTIONS.yaml',
  `table: public.inspections
entity: inspection
fields:
  id:        { from: id, type: integer }
  bridge:    { from: bridge }
  status:    { from: status }
  score:     { from: score, type: decimal }
  inspected: { from: inspected, type: timestamp }
  note:      { from: note }
`,
).mapping!;
const dialect = postgresDialect(url);
const pool = new QueryPool(dialect, 1, { statementTimeoutMs: 60_000 });
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
await engine.load([pollTable(mapping, catalog.get('public.inspections')!)], new Map());

async function pass(label: string): Promise<void> {
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
  console.log(
    JSON.stringify({
      pass: label,
      rows,
      chunkSize,
      tableSize: size[0]!.s,
      chunks: engine.stats.chunks,
      seconds: Number(seconds.toFixed(3)),
      statements: s.queries,
      checksumStatements: s.checksumQueries,
      rowStatements: s.rowQueries,
      rowsRead: s.rowsRead,
      changes,
      bytesSent: after.sent - before.sent,
      bytesReceived: after.received - before.received,
    }),
  );
}

await pass('first read');
await pass('idle');
await pass('idle again');
await admin.query(`UPDATE inspections SET status = 'I' WHERE id = $1`, [Math.floor(rows / 3)]);
await pass('one row changed');
await pass('idle after change');
await admin.end();
await pool.close();
