// The account a DBA hands out: SELECT on the legacy database, REPLICATION SLAVE and
// REPLICATION CLIENT, nothing else (no RELOAD, no LOCK TABLES, no write). With it the bridge
// snapshots, streams, resumes after a SIGKILL by GTID, and `doctor` says log capture works;
// and the bridge leaves the server exactly as it found it.
import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';
import { legacyMariadb, mysqlSession, under, waitForStream } from './helpers.ts';

const MAPPING = `
table: legacy.bridges
entity: bridge
fields:
  id:    { from: BRIDGE_ID, type: integer }
  name:  { from: NAME, type: string }
  span:  { from: SPAN_M, type: decimal }
`;

describe('read-only-credentials (MariaDB)', () => {
  it('snapshots, streams and resumes with SELECT, REPLICATION SLAVE and REPLICATION CLIENT only', async () => {
    await using db = await legacyMariadb();
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    // Exactly the three privileges (MariaDB spells REPLICATION CLIENT as BINLOG MONITOR).
    const grants = (await db.server.query<Array<Record<string, string>>>(`SHOW GRANTS FOR ?@'%'`, [db.reader.user])).map((r) => Object.values(r)[0]!.replace(/ IDENTIFIED BY PASSWORD '[^']*'/, ''));
    expect(grants.sort()).toEqual([
      `GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO \`${db.reader.user}\`@\`%\``,
      `GRANT SELECT ON \`legacy\`.* TO \`${db.reader.user}\`@\`%\``,
    ]);
    await using session = await mysqlSession(db.rootUrl);
    await session.query(`CREATE TABLE bridges (BRIDGE_ID int PRIMARY KEY, NAME varchar(80), SPAN_M decimal(9,2))`);
    await session.query(`INSERT INTO bridges SELECT seq, CONCAT('Bridge ', seq), seq * 1.5 FROM seq_1_to_50`);
    const objectsBefore = await db.query(`SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys') ORDER BY 1, 2`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('my_readonly'),
      source: { name: 'src', kind: 'mysql', url: db.readerUrl },
      mappings: { 'BRIDGES.yaml': MAPPING },
    });

    const doctor = await runCli(['doctor', '-c', setup.configPath]);
    expect(doctor.stdout).toMatch(/source src \(mysql 127\.0\.0\.1:\d+\/legacy\): capture method log \(row binlog\)/);
    expect(doctor.stdout).toMatch(/ok {3}REPLICATION SLAVE and REPLICATION CLIENT granted/);
    expect(doctor.stdout).toMatch(/ok {3}legacy\.bridges: readable, key BRIDGE_ID/);
    expect(doctor.stdout).not.toMatch(/FAIL/);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);

    let bridge: BridgeProcess = startBridgeProcess(['run', '-c', setup.configPath]);
    try {
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      expect(bridge.output()).toMatch(/"by":"gtid"/);
      await session.query(`UPDATE bridges SET SPAN_M = SPAN_M + 0.01 WHERE BRIDGE_ID <= 10`);
      const entity = `${setup.prefix}.src.bridge.`;
      await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).length >= 60, 'the snapshot and the first updates');
      await bridge.kill();
      // Changed while the bridge is down; read back from the binlog by GTID after the restart.
      await session.query(`DELETE FROM bridges WHERE BRIDGE_ID > 45`);
      await session.query(`INSERT INTO bridges VALUES (51, 'Bridge 51', 99.99)`);
      bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/streaming changes/, 'the restarted bridge to stream');
      expect(bridge.output()).toMatch(/"by":"gtid"/);
      const messages = await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).length >= 66, 'the changes made while the bridge was down');
      expect(streamProblems(messages, entity)).toEqual([]);
      const table = await db.query<Array<{ BRIDGE_ID: number; NAME: string; SPAN_M: string }>>('SELECT * FROM bridges ORDER BY BRIDGE_ID');
      const live = liveRows(messages, entity);
      expect(live.size).toBe(table.length);
      for (const row of table) expect(live.get(entity + row.BRIDGE_ID)).toEqual({ id: row.BRIDGE_ID, name: row.NAME, span: row.SPAN_M });
      expect(bridge.output()).not.toMatch(/retryInMs/);
      expect(await bridge.stop()).toBe(0);
    } finally {
      await bridge.kill();
    }
    // Nothing created on the server (and the account could not have written anything).
    expect(await db.query(`SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys') ORDER BY 1, 2`)).toEqual(objectsBefore);
  }, 120_000);
});
