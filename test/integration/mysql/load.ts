// Load for the MariaDB crash and outage tests: a table whose every change bumps a per-row
// version, so the stream can be checked for "every committed change exactly once".
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { expect } from 'vitest';
import { versionProblems } from '../../support/pg-load.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { readWholeStream } from './helpers.ts';

export const COUNTER_MAPPING = `
table: legacy.counters
entity: counter
fields:
  id:      { from: id, type: integer }
  version: { from: version, type: integer }
  payload: { from: payload, type: string }
`;

async function connect(url: string): Promise<mysql.Connection> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 5_000 });
  connection.on('error', () => undefined);
  return connection;
}

export async function createCounters(url: string, rows: number): Promise<void> {
  const connection = await connect(url);
  try {
    await connection.query(`CREATE TABLE counters (id int PRIMARY KEY, version int NOT NULL, payload varchar(200))`);
    // MariaDB's sequence engine: seq_1_to_N is a table of 1..N.
    if (rows > 0) await connection.query(`INSERT INTO counters SELECT seq, 1, CONCAT(REPEAT('x', 60), seq) FROM seq_1_to_${rows}`);
  } finally {
    await connection.end();
  }
}

/**
 * Runs `transactions` transactions of `perTx` updates each on random ids in [1, rows]. Survives
 * a server restart (reconnects and retries the transaction that failed).
 */
export async function runCounterLoad(url: string, options: { rows: number; transactions: number; perTx: number }): Promise<number> {
  let connection: mysql.Connection | undefined;
  let committed = 0;
  for (let t = 0; t < options.transactions; ) {
    try {
      connection ??= await connect(url);
      const ids = Array.from({ length: options.perTx }, () => 1 + Math.floor(Math.random() * options.rows));
      await connection.query(`UPDATE counters SET version = version + 1 WHERE id IN (?)`, [ids]);
      committed += 1;
      t += 1;
    } catch {
      await connection?.end().catch(() => undefined);
      connection = undefined;
      await sleep(200);
    }
  }
  await connection?.end().catch(() => undefined);
  return committed;
}

export async function tableVersions(url: string): Promise<Map<number, number>> {
  const connection = await connect(url);
  try {
    const [rows] = await connection.query('SELECT id, version FROM counters');
    return new Map((rows as Array<{ id: number; version: number }>).map((r) => [r.id, r.version]));
  } finally {
    await connection.end();
  }
}

/** Waits until the stream's latest envelope per key equals the table, then checks ids, order and versions. */
export async function expectStreamEqualsTable(natsUrl: string, stream: string, entity: string, dbUrl: string, timeoutMs = 90_000): Promise<void> {
  const table = await tableVersions(dbUrl);
  let last = '';
  const messages = await waitFor(
    async () => {
      const all = await readWholeStream(natsUrl, stream);
      const live = liveRows(all, entity);
      const wrong = [...table].filter(([id, version]) => live.get(entity + id)?.version !== version);
      last = `${wrong.length} of ${table.size} rows differ, stream has ${live.size} keys in ${all.length} messages`;
      return wrong.length === 0 && live.size === table.size ? all : false;
    },
    { what: 'the stream to equal the table', timeoutMs, intervalMs: 1000 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${last}`);
  });
  expect(streamProblems(messages, entity)).toEqual([]);
  expect(versionProblems(messages, entity)).toEqual([]);
}
