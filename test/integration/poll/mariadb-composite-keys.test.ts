// Polling MariaDB with a SELECT-only account, over a composite (text, integer) key paged in
// chunks of 3 rows: every row once as `r`, then inserts, updates and deletes anywhere in the
// key space, values in canonical form (DECIMAL exact, BIGINT beyond 2^53, DATETIME as a
// zone-less timestamp, TIMESTAMP in UTC), an idle pass that reads no rows, and chunks that
// split as a range fills up.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { uniqueName } from '../../support/context.ts';
import { under, waitForStream } from '../../support/pg-helpers.ts';
import { startPollBridge } from '../../support/poll-harness.ts';
import { startMariadb } from '../../support/servers.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';

const MAPPING = `
table: legacy.segments
entity: segment
key: [ROUTE, SEQ]
fields:
  route:   { from: ROUTE, type: string }
  seq:     { from: SEQ, type: integer }
  length:  { from: LEN, type: decimal }
  counter: { from: BIG, type: bigint }
  localAt: { from: LOCAL_AT, type: timestamp }
  stamped: { from: STAMPED, type: timestamp }
`;

const ROUTES = ['I-95', 'US 1', 'Z\u00fcrich', 'a,b', "o'hare"];

describe('poll: mariadb composite keys', () => {
  it('finds inserts, updates and deletes over a (text, integer) key with a SELECT-only account', async () => {
    await using maria = await startMariadb();
    await maria.query('CREATE DATABASE legacy CHARACTER SET utf8mb4');
    await maria.query(
      `CREATE TABLE legacy.segments (ROUTE varchar(40) NOT NULL, SEQ int NOT NULL, LEN decimal(12,4), BIG bigint, LOCAL_AT datetime(3), STAMPED timestamp NULL, NOTE text, PRIMARY KEY (ROUTE, SEQ))`,
    );
    const rows: unknown[][] = [];
    for (const route of ROUTES) for (let seq = 1; seq <= 6; seq++) rows.push([route, seq, `${seq}.1250`, '9007199254740993', '2024-02-29 23:59:59.125', '2024-03-01 00:00:00', 'n']);
    await maria.query('INSERT INTO legacy.segments VALUES ?', [rows]);
    const password = randomBytes(9).toString('hex');
    await maria.query(`CREATE USER 'poller'@'%' IDENTIFIED BY '${password}'`);
    await maria.query(`GRANT SELECT ON legacy.* TO 'poller'@'%'`);

    await using bridge = await startPollBridge({
      natsUrl: inject('natsUrl'),
      id: uniqueName('pollmaria'),
      source: { name: 'maria', kind: 'mysql', url: maria.url('poller', password, 'legacy') },
      mappings: { 'SEGMENTS.yaml': MAPPING },
      poll: { intervalMs: 100, chunkSize: 3 },
    });
    const entity = `${bridge.prefix}.maria.segment.`;
    let messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 30, '30 r envelopes');
    const snapshot = under(messages, entity);
    expect(snapshot).toHaveLength(30);
    expect(new Set(snapshot.map((m) => JSON.stringify(m.body.key))).size).toBe(30);
    expect(snapshot.find((m) => m.body.key.route === "o'hare" && m.body.key.seq === 2)!.body.after).toEqual({
      route: "o'hare",
      seq: 2,
      length: '2.1250',
      counter: '9007199254740993',
      localAt: '2024-02-29T23:59:59.125Z',
      stamped: '2024-03-01T00:00:00.000Z',
    });

    const idleFrom = bridge.passes();
    await bridge.waitForPasses(idleFrom + 2);
    // 10 chunks of 3 rows: one group, one checksum statement.
    expect(bridge.source.stats!.last).toMatchObject({ rowsRead: 0, rowQueries: 0, checksumQueries: 1 });
    expect(bridge.source.stats!.chunks).toBe(10);

    // Fill one range past twice the chunk size (it splits), change and delete elsewhere.
    const fill: unknown[][] = [];
    for (let seq = 100; seq < 110; seq++) fill.push(['US 1', seq, '1', '1', null, null, 'n']);
    await maria.query('INSERT INTO legacy.segments VALUES ?', [fill]);
    await maria.query(`UPDATE legacy.segments SET LEN = 7.0001, STAMPED = '2025-01-02 03:04:05' WHERE ROUTE = 'a,b' AND SEQ = 4`);
    await maria.query(`UPDATE legacy.segments SET NOTE = 'unmapped column only' WHERE ROUTE = 'I-95' AND SEQ = 1`);
    await maria.query(`DELETE FROM legacy.segments WHERE ROUTE = 'Z\u00fcrich' AND SEQ IN (1, 6)`);
    await maria.query(`INSERT INTO legacy.segments VALUES ('', 0, NULL, NULL, NULL, NULL, 'n'), ('zz', 1, NULL, NULL, NULL, NULL, 'n')`);

    messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 30 + 15, '15 change envelopes');
    const changes = under(messages, entity).filter((m) => m.body.op !== 'r');
    const summary = changes.map((m) => `${m.body.op} ${m.body.key.route}/${m.body.key.seq}`).sort();
    expect(summary).toEqual(
      [
        ...Array.from({ length: 10 }, (_, i) => `c US 1/${100 + i}`),
        'c /0',
        'c zz/1',
        'd Z\u00fcrich/1',
        'd Z\u00fcrich/6',
        'u a,b/4',
      ].sort(),
    );
    expect(changes.find((m) => m.body.op === 'u')!.body.after).toMatchObject({ length: '7.0001', stamped: '2025-01-02T03:04:05.000Z' });

    // After the split the table is quiet again: no rows read.
    const after = bridge.passes();
    await bridge.waitForPasses(after + 2);
    expect(bridge.source.stats!.last).toMatchObject({ rowsRead: 0, changes: 0 });
    // The filled range (3 + 10 rows) was cut into chunks of 3; the two new extremes joined the end chunks.
    expect(bridge.source.stats!.chunks).toBeGreaterThanOrEqual(13);

    messages = await waitForStream(inject('natsUrl'), bridge.stream, () => true, 'the stream');
    expect(under(messages, entity)).toHaveLength(45);
    expect(streamProblems(messages, entity)).toEqual([]);
    const table = await maria.query<Array<{ ROUTE: string; SEQ: number }>>('SELECT ROUTE, SEQ FROM legacy.segments');
    const live = liveRows(messages, entity);
    expect([...live.values()].map((a) => `${a.route}/${a.seq}`).sort()).toEqual(table.map((r) => `${r.ROUTE}/${r.SEQ}`).sort());
    await bridge.stop();
  });
});
