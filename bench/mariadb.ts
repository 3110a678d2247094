// MariaDB binlog capture end to end, beside a bare binlog read of the same events.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import mysql from 'mysql2/promise';
import type { NatsProcessServer } from '../src/servers/index.ts';
import { startMariadbProcess } from '../test/support/mariadb.ts';
import { Bridge, cpuSeconds, describeSplit, log, peakRssMb, perRow, settle, StreamCount, timeCatchUp } from './support.ts';
import type { CatchUp } from './postgres.ts';

const require = createRequire(import.meta.url);

const MAPPING = `table: bench.bench
entity: bench
fields:
  id: { from: id, type: integer }
  code: { from: code, type: string, trim: true }
  amount: { from: amount, type: decimal }
  note: { from: note, type: string }
`;

interface ZongjiLike {
  on(event: 'binlog', listener: (event: { getTypeName(): string; rows?: unknown[] }) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  start(options: Record<string, unknown>): void;
  stop(): void;
}

/**
 * Writes `rows` rows in 10-row transactions while the bridge is stopped (it has recorded its
 * start point first), then times the bridge catching up from its first envelope to all of
 * them in JetStream, and @powersync/mysql-zongji (the library the capture reads the binlog
 * with) reading the same events bare: its own row decoding, no mapping, no publishing.
 * `label` names the stream, subjects and offsets bucket (one per repetition); the stream is
 * deleted afterwards.
 */
export async function mariadbCatchUp(nats: NatsProcessServer, rows: number, perTx: number, label = 'mariadb'): Promise<CatchUp> {
  await using server = await startMariadbProcess({ settings: { 'binlog-row-metadata': 'FULL' } });
  await server.query('CREATE DATABASE bench');
  await server.query('CREATE TABLE bench.bench (id int PRIMARY KEY, code char(8), amount decimal(12,2), note text)');
  const url = server.rootUrl('bench');
  const spec = {
    natsUrl: nats.url,
    stream: `BENCH_${label.toUpperCase()}`,
    subjectPrefix: `bench.${label}`,
    offsetsBucket: `bench_${label}`,
    source: `{ name: src, kind: mysql, url: "${url}", mappings: ./mappings, snapshot: never }`,
    mappings: { 'bench.yaml': MAPPING },
    logLevel: 'info',
  };
  // First start: the bridge records the binlog head as its start point, then stops.
  const first = new Bridge(spec);
  await first.waitForOutput(/streaming changes/);
  await first.stop();

  const [status] = await server.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');
  const startFile = status!.File;
  const startPos = Number(status!.Position);
  const connection = await mysql.createConnection({ uri: url, multipleStatements: true });
  const generated = Date.now();
  const statements: string[] = [];
  for (let start = 1; start <= rows; start += perTx) {
    const end = Math.min(rows, start + perTx - 1);
    // autocommit: each statement is its own transaction.
    statements.push(`INSERT INTO bench SELECT seq, CONCAT('C', seq % 97), seq * 0.25, REPEAT(MD5(seq), 2) FROM seq_${start}_to_${end}`);
    if (statements.length === 200) await connection.query(statements.splice(0).join(';'));
  }
  if (statements.length > 0) await connection.query(statements.join(';'));
  await connection.end();
  log(`MariaDB: ${rows} rows in ${perTx}-row transactions written in ${((Date.now() - generated) / 1000).toFixed(1)} s`);

  await settle(label);
  const rawSeconds = await bareBinlogRead(server.host, server.port, server.rootPassword, startFile, startPos, rows);
  log(`zongji read the ${rows} rows' events in ${rawSeconds.toFixed(2)} s`);

  const mariadbd = mariadbPid(server.port);
  await using counter = await StreamCount.open(nats.url, spec.stream, spec.subjectPrefix);
  const bridge = new Bridge({ ...spec, logLevel: 'warn' });
  try {
    const { cpu, mainThread, ...timing } = await timeCatchUp(counter, rows, bridge, {
      bridge: () => cpuSeconds(bridge.pid),
      'nats-server': () => cpuSeconds(nats.pid),
      mariadbd: () => cpuSeconds(mariadbd),
    });
    const rss = peakRssMb(bridge.pid);
    log(
      `MariaDB bridge: ${Math.round(timing.rowsPerS)} rows/s, ${timing.seconds.toFixed(2)} s (first envelope ${timing.startSeconds.toFixed(2)} s after the spawn); CPU µs a row: ${perRow(cpu, rows)}${
        mainThread ? `; main thread ${describeSplit(mainThread)}` : ''
      }`,
    );
    return { rowsPerS: timing.rowsPerS, rawRowsPerS: rows / rawSeconds, peakRssMb: rss, cpu, ...(mainThread && { mainThread }) };
  } finally {
    await bridge.stop();
    await counter.deleteStream();
  }
}

/** The launcher keeps its process private: find mariadbd by its --port argument. */
function mariadbPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args[0]?.endsWith('mariadbd') && args.includes(`--port=${port}`)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

async function bareBinlogRead(host: string, port: number, password: string, filename: string, position: number, rows: number): Promise<number> {
  const ZongJi = require('@powersync/mysql-zongji') as new (options: Record<string, unknown>) => ZongjiLike;
  const zongji = new ZongJi({ host, port, user: 'root', password, dateStrings: true });
  const started = process.hrtime.bigint();
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    zongji.on('error', reject);
    zongji.on('binlog', (event) => {
      if (event.getTypeName() !== 'WriteRows') return;
      seen += event.rows?.length ?? 0;
      if (seen >= rows) resolve();
    });
    zongji.start({ serverId: 4242, filename, position, includeEvents: ['tablemap', 'writerows'], includeSchema: { bench: ['bench'] } });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  zongji.stop();
  return seconds;
}
