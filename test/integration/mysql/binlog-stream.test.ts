// The binlog reader on its own, against MariaDB: transactions that start with BEGIN instead of
// a GTID event (what a server without GTID events sends, here MariaDB without the GTID
// capability), resume by file:pos at a commit point, and the checkpoint after each commit.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BinlogStream } from '../../../capture/mysql/binlog-stream.ts';
import { loadTables, readCollations } from '../../../capture/mysql/catalog.ts';
import { connectMysql } from '../../../capture/mysql/connection.ts';
import type { BinlogPoint } from '../../../capture/mysql/position.ts';
import type { Mapping } from '../../../src/mapping/types.ts';
import type { ChangeBatch, RawChange } from '../../../src/ports.ts';
import { legacyMariadb, mysqlSession } from './helpers.ts';

async function collect(stream: BinlogStream, count: number): Promise<{ changes: RawChange[]; checkpoints: BinlogPoint[] }> {
  const controller = new AbortController();
  const changes: RawChange[] = [];
  const checkpoints: BinlogPoint[] = [];
  const timeout = setTimeout(() => controller.abort(), 20_000);
  try {
    for await (const batch of stream.changes(controller.signal) as AsyncIterable<ChangeBatch<BinlogPoint>>) {
      changes.push(...batch.changes);
      if (batch.checkpoint) checkpoints.push(batch.checkpoint);
      if (changes.length >= count && batch.checkpoint) break;
    }
  } finally {
    clearTimeout(timeout);
    await stream.close();
  }
  return { changes, checkpoints };
}

describe('binlog stream (transactions started by BEGIN, resume by file:pos)', () => {
  it('groups changes by transaction, positions them at BEGIN, and resumes at a commit point', async () => {
    await using db = await legacyMariadb();
    await using session = await mysqlSession(db.rootUrl);
    await session.query(`CREATE TABLE t (id int PRIMARY KEY, v varchar(10))`);
    const [head] = await session.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');
    await session.transaction([`INSERT INTO t VALUES (1, 'a'), (2, 'b')`, `UPDATE t SET v = 'bb' WHERE id = 2`]);
    const [middle] = await session.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');
    await session.query(`DELETE FROM t WHERE id = 1`);
    const [end] = await session.query<Array<{ File: string; Position: number }>>('SHOW MASTER STATUS');

    const catalog = await connectMysql(db.readerUrl, 'test');
    try {
      const mapping = { table: 'legacy.t', schema: 'legacy', tableName: 't', file: 'T.yaml' } as Mapping;
      const table = (await loadTables(catalog, [mapping], 'test')).get('legacy.t')!;
      const collations = await readCollations(catalog);
      const open = (from: BinlogPoint) =>
        new BinlogStream({
          url: db.readerUrl,
          where: 'test',
          // As a MySQL source: no GTID capability, so MariaDB sends BEGIN where its GTID events were.
          flavor: 'mysql',
          from,
          useGtid: false,
          serverId: 4242,
          tables: new Map([['legacy.t', { table, keyColumns: ['id'] }]]),
          catalog,
          collations,
          rowMetadata: 'FULL',
          resnapshotHint: '',
          log: pino({ level: 'silent' }),
        });

      const all = await collect(open({ file: head!.File, pos: Number(head!.Position) }), 4);
      expect(all.changes.map((c) => `${c.op} ${c.keyRow?.id}`)).toEqual(['c 1', 'c 2', 'u 2', 'd 1']);
      const offset = (p: number) => String(p).padStart(10, '0');
      // The first transaction starts at the BEGIN written right at the old binlog end.
      expect(all.changes.slice(0, 3).map((c) => c.position)).toEqual([1, 2, 3].map((i) => `0000000001-${offset(Number(head!.Position))}-0000000${i}`));
      expect(all.changes[3]!.position).toBe(`0000000001-${offset(Number(middle!.Position))}-00000001`);
      expect(all.changes[2]!.before).toEqual({ id: '2', v: 'b' });
      expect(all.checkpoints.at(-1)).toMatchObject({ file: end!.File, pos: Number(end!.Position) });
      // Checkpoints only at commit points (a backlog's small transactions may share a batch,
      // so the first commit point need not have its own).
      for (const p of all.checkpoints) expect([Number(middle!.Position), Number(end!.Position)]).toContain(p.pos);

      // From the first commit point on, only the second transaction comes, with the same position.
      const rest = await collect(open({ file: middle!.File, pos: Number(middle!.Position) }), 1);
      expect(rest.changes.map((c) => `${c.op} ${c.keyRow?.id} ${c.position}`)).toEqual([`d 1 ${all.changes[3]!.position}`]);
    } finally {
      await catalog.end();
    }
  });
});
