// What a DBA sees when something is wrong: an unreachable server, a wrong password, a missing
// grant, a binlog that is not row-based, a resume point whose binlog was purged. Each is one
// clear line naming the server and what to do; the job retries (with its back-off) and never
// skips changes silently. The purge case ends with the documented remedy: a new snapshot.
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { uniqueName } from '../../support/context.ts';
import { freePort } from '../../support/servers.ts';
import { liveRows, withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';
import { createReader, legacyMariadb, mysqlSession, under, waitForStream, type LegacyMariadb } from './helpers.ts';

const MAPPING = `
table: legacy.items
entity: item
fields:
  id:    { from: id, type: integer }
  label: { from: label, type: string }
`;

/** The JSON log lines of a bridge at level error. */
function errorLines(output: string): Array<{ msg: string; code?: string; retryInMs?: number }> {
  return output
    .slice(0, output.lastIndexOf('\n') + 1) // complete lines: the last may still be arriving
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"level":50'))
    .map((l) => JSON.parse(l));
}

describe('connection errors (MariaDB)', () => {
  let db: LegacyMariadb;
  beforeAll(async () => {
    db = await legacyMariadb();
    await db.query(`CREATE TABLE items (id int PRIMARY KEY, label varchar(40))`);
    await db.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two')`);
  });
  afterAll(async () => {
    await db?.[Symbol.asyncDispose]();
  });

  const files = (ws: ReturnType<typeof workspace>, url: string, id: string) =>
    writeBridgeFiles(ws, { natsUrl: inject('natsUrl'), id: uniqueName(id), source: { name: 'src', kind: 'mysql', url, extra: 'capture: log' }, mappings: { 'ITEMS.yaml': MAPPING } });

  it('an unreachable server: names it and retries soon, again and again', async () => {
    using ws = workspace();
    const port = await freePort();
    const setup = files(ws, `mysql://reader:pw@127.0.0.1:${port}/legacy`, 'my_unreach');
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/(retryInMs[\s\S]*){2}/, 'two failed attempts');
    const [first] = errorLines(bridge.output());
    expect(first).toMatchObject({ code: 'SOURCE_UNREACHABLE' });
    expect(first!.msg).toMatch(new RegExp(`^mysql 127\\.0\\.0\\.1:${port}/legacy: .*ECONNREFUSED`));
    expect(first!.retryInMs).toBeLessThanOrEqual(1_000);
  });

  it('a wrong password: says to check the url, waits long before the next attempt', async () => {
    using ws = workspace();
    const setup = files(ws, db.server.url(db.reader.user, 'wrong-password', 'legacy'), 'my_badpw');
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/retryInMs/, 'the failed attempt');
    const [line] = errorLines(bridge.output());
    expect(line).toMatchObject({ code: 'SOURCE_AUTH', retryInMs: 60_000 });
    expect(line!.msg).toMatch(/^mysql 127\.0\.0\.1:\d+\/legacy: authentication failed \(Access denied for user .*\); check the user and password in the source url$/);
    expect(bridge.output()).not.toContain('wrong-password');
  });

  it('a missing grant: names the privilege and the GRANT to run, before any snapshot', async () => {
    using ws = workspace();
    const noSlave = `noslave_${Date.now().toString(36)}`;
    await db.server.query(`CREATE USER ?@'%' IDENTIFIED BY 'pw'`, [noSlave]);
    await db.server.query(`GRANT SELECT ON legacy.* TO ?@'%'`, [noSlave]);
    await db.server.query(`GRANT REPLICATION CLIENT ON *.* TO ?@'%'`, [noSlave]);
    const setup = files(ws, db.server.url(noSlave, 'pw', 'legacy'), 'my_noslave');
    {
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/retryInMs/, 'the failed attempt');
      const [line] = errorLines(bridge.output());
      expect(line).toMatchObject({ code: 'SOURCE_PRIVILEGE', retryInMs: 60_000 });
      expect(line!.msg).toBe(
        `mysql 127.0.0.1:${db.server.port}/legacy: ${noSlave}@% lacks REPLICATION SLAVE, needed to read the binlog; a DBA can run: GRANT REPLICATION SLAVE ON *.* TO '${noSlave}'@'%';`,
      );
      expect(bridge.output()).not.toMatch(/snapshot/);
    }
    const doctor = await runCli(['doctor', '-c', setup.configPath]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/capture method log \(row binlog\): capture: log in the config, but: .*lacks REPLICATION SLAVE/);
    expect(doctor.stdout).toMatch(new RegExp(`FAIL ${noSlave}@% lacks REPLICATION SLAVE`));
    expect(doctor.stdout).toContain(`GRANT REPLICATION SLAVE ON *.* TO '${noSlave}'@'%';`);

    // No SELECT on the mapped table: the table is not even visible to the account.
    const noSelect = await createReader(db.server, 'mysql', 'nosel');
    const setup2 = files(ws, db.server.url(noSelect.user, noSelect.password, 'legacy'), 'my_nosel');
    await using bridge2 = startBridgeProcess(['run', '-c', setup2.configPath]);
    await bridge2.waitForOutput(/retryInMs/, 'the failed attempt');
    expect(errorLines(bridge2.output())[0]!.msg).toMatch(/ITEMS\.yaml: table legacy\.items not found in mysql 127\.0\.0\.1:\d+\/legacy .*may not SELECT/);
  });

  it('a binlog that is not row-based: says so plainly in run and doctor', async () => {
    using ws = workspace();
    const setup = files(ws, db.readerUrl, 'my_stmt');
    await db.server.query(`SET GLOBAL binlog_format = 'STATEMENT'`);
    try {
      {
        await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
        await bridge.waitForOutput(/retryInMs/, 'the failed attempt');
        const [line] = errorLines(bridge.output());
        expect(line).toMatchObject({ code: 'SOURCE_STATE' });
        expect(line!.msg).toMatch(
          /^mysql 127\.0\.0\.1:\d+\/legacy: log capture is not possible: binlog_format is STATEMENT; row capture needs ROW \(SET GLOBAL binlog_format = 'ROW'.*polling \(capture: poll\), is not available yet/,
        );
      }
      const doctor = await runCli(['doctor', '-c', setup.configPath]);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(/FAIL binlog_format is STATEMENT/);
      expect(doctor.stdout).toContain("SET GLOBAL binlog_format = 'ROW';");
    } finally {
      await db.server.query(`SET GLOBAL binlog_format = 'ROW'`);
    }
  });

  it('a resume point whose binlog was purged: names the position and the remedy, skips nothing, and a new snapshot recovers', async () => {
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    const setup = files(ws, db.readerUrl, 'my_purged');
    const entity = `${setup.prefix}.src.item.`;
    {
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      await waitForStream(natsUrl, setup.stream, (all) => under(all, entity).length >= 2, 'the snapshot');
      expect(await bridge.stop()).toBe(0);
    }
    await using session = await mysqlSession(db.rootUrl);
    await session.query(`INSERT INTO items VALUES (3, 'lost from the log')`);
    await session.query('FLUSH BINARY LOGS');
    const current = (await session.query<Array<{ File: string }>>('SHOW MASTER STATUS'))[0]!.File;
    // The server keeps a file a binlog dump still reads: purge once the stopped bridge's is gone.
    await waitFor(
      async () => {
        await session.query(`PURGE BINARY LOGS TO '${current}'`);
        const files = await session.query<Array<{ Log_name: string }>>('SHOW BINARY LOGS');
        return files.every((f) => f.Log_name >= current);
      },
      { what: `the binlogs before ${current} to be purged`, timeoutMs: 10_000, intervalMs: 100 },
    );
    {
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/retryInMs/, 'the failed attempt');
      const [line] = errorLines(bridge.output());
      expect(line).toMatchObject({ code: 'SOURCE_STATE' });
      expect(line!.msg).toMatch(/the binlog at the resume point binlog\.000001:\d+ \(GTID 0-1-\d+\) is no longer on the server/);
      expect(line!.msg).toContain('nats kv del');
      expect(line!.msg).toContain('mysql.src');
      expect(bridge.output()).not.toMatch(/streaming changes/);
    }
    // The remedy it names: forget the position, start again: a new snapshot has row 3.
    await withNats(natsUrl, async (nc) => (await new Kvm(nc).open(setup.bucket)).delete('mysql.src'));
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream again');
    const messages = await waitForStream(natsUrl, setup.stream, (all) => liveRows(all, entity).has(`${entity}3`), 'row 3 from the new snapshot');
    expect(liveRows(messages, entity).get(`${entity}3`)).toEqual({ id: 3, label: 'lost from the log' });
    expect(await bridge.stop()).toBe(0);
  });
});
