// The polling engine over an in-process SQLite database and an in-memory OffsetStore (the
// port the bridge backs with a NATS KV bucket): bisection cost, chunk splits and merges, entry
// sizes, lost entries, a held change forced out by a split, and a pass cut short by a crash
// repeated under the same positions.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PollEngine, type PollCheckpoint } from '../../../capture/poll/engine.ts';
import { sqliteDialect } from '../../../capture/poll/dialects/sqlite.ts';
import { pollTable, POLL_DEFAULTS } from '../../../capture/poll/poll-source.ts';
import { QueryPool } from '../../../capture/poll/query-pool.ts';
import { RowHasher } from '../../../capture/poll/row-hash.ts';
import { PollStateStore } from '../../../capture/poll/state.ts';
import { createLogger } from '../../../src/log.ts';
import { parseMapping } from '../../../src/mapping/index.ts';
import type { OffsetStore, RawChange } from '../../../src/ports.ts';

const MAPPING = parseMapping(
  'ITEMS.yaml',
  `table: main.items
entity: item
fields:
  id:   { from: id, type: integer }
  name: { from: name }
`,
).mapping!;

class MemoryOffsets implements OffsetStore {
  readonly data = new Map<string, string>();
  async get<T>(key: string): Promise<T | undefined> {
    const value = this.data.get(key);
    return value === undefined ? undefined : (JSON.parse(value) as T);
  }
  async put(key: string, value: unknown): Promise<void> {
    this.data.set(key, JSON.stringify(value));
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
}

interface Engine {
  engine: PollEngine;
  /** One full pass; commits every batch unless `commitBatches` says how many to commit. */
  pass(options?: { commitBatches?: number; kind?: 'full' | 'held' }): Promise<RawChange[]>;
  close(): Promise<void>;
}

let dir: string;
let file: string;
let db: Database.Database;
let offsets: MemoryOffsets;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'poll-engine-'));
  file = join(dir, 'legacy.db');
  db = new Database(file);
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)');
  offsets = new MemoryOffsets();
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function insert(from: number, to: number, name = 'n'): void {
  const statement = db.prepare('INSERT INTO items VALUES (?, ?)');
  db.transaction(() => {
    for (let i = from; i <= to; i++) statement.run(i, `${name}${i}`);
  })();
}

async function engine(options: { chunkSize?: number; debounceMs?: number; concurrency?: number; groupChunks?: number; fanout?: number; maxEntryBytes?: number } = {}): Promise<Engine> {
  const dialect = sqliteDialect(file);
  const pool = new QueryPool(dialect, options.concurrency ?? 1, { statementTimeoutMs: 5000 });
  const catalog = await pool.use((c) => c.describe([MAPPING]));
  const table = pollTable(MAPPING, catalog.get('main.items')!);
  const e = new PollEngine(dialect.sql, pool, new PollStateStore(offsets, 'src'), await RowHasher.create(), {
    sourceName: 'src',
    chunkSize: options.chunkSize ?? 10,
    debounceMs: options.debounceMs ?? 0,
    concurrency: options.concurrency ?? 1,
    groupChunks: options.groupChunks ?? POLL_DEFAULTS.groupChunks,
    fanout: options.fanout ?? POLL_DEFAULTS.fanout,
    maxEntryBytes: options.maxEntryBytes ?? POLL_DEFAULTS.maxEntryBytes,
    defaultSweepMs: POLL_DEFAULTS.sweepMs,
    log: createLogger('silent'),
  });
  await e.load([table], new Map());
  return {
    engine: e,
    async pass({ commitBatches, kind = 'full' } = {}) {
      const changes: RawChange[] = [];
      let batches = 0;
      const checkpoints: PollCheckpoint[] = [];
      for await (const batch of e.pass(kind, new AbortController().signal)) {
        changes.push(...batch.changes);
        if (batch.checkpoint) checkpoints.push(batch.checkpoint);
        batches += 1;
      }
      const upTo = commitBatches === undefined ? checkpoints.at(-1) : checkpoints[commitBatches - 1];
      if (upTo) await e.commit(upTo);
      expect(batches).toBeGreaterThanOrEqual(0);
      return changes;
    },
    close: () => pool.close(),
  };
}

const summary = (changes: RawChange[]): string[] => changes.map((c) => `${c.op} ${c.keyRow!.id}`);

describe('PollEngine', () => {
  it('bisects down to the one chunk that moved: log-many checksums, one chunk read', async () => {
    insert(1, 640);
    const e = await engine({ chunkSize: 10, groupChunks: 64, fanout: 4 });
    expect(await e.pass()).toHaveLength(640);
    expect(e.engine.stats.chunks).toBe(64);
    await e.pass();
    expect(e.engine.stats.last).toMatchObject({ checksumQueries: 1, rowsRead: 0 });

    db.prepare(`UPDATE items SET name = 'x' WHERE id = 333`).run();
    expect(summary(await e.pass())).toEqual(['u 333']);
    // 1 (64 chunks) + 4 (16 each) + 4 (4 each) + 4 (1 each) checksums, then 10 rows of one chunk.
    expect(e.engine.stats.last).toMatchObject({ checksumQueries: 13, rowQueries: 1, rowsRead: 10, chunksRead: 1 });
    await e.close();
  });

  it('gives the same result with concurrent checksums', async () => {
    insert(1, 300);
    const e = await engine({ chunkSize: 10, concurrency: 3, groupChunks: 8, fanout: 2 });
    await e.pass();
    db.prepare(`DELETE FROM items WHERE id IN (5, 150, 299)`).run();
    db.prepare(`UPDATE items SET name = 'y' WHERE id IN (77, 201)`).run();
    expect(summary(await e.pass()).sort()).toEqual(['d 150', 'd 299', 'd 5', 'u 201', 'u 77']);
    await e.pass();
    expect(e.engine.stats.last).toMatchObject({ rowsRead: 0, changes: 0 });
    await e.close();
  });

  it('splits a chunk that grew past twice the chunk size and merges chunks that emptied', async () => {
    insert(1, 30);
    const e = await engine({ chunkSize: 10 });
    await e.pass();
    expect(e.engine.stats.chunks).toBe(3);
    // 35 new keys between 10 and 11: they land in the second chunk's range (10, 20].
    db.exec('ALTER TABLE items RENAME TO old_items');
    db.exec('CREATE TABLE items (id REAL PRIMARY KEY, name TEXT)');
    db.exec('INSERT INTO items SELECT * FROM old_items');
    const statement = db.prepare('INSERT INTO items VALUES (?, ?)');
    for (let i = 1; i <= 35; i++) statement.run(10 + i / 100, 'mid');
    expect(await e.pass()).toHaveLength(35);
    expect(e.engine.stats.chunks).toBe(7); // (10, 20] held 45 rows: cut into 10+10+10+10+5
    await e.pass();
    expect(e.engine.stats.last).toMatchObject({ rowsRead: 0 });

    db.exec('DELETE FROM items WHERE id > 20');
    db.exec('DELETE FROM items WHERE id <= 10');
    expect(await e.pass()).toHaveLength(20);
    expect(e.engine.stats.chunks).toBeLessThan(7);
    await e.pass();
    expect(e.engine.stats.last).toMatchObject({ rowsRead: 0, changes: 0 });
    // Rows come back on both sides: the merged chunks still cover the whole key space.
    statement.run(-5, 'low');
    statement.run(500, 'high');
    expect(summary(await e.pass()).sort()).toEqual(['c -5', 'c 500']);
    await e.close();
  });

  it('keeps every chunk entry under the KV value limit', async () => {
    const statement = db.prepare('INSERT INTO items VALUES (?, ?)');
    for (let i = 1; i <= 200; i++) statement.run(i, 'x'.repeat(20));
    const e = await engine({ chunkSize: 100, maxEntryBytes: 600 });
    await e.pass();
    const entries = [...offsets.data].filter(([k]) => /\.c\.\d+$/.test(k));
    expect(entries.length).toBeGreaterThan(2);
    for (const [, value] of entries) expect(value.length).toBeLessThanOrEqual(600 + 20);
    expect(e.engine.stats.chunks).toBe(entries.length);
    await e.close();
  });

  it('writes state only when a checkpoint is committed', async () => {
    insert(1, 20);
    const e = await engine({ chunkSize: 10 });
    await e.pass({ commitBatches: 0 });
    expect([...offsets.data.keys()].filter((k) => k.includes('.c.'))).toEqual([]);
    await e.close();
  });

  it('sends every row of a chunk whose entry was lost as r once the chunk moves', async () => {
    insert(1, 30);
    const e = await engine({ chunkSize: 10 });
    await e.pass();
    await e.close();
    const entry = [...offsets.data.keys()].filter((k) => /\.c\.\d+$/.test(k)).sort()[1]!;
    offsets.data.delete(entry);
    db.prepare(`UPDATE items SET name = 'z' WHERE id = 15`).run();
    const again = await engine({ chunkSize: 10 });
    const changes = await again.pass();
    expect(changes.every((c) => c.op === 'r')).toBe(true);
    expect(summary(changes).map((s) => Number(s.slice(2))).sort((a, b) => a - b)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(changes.find((c) => c.keyRow!.id === '15')!.row!.name).toBe('z');
    await again.close();
  });

  it('holds a change for the debounce window, but sends it at once when its chunk must be split', async () => {
    insert(1, 30);
    const e = await engine({ chunkSize: 10, debounceMs: 60_000 });
    await e.pass();
    db.prepare(`UPDATE items SET name = 'held' WHERE id = 5`).run();
    expect(await e.pass()).toEqual([]);
    expect(e.engine.stats.held).toBe(1);
    // The first chunk (-inf, 10] fills past 20 rows: it is split, and what it holds goes out now.
    db.exec('ALTER TABLE items RENAME TO old_items');
    db.exec('CREATE TABLE items (id REAL PRIMARY KEY, name TEXT)');
    db.exec('INSERT INTO items SELECT * FROM old_items');
    const statement = db.prepare('INSERT INTO items VALUES (?, ?)');
    for (let i = 1; i <= 15; i++) statement.run(-i, 'neg');
    const changes = await e.pass();
    expect(changes.find((c) => c.keyRow!.id === '5')).toMatchObject({ op: 'u', row: { name: 'held' } });
    expect(changes.filter((c) => c.op === 'c')).toHaveLength(15);
    expect(e.engine.stats.held).toBe(0);
    await e.close();
  });

  it('repeats a pass cut short by a crash under the same positions', async () => {
    insert(1, 50);
    const first = await engine({ chunkSize: 10 });
    await first.pass();
    await first.close();
    db.prepare(`UPDATE items SET name = 'a' WHERE id IN (3, 23, 43)`).run();

    // This bridge sends the pass but dies after the first chunk's batch was acknowledged.
    const crashed = await engine({ chunkSize: 10 });
    const sent = await crashed.pass({ commitBatches: 1 });
    expect(summary(sent)).toEqual(['u 3', 'u 23', 'u 43']);
    await crashed.close();

    const restarted = await engine({ chunkSize: 10 });
    const again = await restarted.pass();
    // Key 3 was committed; 23 and 43 go again, with the positions (so the ids) they had.
    expect(summary(again)).toEqual(['u 23', 'u 43']);
    expect(again.map((c) => c.position)).toEqual(sent.slice(1).map((c) => c.position));
    await restarted.pass();
    expect(restarted.engine.stats.last).toMatchObject({ rowsRead: 0, changes: 0 });
    await restarted.close();
  });

  it('resumes a first read cut short after the last chunk it recorded, under the same positions', async () => {
    insert(1, 60);
    const crashed = await engine({ chunkSize: 10 });
    const sent = await crashed.pass({ commitBatches: 2 });
    expect(sent).toHaveLength(60);
    await crashed.close();

    const restarted = await engine({ chunkSize: 10 });
    const again = await restarted.pass();
    expect(again.every((c) => c.op === 'r')).toBe(true);
    // Rows after the recorded cursor again, each at the position it had before.
    const before = new Map(sent.map((c) => [c.keyRow!.id, c.position]));
    expect(again.length).toBeGreaterThanOrEqual(40);
    expect(again.length).toBeLessThan(60);
    for (const change of again) expect(change.position).toBe(before.get(change.keyRow!.id));
    await restarted.pass();
    expect(restarted.engine.stats.last).toMatchObject({ rowsRead: 0, changes: 0 });
    await restarted.close();
  });
});
