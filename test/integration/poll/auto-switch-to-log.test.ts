// capture: auto with a SELECT-only account polls; once a DBA grants what log capture needs, the
// bridge notices within `poll.recheck`, makes the log's start point durable (a slot), runs one
// last poll pass, and continues with log capture in position epoch 1, while a load keeps
// inserting, updating and deleting. The stream's latest envelope per key (by position) must
// equal the table, deletes included, and every envelope after the switch carries `~0001-`.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { readStream, streamProblems, type StoredMessage } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

/** Latest envelope per subject by position (what a last-write-wins consumer keeps). */
function latestByPosition(messages: StoredMessage[], prefix: string): Map<string, StoredMessage> {
  const latest = new Map<string, StoredMessage>();
  for (const m of messages) {
    if (!m.subject.startsWith(prefix)) continue;
    const held = latest.get(m.subject);
    if (!held || m.body.source.position > held.body.source.position) latest.set(m.subject, m);
  }
  return latest;
}

/** Inserts, updates and deletes on the counters table until stopped; bounded by `max` statements. */
function startLoad(url: string, firstId: number, max: number): { stop: () => Promise<number> } {
  let stopped = false;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let next = firstId;
    let n = 0;
    try {
      while (!stopped && n < max) {
        const r = Math.random();
        if (r < 0.4) await client.query(`INSERT INTO counters VALUES ($1, 1, $2)`, [next, `new ${next++}`]);
        else if (r < 0.8) await client.query(`UPDATE counters SET version = version + 1 WHERE id = (SELECT id FROM counters ORDER BY random() LIMIT 1)`);
        else await client.query(`DELETE FROM counters WHERE id = (SELECT id FROM counters ORDER BY random() LIMIT 1)`);
        n += 1;
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    } finally {
      await client.end();
    }
    return n;
  })();
  return {
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

describe('capture: auto switches a polled source to log capture', () => {
  it('PostgreSQL: REPLICATION granted while polling under load -> log capture in epoch 1, nothing lost', async () => {
    await using db = await freshDatabase('autoswitch');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 40);
    const role = await db.createRole('selectonly');
    await db.query(`GRANT SELECT ON counters TO "${role.name}"`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('autoswitch'),
      source: { name: 'src', url: role.url, extra: 'capture: auto\npoll: { interval: 200ms, debounce: 0ms, recheck: 1s }' },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    const entity = `${setup.prefix}.src.counter.`;
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/capture method poll \(log capture is not possible: /, 'polling');
    await waitFor(async () => (await readStream(natsUrl, setup.stream, `${entity}>`)).length >= 40, { what: 'the 40 rows', timeoutMs: 30_000 });

    const load = startLoad(db.url, 1000, 2000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 700));
      // What doctor asks a DBA for: the REPLICATION attribute, and a publication.
      await db.query(`ALTER ROLE "${role.name}" REPLICATION`);
      await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE counters`);
      await bridge.waitForOutput(/capture method poll -> log, position epoch 1/, 'the switch to log capture', 30_000);
      await bridge.waitForOutput(/streaming changes/, 'log capture to stream', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      expect(await load.stop()).toBeGreaterThan(20);
    }
    expect(bridge.output()).toMatch(/"event":"capture_method"[^\n]*"from":"poll"[^\n]*"to":"log"[^\n]*"epoch":1/);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const table = new Map(
      (await client.query<{ id: number; version: number; payload: string }>('SELECT id, version, payload FROM counters')).rows.map((r) => [entity + r.id, r]),
    );
    await client.end();
    let difference = '';
    const messages = await waitFor(
      async () => {
        const all = await readStream(natsUrl, setup.stream, `${entity}>`);
        const latest = latestByPosition(all, entity);
        const wrong = [...table].filter(([subject, row]) => JSON.stringify(latest.get(subject)?.body.after) !== JSON.stringify(row));
        const extra = [...latest].filter(([subject, m]) => !table.has(subject) && m.body.op !== 'd');
        difference = `${wrong.length} rows differ, ${extra.length} deleted keys not ending on d; e.g. ${JSON.stringify(wrong[0])} ${JSON.stringify(latest.get(wrong[0]?.[0] ?? '')?.body)}`;
        return wrong.length === 0 && extra.length === 0 ? all : false;
      },
      { what: 'the stream (latest by position) to equal the table', timeoutMs: 30_000, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${difference}\n--- bridge ---\n${bridge.output().slice(-3000)}`);
    });

    expect(streamProblems(messages, entity)).toEqual([]);
    const firstLog = messages.findIndex((m) => m.body.source.capture === 'log');
    expect(firstLog).toBeGreaterThan(0);
    const before = messages.slice(0, firstLog);
    const after = messages.slice(firstLog);
    expect(new Set(before.map((m) => m.body.source.capture))).toEqual(new Set(['poll']));
    expect(before.every((m) => /^\d{13}-/.test(m.body.source.position))).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    for (const m of after) expect(m.body.source.position, JSON.stringify(m.body.source)).toMatch(/^~0001-[0-9A-F]{16}-[0-9A-F]{8}$/);
    expect(new Set(after.map((m) => m.body.op))).toContain('d');
    expect(await bridge.stop()).toBe(0);
  }, 120_000);
});
