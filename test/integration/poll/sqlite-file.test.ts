// Polling a SQLite file (better-sqlite3, read-only): rows as r, then inserts, updates and
// deletes while another connection writes the file, and an idle pass that reads no rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, inject, it } from 'vitest';
import { uniqueName } from '../../support/context.ts';
import { under, waitForStream } from '../../support/pg-helpers.ts';
import { startPollBridge } from '../../support/poll-harness.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';

const MAPPING = `
table: main.culverts
entity: culvert
fields:
  id:    { from: ID, type: bigint }
  label: { from: LABEL, type: string }
  span:  { from: SPAN, type: string }
  blob:  { from: DATA, type: bytes }
`;

describe('poll: sqlite file', () => {
  it('finds inserts, updates and deletes in a SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poll-sqlite-'));
    const file = join(dir, 'legacy.db');
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE culverts (ID INTEGER PRIMARY KEY, LABEL TEXT, SPAN REAL, DATA BLOB)`);
      const insert = db.prepare('INSERT INTO culverts VALUES (?, ?, ?, ?)');
      db.transaction(() => {
        for (let i = 1; i <= 40; i++) insert.run(i, `c${i}`, i / 4, Buffer.from([i]));
      })();
      insert.run(9007199254740993n, 'big', 0.1, null);

      await using bridge = await startPollBridge({
        natsUrl: inject('natsUrl'),
        id: uniqueName('pollsqlite'),
        source: { name: 'files', kind: 'sqlite', url: `sqlite:${file}`, path: file },
        mappings: { 'CULVERTS.yaml': MAPPING },
        poll: { intervalMs: 100, chunkSize: 10 },
      });
      const entity = `${bridge.prefix}.files.culvert.`;
      let messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 41, '41 r envelopes');
      expect(under(messages, entity).find((m) => m.body.key.id === '9007199254740993')!.body.after).toEqual({
        id: '9007199254740993',
        label: 'big',
        span: '0.1',
        blob: null,
      });
      expect(under(messages, entity).find((m) => m.body.key.id === '4')!.body.after).toEqual({ id: '4', label: 'c4', span: '1', blob: 'BA==' });

      await bridge.waitForPasses(bridge.passes() + 2);
      expect(bridge.source.stats!.last).toMatchObject({ rowsRead: 0, rowQueries: 0, checksumQueries: 1 });

      db.prepare('UPDATE culverts SET LABEL = ? WHERE ID = 5').run('five');
      db.prepare('DELETE FROM culverts WHERE ID IN (20, 21)').run();
      insert.run(41, 'c41', 10.25, Buffer.from('hi'));
      messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 45, '4 change envelopes');
      expect(under(messages, entity).slice(41).map((m) => `${m.body.op} ${m.body.key.id}`).sort()).toEqual(['c 41', 'd 20', 'd 21', 'u 5']);
      expect(streamProblems(messages, entity)).toEqual([]);
      const rows = db.prepare('SELECT ID, LABEL FROM culverts').safeIntegers(true).all() as Array<{ ID: bigint; LABEL: string }>;
      expect([...liveRows(messages, entity).values()].map((a) => `${a.id} ${a.label}`).sort()).toEqual(rows.map((r) => `${r.ID} ${r.LABEL}`).sort());
      await bridge.stop();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a table whose name holds a double quote and a space', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poll-sqlite-'));
    const file = join(dir, 'legacy.db');
    const db = new Database(file);
    try {
      db.exec(`CREATE TABLE "old ""A"" culverts" ("ID" INTEGER PRIMARY KEY, "LA""BEL" TEXT)`);
      const insert = db.prepare(`INSERT INTO "old ""A"" culverts" VALUES (?, ?)`);
      for (let i = 1; i <= 3; i++) insert.run(i, `c${i}`);
      await using bridge = await startPollBridge({
        natsUrl: inject('natsUrl'),
        id: uniqueName('pollsqlitequoted'),
        source: { name: 'files', kind: 'sqlite', url: `sqlite:${file}`, path: file },
        mappings: { 'CULVERTS.yaml': `table: 'main.old "A" culverts'\nentity: culvert\nfields:\n  id: { from: ID, type: bigint }\n  label: { from: 'LA"BEL', type: string }\n` },
        poll: { intervalMs: 100, chunkSize: 10 },
      });
      const entity = `${bridge.prefix}.files.culvert.`;
      const messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 3, '3 r envelopes');
      expect(under(messages, entity).map((m) => `${m.body.op} ${m.body.after.id} ${m.body.after.label}`).sort()).toEqual(['r 1 c1', 'r 2 c2', 'r 3 c3']);
      await bridge.stop();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
