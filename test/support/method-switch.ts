// Shared by the capture-method switch tests (poll -> log, log -> poll): a load of inserts,
// updates and deletes on the counters table, what a last-write-wins consumer ends up with, and
// the order of positions per key.
import pg from 'pg';
import type { BridgeProcess } from './bridge.ts';
import { readStream, type StoredMessage } from './stream.ts';
import { waitFor } from './wait.ts';

export interface MixedLoad {
  /** Statements run so far. */
  count(): number;
  /** Resolves once `max` statements ran (or the load was stopped). */
  finished: Promise<number>;
  stop(): Promise<number>;
}

/**
 * Inserts (ids from `firstId` on), updates and, if `deletes`, deletes on the PostgreSQL counters
 * table, 15 ms apart, until stopped; bounded by `max` statements.
 */
export function startMixedLoad(url: string, options: { firstId: number; max: number; deletes: boolean }): MixedLoad {
  let stopped = false;
  let n = 0;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let next = options.firstId;
    try {
      while (!stopped && n < options.max) {
        const r = Math.random();
        if (r < 0.4) await client.query(`INSERT INTO counters VALUES ($1, 1, $2)`, [next, `new ${next++}`]);
        else if (r < 0.8 || !options.deletes) await client.query(`UPDATE counters SET version = version + 1 WHERE id = (SELECT id FROM counters ORDER BY random() LIMIT 1)`);
        else await client.query(`DELETE FROM counters WHERE id = (SELECT id FROM counters ORDER BY random() LIMIT 1)`);
        n += 1;
        // Pacing of the load generator, not a wait for a condition.
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    } finally {
      await client.end();
    }
    return n;
  })();
  return {
    count: () => n,
    finished: done,
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

/** Latest envelope per subject by position (what a last-write-wins consumer keeps). */
export function latestByPosition(messages: StoredMessage[], prefix: string): Map<string, StoredMessage> {
  const latest = new Map<string, StoredMessage>();
  for (const m of messages) {
    if (!m.subject.startsWith(prefix)) continue;
    const held = latest.get(m.subject);
    if (!held || m.body.source.position > held.body.source.position) latest.set(m.subject, m);
  }
  return latest;
}

/**
 * Differences between the table (subject -> mapped row) and what a consumer applying the
 * envelope with the greatest position per key holds: rows that differ, and keys gone from the
 * table whose latest envelope is not a `d`.
 */
export function lastWriteWinsDifferences(messages: StoredMessage[], prefix: string, table: Map<string, unknown>): string[] {
  const latest = latestByPosition(messages, prefix);
  const problems: string[] = [];
  for (const [subject, row] of table) {
    const m = latest.get(subject);
    if (!m || m.body.op === 'd' || JSON.stringify(m.body.after) !== JSON.stringify(row)) {
      problems.push(`${subject}: table ${JSON.stringify(row)}, stream ${m ? `${m.body.op} ${m.body.source.position} ${JSON.stringify(m.body.after)}` : 'nothing'}`);
    }
  }
  for (const [subject, m] of latest) {
    if (!table.has(subject) && m.body.op !== 'd') problems.push(`${subject}: deleted in the table, stream ends on ${m.body.op} ${m.body.source.position}`);
  }
  return problems;
}

/** Per key, positions must rise strictly in stream order (no exception for `r`). */
export function strictPositionProblems(messages: StoredMessage[], prefix: string): string[] {
  const last = new Map<string, StoredMessage>();
  const problems: string[] = [];
  for (const m of messages) {
    if (!m.subject.startsWith(prefix)) continue;
    const previous = last.get(m.subject);
    if (previous && !(m.body.source.position > previous.body.source.position)) {
      problems.push(
        `${m.subject}: seq ${m.seq} ${m.body.op} ${m.body.source.position} not after seq ${previous.seq} ${previous.body.op} ${previous.body.source.position}`,
      );
    }
    last.set(m.subject, m);
  }
  return problems;
}

/**
 * Waits until lastWriteWinsDifferences of the stream under `entity` and `table` is empty;
 * returns the entity's messages then. On timeout the error lists the differences and the tail
 * of the bridge's output.
 */
export async function waitForLastWriteWins(
  natsUrl: string,
  stream: string,
  entity: string,
  table: Map<string, unknown>,
  options: { what: string; bridge: BridgeProcess; timeoutMs?: number; intervalMs?: number },
): Promise<StoredMessage[]> {
  let difference: string[] = [];
  return waitFor(
    async () => {
      const all = await readStream(natsUrl, stream, `${entity}>`);
      difference = lastWriteWinsDifferences(all, entity, table);
      return difference.length === 0 ? all : false;
    },
    { what: options.what, timeoutMs: options.timeoutMs ?? 30_000, intervalMs: options.intervalMs ?? 500 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${difference.length} differences, e.g.\n${difference.slice(0, 5).join('\n')}\n--- bridge ---\n${options.bridge.output().slice(-3000)}`);
  });
}
