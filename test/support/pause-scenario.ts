// The pause/resume scenarios (control/, ha/): two tables of the same shape, counters and gauges,
// both bumped by a steady load while one is paused. A paused table's changes wait in the
// `<stream>_HELD` stream until the resume replays them.
import { jetstreamManager } from '@nats-io/jetstream';
import type { FreshDatabase } from './context.ts';
import { pgSession } from './pg-helpers.ts';
import { createCounters } from './pg-load.ts';
import { readStream, withNats } from './stream.ts';
import { waitFor } from './wait.ts';

/** A mapping of `table` (id, version) to `entity`. */
export function versionMapping(table: string, entity: string): string {
  return `
table: ${table}
entity: ${entity}
fields:
  id:      { from: id, type: integer }
  version: { from: version, type: integer }
`;
}

export const GAUGE_MAPPING = versionMapping('public.gauges', 'gauge');

/** counters (pg-load.ts) and gauges, `rows` rows each at version 1. */
export async function createCountersAndGauges(db: FreshDatabase, rows: number): Promise<void> {
  await createCounters(db.url, rows);
  await db.query(`CREATE TABLE gauges (id integer PRIMARY KEY, version integer NOT NULL)`);
  await db.query(`INSERT INTO gauges SELECT g, 1 FROM generate_series(1, ${rows}) g`);
}

export interface SteadyLoad {
  /** Stops the load; resolves with the transactions it ran. */
  stop(): Promise<number>;
}

/**
 * Runs `step` on one session, 5 ms apart, until stopped or `max` transactions ran (a bound, so a
 * test that forgets to stop it still ends). `step` returns the transactions it ran.
 */
export function startSteadyLoad<S extends AsyncDisposable>(
  open: () => Promise<S>,
  step: (session: S) => Promise<number>,
  max = Number.POSITIVE_INFINITY,
): SteadyLoad {
  let stopped = false;
  const done = (async () => {
    await using session = await open();
    let transactions = 0;
    while (!stopped && transactions < max) {
      transactions += await step(session);
      // Pacing of the load generator, not a wait for a condition.
      await new Promise((r) => setTimeout(r, 5));
    }
    return transactions;
  })();
  return {
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

/** Three random rows of PostgreSQL counters, then of gauges, one transaction each, until stopped. */
export function startCounterGaugeLoad(url: string, rows: number, max?: number): SteadyLoad {
  return startSteadyLoad(
    () => pgSession(url),
    async (session) => {
      const ids = Array.from({ length: 3 }, () => 1 + Math.floor(Math.random() * rows));
      await session.query('UPDATE counters SET version = version + 1 WHERE id = ANY($1::int[])', [ids]);
      await session.query('UPDATE gauges SET version = version + 1 WHERE id = ANY($1::int[])', [ids]);
      return 2;
    },
    max,
  );
}

export interface PausedStream {
  /** Envelopes in the stream under a subject prefix. */
  count(prefix: string): Promise<number>;
  /** Waits until more than `beyond` envelopes are under `prefix`; returns how many. */
  grows(prefix: string, beyond: number, what: string): Promise<number>;
  /** Messages in the holding stream (0 before it exists). */
  heldMessages(): Promise<number>;
  /** Waits until the holding stream exists and is empty (purged once the replay is acknowledged). */
  waitForHeldPurged(what?: string): Promise<void>;
}

export function pausedStream(natsUrl: string, stream: string): PausedStream {
  const held = `${stream}_HELD`;
  const count = async (prefix: string): Promise<number> => (await readStream(natsUrl, stream, `${prefix}>`)).length;
  return {
    count,
    grows: (prefix, beyond, what) =>
      waitFor(async () => {
        const n = await count(prefix);
        return n > beyond ? n : false;
      }, { what, timeoutMs: 30_000, intervalMs: 200 }),
    heldMessages: () => withNats(natsUrl, async (nc) => (await (await jetstreamManager(nc)).streams.info(held).catch(() => undefined))?.state.messages ?? 0),
    async waitForHeldPurged(what = 'the holding stream to be purged') {
      await waitFor(() => withNats(natsUrl, async (nc) => (await (await jetstreamManager(nc)).streams.info(held)).state.messages === 0), {
        what,
        timeoutMs: 15_000,
        intervalMs: 200,
      });
    },
  };
}
