// The test harness itself: the launchers start real servers configured the way the CDC tests
// need them, restart them with their data, and leave nothing behind.
import { existsSync, readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { dirname } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase, sharedNatsUrl, sharedPgSuperuserUrl, uniqueName } from '../../support/context.ts';
import { startNatsProcess } from '../../../src/servers/index.ts';
import { pgQuery } from '../../support/pg-access.ts';
import { freePort, startMariadb, startNats, startPostgres, waitFor } from '../../support/servers.ts';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startPostgres', () => {
  it('runs with wal_level=logical, pgoutput slots and password auth on 127.0.0.1', async () => {
    await using postgres = await startPostgres();
    expect(postgres.host).toBe('127.0.0.1');
    const [settings] = await postgres.query<{ wal_level: string; listen: string }>(
      "SELECT current_setting('wal_level') AS wal_level, current_setting('listen_addresses') AS listen",
    );
    expect(settings).toEqual({ wal_level: 'logical', listen: '127.0.0.1' });

    const url = await postgres.createDatabase('harness');
    await postgres.query('CREATE TABLE item (id int PRIMARY KEY, name text)', [], 'harness');
    await postgres.query('CREATE PUBLICATION harness_pub FOR TABLE item', [], 'harness');
    await postgres.query("SELECT pg_create_logical_replication_slot('harness_slot', 'pgoutput')", [], 'harness');
    await postgres.query("INSERT INTO item VALUES (1, 'bolt')", [], 'harness');
    const changes = await postgres.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_logical_slot_peek_binary_changes('harness_slot', NULL, NULL,
         'proto_version', '1', 'publication_names', 'harness_pub')`,
      [],
      'harness',
    );
    // BEGIN, RELATION, INSERT, COMMIT
    expect(Number(changes[0]!.n)).toBeGreaterThanOrEqual(4);

    const wrongPassword = new pg.Client({ connectionString: postgres.url('postgres', 'wrong', 'harness') });
    wrongPassword.on('error', () => undefined);
    await expect(wrongPassword.connect()).rejects.toThrow(/password authentication failed/);
    expect(url).toBe(postgres.superuserUrl('harness'));
  });

  it('keeps its data and port across stop/start and kill/start, and removes its dir at dispose', async () => {
    let dir: string;
    let port: number;
    {
      await using postgres = await startPostgres();
      ({ port } = postgres);
      dir = dirname(postgres.dataDir);
      await postgres.query('CREATE TABLE survivor (id int)');
      await postgres.query('INSERT INTO survivor VALUES (1)');
      await postgres.stop();
      expect(await accepts(port)).toBe(false);
      await postgres.start();
      await postgres.query('INSERT INTO survivor VALUES (2)');
      // A crash: acknowledged commits must survive it (synchronous_commit stays on).
      await postgres.kill();
      expect(await accepts(port)).toBe(false);
      await postgres.start();
      expect(postgres.port).toBe(port);
      const rows = await postgres.query<{ id: number }>('SELECT id FROM survivor ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([1, 2]);
    }
    expect(existsSync(dir)).toBe(false);
    expect(await accepts(port)).toBe(false);
  });
});

describe('startNats', () => {
  it('answers JetStream, and a stream survives stop/start and kill/start on the same store dir', async () => {
    await using nats = await startNats();
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    const stream = uniqueName('harness');
    {
      await using nc = await connect({ servers: nats.url, reconnect: false });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      const ack = await jetstream(nc).publish(`${stream}.one`, 'payload');
      expect(ack.seq).toBe(1);
    }
    for (const restart of [() => nats.stop(), () => nats.kill()]) {
      await restart();
      expect(await accepts(nats.port)).toBe(false);
      await nats.start();
      await using nc = await connect({ servers: nats.url, reconnect: false });
      const info = await (await jetstreamManager(nc)).streams.info(stream);
      expect(info.state.messages).toBe(1);
    }
  });
});

describe('startNatsProcess', () => {
  it('runs nats-server with the GOMAXPROCS it was given, after a restart too, and leaves it alone otherwise', async () => {
    const environ = (pid: number | undefined): string[] => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    await using one = await startNatsProcess({ goMaxProcs: 1 });
    expect(environ(one.pid)).toContain('GOMAXPROCS=1');
    await one.stop();
    await one.start();
    expect(environ(one.pid)).toContain('GOMAXPROCS=1');
    await using plain = await startNatsProcess();
    expect(environ(plain.pid).filter((v) => v.startsWith('GOMAXPROCS='))).toEqual(process.env.GOMAXPROCS === undefined ? [] : [`GOMAXPROCS=${process.env.GOMAXPROCS}`]);
  });
});

describe('startMariadb', () => {
  it('writes a full-row ROW binlog and keeps data across kill/start', async () => {
    await using mariadb = await startMariadb();
    const variables = await mariadb.query<Array<{ Variable_name: string; Value: string }>>(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', 'bind_address')",
    );
    expect(Object.fromEntries(variables.map((v) => [v.Variable_name, v.Value]))).toEqual({
      bind_address: '127.0.0.1',
      log_bin: 'ON',
      binlog_format: 'ROW',
      binlog_row_image: 'FULL',
    });
    await mariadb.query('CREATE DATABASE harness');
    await mariadb.query('CREATE TABLE harness.item (id int PRIMARY KEY)');
    await mariadb.query('INSERT INTO harness.item VALUES (?)', [7]);
    await mariadb.kill();
    await mariadb.start();
    const rows = await mariadb.query<Array<{ id: number }>>('SELECT id FROM item', [], 'harness');
    expect(rows).toEqual([{ id: 7 }]);
  });
});

describe('shared servers (global setup)', () => {
  it('gives each test its own database and drops it with its replication slots', async () => {
    let name: string;
    {
      await using db = await freshDatabase('harness');
      ({ name } = db);
      await db.query('CREATE TABLE item (id int PRIMARY KEY)');
      await db.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [uniqueName('slot')]);
      const reader = await db.createRole('reader');
      const client = new pg.Client({ connectionString: reader.url });
      await client.connect();
      // Left open on purpose: dispose must end it.
      expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe(reader.name);
      client.on('error', () => undefined);
    }
    const left = await pgQuery<{ dbs: number; slots: number }>(
      sharedPgSuperuserUrl(),
      `SELECT (SELECT count(*) FROM pg_database WHERE datname = $1)::int AS dbs,
              (SELECT count(*) FROM pg_replication_slots WHERE database = $1)::int AS slots`,
      [name],
    );
    expect(left[0]).toEqual({ dbs: 0, slots: 0 });
  });

  it('shares a JetStream-enabled nats-server', async () => {
    await using nc = await connect({ servers: sharedNatsUrl() });
    const info = await (await jetstreamManager(nc)).getAccountInfo();
    // Other test files share this server (and some of their API calls fail on purpose, e.g.
    // looking up a stream that does not exist yet), so only that it answers is asserted.
    expect(info.api.total).toBeGreaterThan(0);
    expect(info.limits).toBeDefined();
  });

  it('names are unique and valid identifiers', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName('Some-Prefix.that is long'.repeat(4))));
    expect(names.size).toBe(100);
    for (const name of names) expect(name).toMatch(/^[a-z0-9_]{1,63}$/);
  });
});

describe('helpers', () => {
  it('waitFor names what it waited for when the deadline passes', async () => {
    const port = await freePort();
    await expect(
      waitFor(() => accepts(port), { what: `a listener on port ${port}`, timeoutMs: 200, intervalMs: 20 }),
    ).rejects.toThrow(`waiting for a listener on port ${port}`);
  });
});
