// Load for crash tests: a table whose every change bumps a per-row version, so the stream can
// be checked for "every committed change exactly once" (versions consecutive per key).
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { expect } from 'vitest';
import { liveRows, readStream, streamProblems, withNats, type StoredMessage } from './stream.ts';
import { waitFor } from './wait.ts';

export const COUNTER_MAPPING = `
table: public.counters
entity: counter
fields:
  id:      { from: id, type: integer }
  version: { from: version, type: integer }
  payload: { from: payload, type: string }
`;

export async function createCounters(url: string, rows: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE counters (id integer PRIMARY KEY, version integer NOT NULL, payload text)`);
    if (rows > 0) await client.query(`INSERT INTO counters SELECT g, 1, repeat('x', 60) || g FROM generate_series(1, $1) g`, [rows]);
  } finally {
    await client.end();
  }
}

/**
 * Runs `transactions` transactions of `perTx` updates each on random ids in [1, rows].
 * Survives a PostgreSQL restart (reconnects and retries the failed transaction).
 */
export async function runCounterLoad(url: string, options: { rows: number; transactions: number; perTx: number; signal?: AbortSignal }): Promise<number> {
  let client: pg.Client | undefined;
  let committed = 0;
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  for (let t = 0; t < options.transactions; ) {
    options.signal?.throwIfAborted();
    try {
      client ??= await connect();
      const ids = Array.from({ length: options.perTx }, () => 1 + Math.floor(Math.random() * options.rows));
      await client.query(`UPDATE counters SET version = version + 1 WHERE id = ANY($1::int[])`, [ids]);
      committed += 1;
      t += 1;
    } catch {
      await client?.end().catch(() => undefined);
      client = undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await client?.end().catch(() => undefined);
  return committed;
}

/**
 * Problems with per-key versions in the stream: gaps (a lost change) or repeats (a duplicate).
 * One repeat is legitimate: a snapshot resumed after a crash reads rows under a newer
 * snapshot, so its `r` row may already show the state that the next replayed change carries
 * (docs/postgres-capture.md explains why the end state is still exact).
 */
export function versionProblems(messages: StoredMessage[], entityPrefix: string): string[] {
  const versions = new Map<string, Array<{ version: number; op: string }>>();
  for (const m of messages) {
    if (!m.subject.startsWith(entityPrefix) || m.body.op === 'd') continue;
    const list = versions.get(m.subject) ?? [];
    list.push({ version: m.body.after.version, op: m.body.op });
    versions.set(m.subject, list);
  }
  const problems: string[] = [];
  for (const [subject, list] of versions) {
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1]!;
      const current = list[i]!;
      if (current.version === previous.version + 1) continue;
      if (previous.op === 'r' && current.version <= previous.version) continue;
      problems.push(`${subject}: version ${current.version} (${current.op}) after ${previous.version} (${previous.op})`);
    }
  }
  return problems;
}

/** id -> version of every row of `table` (counters, or another table of the same shape). */
export async function tableVersions(url: string, table = 'counters'): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number; version: number }>(`SELECT id, version FROM ${table}`);
    return new Map(rows.map((r) => [r.id, r.version]));
  } finally {
    await client.end();
  }
}

/** Messages in a stream now (0 when it does not exist yet). */
export async function streamCount(natsUrl: string, stream: string): Promise<number> {
  return withNats(natsUrl, async (nc) => (await (await jetstreamManager(nc)).streams.info(stream).catch(() => undefined))?.state.messages ?? 0);
}

/** Subject -> mapped row (id, version, payload) of every counters row, as COUNTER_MAPPING maps it. */
export async function counterRows(url: string, entity: string): Promise<Map<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number; version: number; payload: string }>('SELECT id, version, payload FROM counters');
    return new Map(rows.map((r) => [entity + r.id, { id: r.id, version: r.version, payload: r.payload }]));
  } finally {
    await client.end();
  }
}

/**
 * Waits until the stream's latest envelope per key matches the counters table (or `table`, of
 * the same id/version shape), then checks that no id repeats, positions rise per key, and no
 * version is missing or doubled. Returns the whole stream as read then.
 */
export async function expectStreamEqualsTable(natsUrl: string, stream: string, entity: string, dbUrl: string, table = 'counters'): Promise<StoredMessage[]> {
  const versions = await tableVersions(dbUrl, table);
  let last = '';
  const messages = await waitFor(
    async () => {
      const all = await readStream(natsUrl, stream);
      const live = liveRows(all, entity);
      const wrong = [...versions].filter(([id, version]) => live.get(entity + id)?.version !== version);
      last = `${wrong.length} of ${versions.size} rows differ, stream has ${live.size}`;
      return wrong.length === 0 && live.size === versions.size ? all : false;
    },
    { what: `the stream to equal the table ${table}`, timeoutMs: 120_000, intervalMs: 1000 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${last}`);
  });
  expect(streamProblems(messages, entity)).toEqual([]);
  expect(versionProblems(messages, entity)).toEqual([]);
  return messages;
}
