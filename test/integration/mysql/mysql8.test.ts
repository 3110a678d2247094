// MySQL 8 (Docker image mysql:8, through testcontainers) with a replication-only account that
// authenticates with MySQL 8's default caching_sha2_password: snapshot, row binlog (v2 rows
// events, binary JSON, GTID events), exact types, and a resume after SIGKILL by file:pos.
// Runs only where a Docker engine answers; elsewhere it is skipped and says why.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { startMysqlContainer } from '../../support/containers.ts';
import { uniqueName } from '../../support/context.ts';
import { dockerAvailable } from '../../support/servers.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { MYSQL_POSITION, mysqlSession, under, waitForStream } from './helpers.ts';

const docker = await dockerAvailable();
const SKIPPED = docker ? '' : ' (skipped: no Docker engine answers `docker info`; MySQL 8 runs only in a container here)';

const MAPPING = `
table: legacy.orders
entity: order
fields:
  id:      { from: id, type: integer }
  amount:  { from: amount, type: decimal }
  placed:  { from: placed, type: timestamp }
  local:   { from: local_time, type: timestamp }
  big:     { from: big, type: bigint }
  yr:      { from: yr, type: integer }
  doc:     { from: doc, type: json }
  note:    { from: note, type: string }
unmapped: error
`;

describe.skipIf(!docker)(`MySQL 8 via testcontainers${SKIPPED}`, () => {
  it('snapshots and streams with a caching_sha2_password replication account, resumes after SIGKILL', async () => {
    await using server = await startMysqlContainer({ settings: { 'binlog-row-metadata': 'FULL', 'gtid-mode': 'ON', 'enforce-gtid-consistency': 'ON' } });
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await server.query('CREATE DATABASE legacy CHARACTER SET utf8mb4');
    await server.query(`CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-pw'`);
    await server.query(`GRANT SELECT ON legacy.* TO 'reader'@'%'`);
    await server.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'reader'@'%'`);
    await using session = await mysqlSession(server.rootUrl('legacy'));
    await session.query(`SET time_zone = '+00:00'`);
    await session.query(`CREATE TABLE orders (id int PRIMARY KEY, amount decimal(38,10), placed timestamp(6) NULL, local_time datetime(3),
      big bigint unsigned, yr year, doc json, note text)`);
    const insert = `INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
    const row = (id: number) => [id, '12345678901234567890.1234567890', '2024-03-10 06:59:59.123456', '2024-07-01 12:00:00.500', '18446744073709551615', 2024, '{"a": [1, 2.5, "x"], "n": 9007199254740993}', `note ${id}`];
    for (let id = 1; id <= 3; id++) await session.query(insert, row(id));
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_mysql8'),
      source: { name: 'm8', kind: 'mysql', url: server.url('reader', 'reader-pw', 'legacy') },
      mappings: { 'ORDERS.yaml': MAPPING },
    });
    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 60_000);
      expect(bridge.output()).toMatch(/"by":"file:pos"/);
      for (let id = 4; id <= 6; id++) await session.query(insert, row(id));
      await session.query(`UPDATE orders SET amount = '-0.0000000001', note = 'changed' WHERE id = 2`);
      const entity = `${setup.prefix}.m8.order.`;
      await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).length >= 7, 'the snapshot and the first changes');
      await bridge.kill();
      await session.query(`DELETE FROM orders WHERE id = 1`);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).some((m) => m.body.op === 'd'), 'the delete made while the bridge was down', 60_000);
      const envelopes = under(messages, entity);
      expect(streamProblems(messages, entity)).toEqual([]);
      for (const m of envelopes) expect(m.body.source.position).toMatch(MYSQL_POSITION);
      const expected = {
        amount: '12345678901234567890.1234567890',
        placed: '2024-03-10T06:59:59.123456Z',
        local: '2024-07-01T12:00:00.500Z',
        big: '18446744073709551615',
        yr: 2024,
        doc: { a: [1, 2.5, 'x'], n: 9007199254740993 },
      };
      const snapshot = envelopes.find((m) => m.body.op === 'r' && m.body.key.id === 3)!.body;
      const inserted = envelopes.find((m) => m.body.op === 'c' && m.body.key.id === 5)!.body;
      expect(snapshot.after).toMatchObject({ id: 3, note: 'note 3', ...expected });
      expect(inserted.after).toMatchObject({ id: 5, note: 'note 5', ...expected });
      const live = liveRows(messages, entity);
      expect([...live.keys()].sort()).toEqual([2, 3, 4, 5, 6].map((id) => entity + id).sort());
      expect(live.get(`${entity}2`)).toMatchObject({ amount: '-0.0000000001', note: 'changed' });
      expect(under(messages, `${setup.prefix}.m8.dlq.`)).toEqual([]);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
  }, 300_000);
});
