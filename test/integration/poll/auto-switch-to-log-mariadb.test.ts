// capture: auto on MariaDB with a SELECT-only account polls; once a DBA grants REPLICATION SLAVE
// and REPLICATION CLIENT, the bridge notices within `poll.recheck`, makes the binlog start point
// durable (the point of a consistent snapshot), runs one last poll pass and continues with
// binlog capture in position epoch 1, while a load keeps inserting, updating and deleting.
// The stream's latest envelope per key (by position) must equal the table, deletes included,
// every envelope from the first log one on carries `~0001-`, and per key the positions rise
// strictly in stream order.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { strictPositionProblems, waitForLastWriteWins } from '../../support/method-switch.ts';
import { readStream, streamProblems } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { legacyMariadb, mysqlSession } from '../mysql/helpers.ts';

const MAPPING = `
table: legacy.counters
entity: counter
fields:
  id:      { from: id, type: integer }
  version: { from: version, type: integer }
  payload: { from: payload, type: string }
`;

/** Inserts, updates and deletes on legacy.counters until stopped; bounded by `max` statements. */
function startLoad(url: string, firstId: number, max: number): { stop: () => Promise<number>; count: () => number } {
  let stopped = false;
  let n = 0;
  const done = (async () => {
    await using session = await mysqlSession(url);
    let next = firstId;
    while (!stopped && n < max) {
      const r = Math.random();
      if (r < 0.4) await session.query('INSERT INTO counters VALUES (?, 1, ?)', [next, `new ${next++}`]);
      else if (r < 0.8) await session.query('UPDATE counters SET version = version + 1 ORDER BY RAND() LIMIT 1');
      else if (r < 0.9) await session.query('DELETE FROM counters ORDER BY RAND() LIMIT 1');
      else {
        // A small transaction touching several rows.
        await session.transaction([
          ['INSERT INTO counters VALUES (?, 1, ?)', [next, `tx ${next++}`]],
          'UPDATE counters SET version = version + 1 ORDER BY RAND() LIMIT 3',
          'DELETE FROM counters ORDER BY RAND() LIMIT 1',
        ]);
      }
      n += 1;
      // Pacing of the load generator, not a wait for a condition.
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    return n;
  })();
  return {
    count: () => n,
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

describe('capture: auto switches a polled MariaDB source to binlog capture', () => {
  it('REPLICATION SLAVE, REPLICATION CLIENT granted while polling under load -> binlog capture in epoch 1, nothing lost', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await db.query('CREATE TABLE counters (id int PRIMARY KEY, version int NOT NULL, payload varchar(100))');
    await db.query(`INSERT INTO counters SELECT seq, 1, CONCAT('seed ', seq) FROM seq_1_to_40`);
    // Not the helper's reader (it has the replication privileges): SELECT on the database only.
    const user = `selectonly_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await db.server.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
    await db.server.query(`GRANT SELECT ON \`${db.database}\`.* TO ?@'%'`, [user]);

    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_autoswitch'),
      source: { name: 'src', kind: 'mysql', url: db.server.url(user, password, db.database), extra: 'capture: auto\npoll: { interval: 200ms, debounce: 0ms, recheck: 1s }' },
      mappings: { 'counters.yaml': MAPPING },
    });
    const entity = `${setup.prefix}.src.counter.`;
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/capture method poll \(log capture is not possible: /, 'polling');
    await waitFor(async () => (await readStream(natsUrl, setup.stream, `${entity}>`)).length >= 40, { what: 'the 40 rows', timeoutMs: 30_000 });

    const load = startLoad(db.rootUrl, 1000, 1500);
    let grantedAt = 0;
    let switchMs = 0;
    try {
      await waitFor(() => load.count() >= 40, { what: 'the load to run while polling', timeoutMs: 20_000, intervalMs: 20 });
      // What doctor asks a DBA for. GRANT updates the in-memory privileges; FLUSH does no harm.
      await db.server.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ?@'%'`, [user]);
      await db.server.query('FLUSH PRIVILEGES');
      grantedAt = Date.now();
      await bridge.waitForOutput(/capture method poll -> log, position epoch 1/, 'the switch to binlog capture', 30_000);
      switchMs = Date.now() - grantedAt;
      await bridge.waitForOutput(/streaming changes/, 'binlog capture to stream', 30_000);
      // Load keeps running on binlog capture for a while.
      const atStream = load.count();
      await waitFor(() => load.count() >= atStream + 60, { what: 'the load to run under binlog capture', timeoutMs: 20_000, intervalMs: 20 });
    } finally {
      expect(await load.stop()).toBeGreaterThan(100);
    }
    console.log(`[auto-switch-to-log-mariadb] switch logged ${switchMs} ms after the grant`);
    expect(bridge.output()).toMatch(/"event":"capture_method"[^\n]*"from":"poll"[^\n]*"to":"log"[^\n]*"epoch":1/);

    const rows = await db.query<Array<{ id: number; version: number; payload: string }>>('SELECT id, version, payload FROM counters');
    const table = new Map<string, unknown>(rows.map((r) => [entity + r.id, { id: r.id, version: r.version, payload: r.payload }]));
    const messages = await waitForLastWriteWins(natsUrl, setup.stream, entity, table, { what: 'the stream (latest by position) to equal the table', bridge });

    expect(streamProblems(messages, entity)).toEqual([]);
    expect(strictPositionProblems(messages, entity)).toEqual([]);
    const firstLog = messages.findIndex((m) => m.body.source.capture === 'log');
    expect(firstLog).toBeGreaterThan(0);
    const before = messages.slice(0, firstLog);
    const after = messages.slice(firstLog);
    expect(new Set(before.map((m) => m.body.source.capture))).toEqual(new Set(['poll']));
    expect(before.every((m) => /^\d{13}-[0-9A-F]{8}-[0-9A-F]{8}$/.test(m.body.source.position))).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    for (const m of after) {
      expect(m.body.source.capture).toBe('log');
      expect(m.body.source.position, JSON.stringify(m.body.source)).toMatch(/^~0001-\d{10}-\d{10}-[0-9A-F]{8}$/);
    }
    expect(new Set(after.map((m) => m.body.op))).toEqual(new Set(['c', 'u', 'd']));
    expect(await bridge.stop()).toBe(0);
  }, 150_000);
});
